"""Peer engines a user would pick instead, wrapped for the harness.

- :class:`TesseractReader`: Tesseract 5 CLI (``-l chi_sim+eng``, Debian packages
  ``tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng``), one process per
  image, so its times include process start and model load; the report also
  gives that start-up cost measured on a blank image.
- :class:`RapidOcrReader`: PP-OCRv4 through the ``rapidocr_onnxruntime`` wheel,
  which carries its ONNX models. Install it only in the benchmark environment
  (``tools/bench_env.sh``), never in the serving one.
- :class:`OursReader`: this project's engine, same interface.

Example:
    >>> TesseractReader.available()  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any

import cv2
import numpy as np


class TesseractReader:
    """Tesseract 5 through its command line (stdin PNG, stdout text).

    Args:
        langs: ``-l`` value.
        threads: ``OMP_THREAD_LIMIT`` for the process (1: one core, like ours).
    """

    name = "Tesseract 5 (chi_sim+eng)"

    def __init__(self, langs: str = "chi_sim+eng", threads: int = 1) -> None:
        self.exe = shutil.which("tesseract")
        if self.exe is None:
            raise RuntimeError("tesseract not found: apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng")
        self.langs = langs
        self.env = {**os.environ, "OMP_THREAD_LIMIT": str(threads)}
        out = subprocess.run([self.exe, "--version"], capture_output=True, text=True, check=False)
        first = (out.stdout or out.stderr).splitlines()[:1]
        self.version = first[0] if first else "tesseract"

    @staticmethod
    def available() -> bool:
        """True when the ``tesseract`` binary is on PATH."""
        return shutil.which("tesseract") is not None

    def _run(self, image: np.ndarray, psm: int) -> str:
        png = cv2.imencode(".png", image)[1].tobytes()
        out = subprocess.run(
            [self.exe, "stdin", "stdout", "-l", self.langs, "--psm", str(psm)],
            input=png, capture_output=True, env=self.env, check=False,
        )
        return out.stdout.decode("utf-8", errors="replace")

    def startup_ms(self, repeats: int = 3) -> float:
        """Median time of a run on a tiny blank image (process start + model load)."""
        blank = np.full((32, 32), 255, np.uint8)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            self._run(blank, 7)
            times.append((time.perf_counter() - t0) * 1000.0)
        return float(np.median(times))

    def read_line(self, image: np.ndarray) -> str:
        """``--psm 7``: treat the image as a single text line."""
        return " ".join(self._run(image, 7).split())

    def read_page(self, image: np.ndarray) -> list[str]:
        """``--psm 3``: automatic page segmentation; one entry per non-empty line."""
        return [" ".join(line.split()) for line in self._run(image, 3).splitlines() if line.strip()]


class RapidOcrReader:
    """PP-OCRv4 (det + cls + rec ONNX models) through ``rapidocr_onnxruntime``."""

    name = "PP-OCRv4 (rapidocr_onnxruntime)"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR  # benchmark environment only

        kw: dict[str, Any] = {}
        if threads > 0:
            kw = {f"{p}intra_op_num_threads": threads for p in ("", "det_", "cls_", "rec_")}
            kw.update({f"{p}inter_op_num_threads": 1 for p in ("", "det_", "cls_", "rec_")})
        try:
            self.engine = RapidOCR(**kw)
        except (TypeError, KeyError):
            self.engine = RapidOCR()

    @staticmethod
    def available() -> bool:
        """True when ``rapidocr_onnxruntime`` can be imported."""
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True

    def read_line(self, image: np.ndarray) -> str:
        """Recognition only (with the 0/180° classifier), like our line mode."""
        result, _ = self.engine(image, use_det=False, use_cls=True, use_rec=True)
        if not result:
            return ""
        return " ".join(str(r[0]) for r in result if r and r[0])

    def read_page(self, image: np.ndarray) -> list[str]:
        """Full pipeline; lines as RapidOCR orders them."""
        result, _ = self.engine(image)
        return [str(r[1]) for r in (result or []) if r[1]]


class OursReader:
    """This project's :class:`~ocr_engine.engine.OcrEngine` behind the same interface."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        info = engine.model_info()
        self.name = f"ours ({info['name']} {info['version']}, {info['path']})"

    def read_line(self, image: np.ndarray) -> str:
        """Recognise a crop directly (no detection), like the other engines' line mode."""
        return self.engine.recognizer.recognize_one(image).text

    def read_page(self, image: np.ndarray) -> list[str]:
        """The full pipeline."""
        return [line.text for line in self.engine.run_array(image).lines]
