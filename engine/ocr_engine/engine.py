"""The OCR engine: decode -> preprocess -> find lines -> recognise -> :class:`OcrResult`.

Create one :class:`OcrEngine` per process (it owns the onnxruntime session) and
call :meth:`OcrEngine.run` for each image.

Example:
    >>> from ocr_engine.config import OcrConfig  # doctest: +SKIP
    >>> engine = OcrEngine.from_config(OcrConfig.from_env())  # doctest: +SKIP
    >>> result = engine.run(open("receipt.jpg", "rb").read())  # doctest: +SKIP
    >>> print(result.text)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import cv2
import numpy as np

from ocr_engine.config import TEXT_DIRECTIONS, OcrConfig
from ocr_engine.detection import MorphologyDetector, TextBox, TextDetector, WholeImageDetector, crop_box
from ocr_engine.detection.vertical import Cell, column_to_line, line_x_to_column_y
from ocr_engine.errors import InvalidInput
from ocr_engine.image.decode import decode_image, to_bgr8
from ocr_engine.preprocess import adaptive_threshold, preprocess_page
from ocr_engine.recognition import LineResult, Recognizer
from ocr_engine.schema import Char, Line, ModelInfo, OcrResult


def _affine(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to ``[N, 2]`` points."""
    return points @ m[:, :2].T + m[:, 2]


# A page turned 90° must read this many times better (confidence x characters) to be kept.
SIDEWAYS_GAIN = 1.5


def page_score(result: OcrResult) -> float:
    """How much confident text a reading found: the sum of confidence x characters."""
    return sum(line.confidence * len(line.text) for line in result.lines)


def page_confidence(result: OcrResult) -> float:
    """Mean line confidence weighted by characters (0 for no lines)."""
    chars = sum(len(line.text) for line in result.lines)
    return page_score(result) / chars if chars else 0.0


def _from_clockwise(h: int) -> np.ndarray:
    """Affine map from an image turned 90° clockwise back to the image (``h``: its height)."""
    return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, float(h)]])


def _from_counterclockwise(w: int) -> np.ndarray:
    """Affine map from an image turned 90° counter-clockwise back to the image (``w``: its width)."""
    return np.array([[0.0, -1.0, float(w)], [1.0, 0.0, 0.0]])


def _map_line(line: Line, m: np.ndarray) -> Line:
    """A line with its box and character centres mapped by the affine ``m``."""
    box = _affine(np.asarray(line.box, np.float64), m)
    chars = []
    for c in line.chars:
        x, y = _affine(np.array([[c.x, c.y]]), m)[0]
        chars.append(Char(c.text, c.confidence, round(float(x), 1), round(float(y), 1)))
    return Line(line.text, line.confidence, [[round(float(x), 1), round(float(y), 1)] for x, y in box], chars)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000.0, 2)


class OcrEngine:
    """Image in, :class:`~ocr_engine.schema.OcrResult` out.

    Args:
        config: Engine configuration (model, limits, detector...); ``None``: the defaults,
            with the model shipped in the package.
        recognizer: A line recogniser to use instead of the one ``config`` describes.
        detector: A line finder to use instead of the one ``config`` names.

    Example:
        >>> engine = OcrEngine()  # doctest: +SKIP
        >>> engine.run_array(page_bgr).lines[0].text  # doctest: +SKIP
        '纯臻营养护发素'
    """

    def __init__(self, config: OcrConfig | None = None, *, recognizer: Recognizer | None = None,
                 detector: TextDetector | None = None) -> None:
        self.config = config or OcrConfig()
        self.recognizer = recognizer or self._recognizer_for(self.config)
        if detector is None:
            if self.config.detector == "whole":
                detector = WholeImageDetector()
            else:
                detector = MorphologyDetector(max_side=self.config.detect_max_side,
                                              direction=self.config.text_direction)
        self.detector = detector

    @classmethod
    def from_config(cls, config: OcrConfig | None = None) -> OcrEngine:
        """Build the engine from ``config``, or from the ``OCR_*`` environment (loads the model once).

        Raises:
            ConfigError: No model file found.
            ModelError: The model cannot be loaded or breaks the contract.
        """
        return cls(config or OcrConfig.from_env())

    @staticmethod
    def _recognizer_for(cfg: OcrConfig) -> Recognizer:
        model_path = cfg.resolve_model_path()
        return Recognizer(
            model_path,
            intra_op_threads=cfg.threads,
            max_batch=cfg.max_batch,
            line_stretch=cfg.line_stretch,
            rotate_below=cfg.rotate_below,
            dense_below=cfg.dense_below,
            trim_margins=cfg.trim_margins,
            lm_path=cfg.resolve_lm_path(model_path),
            lm_weight=cfg.lm_weight,
            lm_beam=cfg.lm_beam,
        )

    def model_info(self) -> dict[str, Any]:
        """Model name, version, path and detector, for health checks and logs."""
        meta = self.recognizer.meta
        return {
            "name": meta.model_name,
            "version": meta.model_version,
            "path": str(self.recognizer.model_path.name),
            "input_height": meta.input_height,
            "charset_size": len(meta.charset),
            "language_model": self.recognizer.lm is not None,
            "detector": self.detector.name,
        }

    def run(self, image_bytes: bytes, direction: str | None = None) -> OcrResult:
        """OCR encoded image bytes (JPEG, PNG, BMP, TIFF, WebP, GIF).

        Args:
            image_bytes: The encoded image.
            direction: ``auto``, ``horizontal`` or ``vertical`` for this image (``None``: the
                configured ``text_direction``).

        Raises:
            OcrError: A typed refusal (too large, unsupported, corrupt...).
        """
        t0 = time.perf_counter()
        decoded = decode_image(image_bytes, self.config.limits)
        decode_ms = _ms(t0)
        result = self.run_array(decoded.image, direction)
        result.timings_ms = {"decode": decode_ms, **result.timings_ms}
        result.timings_ms["total"] = _ms(t0)
        return result

    def run_array(self, image: np.ndarray, direction: str | None = None) -> OcrResult:
        """OCR an already decoded image (gray, BGR or BGRA; BGRA is composited on white).

        A page read with little confidence is also read turned 90° each way (unless its text
        is set to run vertically), and the clearly better reading is kept, its boxes and
        characters mapped back to this image (see ``OcrConfig.sideways_below``).

        Raises:
            InvalidInput: ``direction`` is not ``auto``, ``horizontal`` or ``vertical``.
        """
        detector = self._detector_for(direction)
        t0 = time.perf_counter()
        if image.ndim == 3 and image.shape[2] in (2, 4) or image.dtype != np.uint8:
            image = to_bgr8(image)
        result, sideways_lines = self._read_page(image, detector)
        vertical = (direction or self.config.text_direction) == "vertical"
        # Lines of a page lying on its side run down the page (found so by the deskew, or as
        # tall boxes): only then is it worth reading it twice more (a weak reading of an
        # upright photo is not helped by turning).
        if (self.config.sideways_below > 0 and not vertical and sideways_lines
                and not isinstance(detector, WholeImageDetector)
                and page_confidence(result) < self.config.sideways_below):
            t_side, h, w = time.perf_counter(), *image.shape[:2]
            upright = result
            for turn, back in ((cv2.ROTATE_90_CLOCKWISE, _from_clockwise(h)),
                               (cv2.ROTATE_90_COUNTERCLOCKWISE, _from_counterclockwise(w))):
                turned, _ = self._read_page(cv2.rotate(image, turn), detector)
                if (page_score(turned) > max(SIDEWAYS_GAIN * page_score(upright), page_score(result))
                        and page_confidence(turned) > page_confidence(upright)):
                    turned.lines = [_map_line(line, back) for line in turned.lines]
                    turned.width, turned.height = upright.width, upright.height
                    result = turned
            result.timings_ms = {**upright.timings_ms, "sideways": _ms(t_side)}
        result.timings_ms["total"] = _ms(t0)
        return result

    def _read_page(self, image: np.ndarray, detector: TextDetector) -> tuple[OcrResult, bool]:
        """Preprocess, find lines, read them: one orientation of a BGR/gray page.

        Returns:
            The result, and whether its lines run down the page: the deskew found them so, or
            at least half of the found boxes' area is in boxes taller than wide (never when the
            detector found as many boxes as it returns at most).
        """
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        pre_cfg = self.config.preprocess
        page = preprocess_page(
            image, contrast=pre_cfg.contrast, denoise_method=pre_cfg.denoise,
            deskew=pre_cfg.deskew and not isinstance(self.detector, WholeImageDetector),
            max_skew_deg=pre_cfg.max_skew_deg,
        )
        t_pre = _ms(t0)
        t1 = time.perf_counter()
        boxes = detector.detect(page.gray)
        t_det = _ms(t1)
        t2 = time.perf_counter()
        crops = [crop_box(page.gray, b) for b in boxes]
        if pre_cfg.threshold:
            crops = [adaptive_threshold(c) for c in crops]
        # A column of vertical text is read as a line of its characters side by side.
        cells: list[list[Cell] | None] = [None] * len(crops)
        for i, b in enumerate(boxes):
            if b.vertical:
                crops[i], cells[i] = column_to_line(crops[i])
        reads = self.recognizer.recognize(crops, one_page=True) if crops else []
        kept = [(b, r, c) for b, r, c in zip(boxes, reads, cells) if self._keep(r)]
        if kept and sum(r.rotated_180 for _, r, _ in kept) * 2 > len(kept):
            kept.reverse()  # an upside-down page: its reading order runs bottom-up
        lines = [self._to_line(b, r, page.to_original, c) for b, r, c in kept]
        t_rec = _ms(t2)
        meta = self.recognizer.meta
        areas = [(b.width * b.height, b.height > b.width) for b in boxes]
        tall = sum(a for a, t in areas if t) / max(sum(a for a, _ in areas), 1e-9)
        # As many boxes as the detector returns at most: texture or noise (hundreds of dot
        # clusters), which turning does not make text; it is not read twice more.
        capped = len(boxes) >= getattr(detector, "max_lines", len(boxes) + 1)
        sideways_lines = (page.lines_vertical or tall >= 0.5) and not capped
        return OcrResult(
            width=int(w),
            height=int(h),
            lines=lines,
            model=ModelInfo(meta.model_name, meta.model_version),
            timings_ms={"preprocess": t_pre, "detect": t_det, "recognize": t_rec, "total": _ms(t0)},
        ), sideways_lines

    def _keep(self, read: LineResult) -> bool:
        """Whether a reading is kept: confident enough for its length, and not only punctuation."""
        text = "".join(read.text.split())
        if not any(ch.isalnum() for ch in text):
            return False
        floor = self.config.min_short_confidence if len(text) <= 2 else 0.0
        return read.confidence >= max(self.config.min_line_confidence, floor)

    def _detector_for(self, direction: str | None) -> TextDetector:
        """The detector, reading in ``direction`` when one is asked for."""
        if direction is None:
            return self.detector
        if direction not in TEXT_DIRECTIONS:
            raise InvalidInput(f"direction must be one of {', '.join(TEXT_DIRECTIONS)}, got {direction!r}")
        if isinstance(self.detector, MorphologyDetector) and direction != self.detector.direction:
            return dataclasses.replace(self.detector, direction=direction)
        return self.detector

    @staticmethod
    def _to_line(box: TextBox, read: LineResult, to_original: np.ndarray,
                 cells: list[Cell] | None = None) -> Line:
        """Map a box and its reading back to original image coordinates.

        ``cells`` (vertical columns) map a position in the restacked line to a row of the column.
        """
        pts = _affine(box.points.astype(np.float64), to_original)
        top_l, top_r, bot_r, bot_l = pts
        if read.rotated_180 and cells is None:  # the text runs right-to-left in the box as found
            pts = np.array([bot_r, bot_l, top_l, top_r])
        # Character centres along the mid-line of the box as found (down the middle of a column).
        xs = np.array([c.x for c in read.chars], np.float64)
        if cells is not None:
            top_mid = (box.points[0] + box.points[1]) / 2.0
            ys = np.array([line_x_to_column_y(x, cells) for x in xs.tolist()], np.float64)
            centres = top_mid + np.stack([np.zeros_like(ys), ys], axis=1)
        else:
            left_mid = (box.points[0] + box.points[3]) / 2.0
            right_mid = (box.points[1] + box.points[2]) / 2.0
            centres = left_mid + (right_mid - left_mid) * (xs / max(box.width, 1e-6))[:, None]
        mapped = np.round(_affine(centres.reshape(-1, 2), to_original), 1).tolist()
        confidences = np.round(np.array([c.confidence for c in read.chars], np.float64), 4).tolist()
        chars = [Char(c.char, p, ox, oy) for c, p, (ox, oy) in zip(read.chars, confidences, mapped)]
        return Line(
            text=read.text,
            confidence=round(read.confidence, 4),
            box=[[round(float(x), 1), round(float(y), 1)] for x, y in pts],
            chars=chars,
        )


def ocr_bytes(image_bytes: bytes, config: OcrConfig | None = None) -> OcrResult:
    """One-off convenience: build an engine and OCR one image (slow: loads the model).

    Example:
        >>> ocr_bytes(open("a.png", "rb").read()).text  # doctest: +SKIP
    """
    return OcrEngine.from_config(config).run(image_bytes)


__all__ = ["OcrEngine", "ocr_bytes"]
