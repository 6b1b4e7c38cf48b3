"""Line mode: recognise each labelled crop and score it.

Example:
    >>> from ocr_engine.recognition import Recognizer  # doctest: +SKIP
    >>> rep = evaluate_lines("../shared/eval/lines.tsv", Recognizer("m.onnx"))  # doctest: +SKIP
    >>> print(rep.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ocr_eval.datasets import load_image, read_line_labels, write_tsv
from ocr_eval.metrics import Score, percentile_ms, score_pairs


@runtime_checkable
class LineReader(Protocol):
    """Anything that reads one text-line crop (peers implement this)."""

    name: str

    def read_line(self, image: np.ndarray) -> str:
        """Return the text of a BGR line crop."""
        ...


@dataclass
class LinePrediction:
    """One scored line: image path as written in the labels, truth, prediction, ms."""

    image: str
    truth: str
    pred: str
    lang: str
    ms: float


@dataclass
class LinesReport:
    """Scores of one engine in line mode.

    Attributes:
        engine: Engine name.
        labels: Labels file.
        overall: Scores over all lines.
        by_lang: Scores per ``lang`` column value.
        median_ms: Median recognition latency per line.
        p95_ms: 95th percentile latency per line.
        rows: Every prediction.
    """

    engine: str
    labels: str
    overall: Score
    by_lang: dict[str, Score]
    median_ms: float
    p95_ms: float
    rows: list[LinePrediction] = field(default_factory=list)

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        """JSON-ready dict (rows only when asked)."""
        out: dict[str, Any] = {
            "engine": self.engine,
            "labels": self.labels,
            "mode": "lines",
            "overall": self.overall.to_dict(),
            "by_lang": {k: v.to_dict() for k, v in self.by_lang.items()},
            "median_ms_per_line": self.median_ms,
            "p95_ms_per_line": self.p95_ms,
        }
        if with_rows:
            out["rows"] = [r.__dict__ for r in self.rows]
        return out

    def summary(self) -> str:
        """Human-readable block: per language exact accuracy, CER, latency."""
        lines = [f"{self.engine} on {self.labels} ({self.overall.n} lines)"]
        groups = [*sorted(self.by_lang.items()), ("all", self.overall)]
        for lang, s in groups:
            lines.append(
                f"  {lang:8s} n={s.n:4d}  exact={s.exact:6.1%}  exact(nocase)={s.exact_nocase:6.1%}"
                f"  CER={s.cer:6.1%}"
            )
        lines.append(f"  latency per line: median {self.median_ms:.1f} ms, p95 {self.p95_ms:.1f} ms")
        return "\n".join(lines)


def _line_fn(recognizer: Any) -> tuple[str, Callable[[np.ndarray], str]]:
    """Adapt a Recognizer (``recognize_one``) or a LineReader (``read_line``)."""
    if hasattr(recognizer, "read_line"):
        return getattr(recognizer, "name", type(recognizer).__name__), recognizer.read_line
    if hasattr(recognizer, "recognize_one"):
        meta = getattr(recognizer, "meta", None)
        name = f"{meta.model_name} {meta.model_version}" if meta else "recognizer"
        return name, lambda img: recognizer.recognize_one(img).text
    raise TypeError("recognizer must have read_line(image) or recognize_one(image)")


def write_predictions(path: str | os.PathLike[str], rows: list[tuple[str, str]]) -> None:
    """Write ``image<TAB>text`` rows in the labels' format (:func:`~ocr_eval.datasets.write_tsv`:
    tabs and backslashes escaped, line breaks become spaces), without a header."""
    write_tsv(path, rows)


def evaluate_lines(
    labels_tsv: str | os.PathLike[str],
    recognizer: Any,
    *,
    predictions_path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LinesReport:
    """Recognise every crop of a ``lines.tsv`` file and score the results.

    Args:
        labels_tsv: Labels file (columns ``image``, ``text``, ``lang``).
        recognizer: A :class:`~ocr_engine.recognition.Recognizer` or any
            :class:`LineReader`.
        predictions_path: If given, also write ``image<TAB>text`` rows there.
        name: Engine name for the report (default: model name and version).
        limit: Only the first ``limit`` rows (for quick checks).
        progress: Called as ``progress(done, total)`` after each line.

    Returns:
        A :class:`LinesReport`. Latency covers recognition only (the crop is
        decoded before the clock starts).
    """
    default_name, read = _line_fn(recognizer)
    labels = read_line_labels(labels_tsv)[:limit]
    rows: list[LinePrediction] = []
    for k, lab in enumerate(labels):
        image = load_image(lab.path)
        t0 = time.perf_counter()
        pred = read(image)
        ms = (time.perf_counter() - t0) * 1000.0
        rows.append(LinePrediction(lab.image, lab.text, pred, lab.lang, ms))
        if progress:
            progress(k + 1, len(labels))
    if predictions_path is not None:
        write_predictions(predictions_path, [(r.image, r.pred) for r in rows])
    by_lang = {
        lang: score_pairs((r.truth, r.pred) for r in rows if r.lang == lang)
        for lang in sorted({r.lang for r in rows})
    }
    times = [r.ms for r in rows]
    return LinesReport(
        engine=name or default_name,
        labels=str(Path(labels_tsv)),
        overall=score_pairs((r.truth, r.pred) for r in rows),
        by_lang=by_lang,
        median_ms=percentile_ms(times, 50),
        p95_ms=percentile_ms(times, 95),
        rows=rows,
    )
