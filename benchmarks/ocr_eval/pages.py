"""Page mode: run a full OCR pipeline on each page and score its lines as a set.

Found lines are matched to expected lines regardless of order
(:func:`~ocr_eval.metrics.match_lines_as_set`); unmatched expected
lines count as deletions, unmatched found lines as insertions.

Example:
    >>> from ocr_engine.engine import OcrEngine  # doctest: +SKIP
    >>> rep = evaluate_pages("../shared/eval/pages.tsv", OcrEngine.from_config())  # doctest: +SKIP
    >>> print(rep.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ocr_eval.datasets import load_image, read_page_labels
from ocr_eval.lines import write_predictions
from ocr_eval.metrics import (
    Score,
    match_lines_as_set,
    normalize,
    percentile_ms,
    score_pairs,
)


@runtime_checkable
class PageReader(Protocol):
    """Anything that finds and reads the text lines of a full image."""

    name: str

    def read_page(self, image: np.ndarray) -> list[str]:
        """Return the lines of a BGR image, in reading order."""
        ...


@dataclass
class PagePrediction:
    """One page: expected and found lines, its scores and time."""

    image: str
    lang: str
    truth: list[str]
    pred: list[str]
    ms: float
    cer: float
    exact_found: int


@dataclass
class PagesReport:
    """Scores of one engine in page mode.

    Attributes:
        engine: Engine name.
        labels: Labels file.
        overall: Line-pair scores over all pages (insertions included in CER).
        by_lang: The same per page language (``zh`` when the truth has CJK).
        line_recall: Expected lines found exactly (normalised), over all expected lines.
        empty_pages_ok: Pages without text for which nothing was found / such pages.
        median_ms: Median time per page; ``p95_ms`` its 95th percentile.
        ms_per_line: Total time / total found lines.
        rows: Every page.
    """

    engine: str
    labels: str
    overall: Score
    by_lang: dict[str, Score]
    line_recall: float
    empty_pages_ok: str
    median_ms: float
    p95_ms: float
    ms_per_line: float
    rows: list[PagePrediction] = field(default_factory=list)

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        """JSON-ready dict; per-page CER is always included."""
        out: dict[str, Any] = {
            "engine": self.engine,
            "labels": self.labels,
            "mode": "pages",
            "overall": self.overall.to_dict(),
            "by_lang": {k: v.to_dict() for k, v in self.by_lang.items()},
            "line_recall": self.line_recall,
            "empty_pages_ok": self.empty_pages_ok,
            "median_ms_per_page": self.median_ms,
            "p95_ms_per_page": self.p95_ms,
            "ms_per_found_line": self.ms_per_line,
            "per_page_cer": {r.image: r.cer for r in self.rows},
        }
        if with_rows:
            out["rows"] = [asdict(r) for r in self.rows]
        return out

    def summary(self) -> str:
        """Human-readable block."""
        lines = [f"{self.engine} on {self.labels} ({len(self.rows)} pages, {self.overall.chars} chars)"]
        for lang, s in [*sorted(self.by_lang.items()), ("all", self.overall)]:
            lines.append(f"  {lang:8s} pairs={s.n:4d}  CER={s.cer:6.1%}  exact pairs={s.exact:6.1%}")
        lines.append(f"  expected lines found exactly: {self.line_recall:6.1%}; empty pages ok: {self.empty_pages_ok}")
        lines.append(
            f"  latency per page: median {self.median_ms:.0f} ms, p95 {self.p95_ms:.0f} ms; "
            f"{self.ms_per_line:.1f} ms per found line"
        )
        for r in self.rows:
            lines.append(f"    {r.image:45s} CER={r.cer:6.1%}  found {len(r.pred):3d} / {len(r.truth):3d}  {r.ms:7.0f} ms")
        return "\n".join(lines)


def _page_fn(reader: Any) -> tuple[str, Callable[[np.ndarray], list[str]]]:
    """Adapt an OcrEngine (``run_array``) or a :class:`PageReader`."""
    if hasattr(reader, "read_page"):
        return getattr(reader, "name", type(reader).__name__), reader.read_page
    if hasattr(reader, "run_array"):
        info = reader.model_info() if hasattr(reader, "model_info") else {}
        name = f"{info.get('name', 'engine')} {info.get('version', '')}".strip()
        return name, lambda img: [line.text for line in reader.run_array(img).lines]
    raise TypeError("reader must have read_page(image) or run_array(image)")


def evaluate_pages(
    labels_tsv: str | os.PathLike[str],
    reader: Any,
    *,
    predictions_path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PagesReport:
    """OCR every page of a ``pages.tsv`` file and score the found lines as a set.

    Args:
        labels_tsv: Labels file (``image``, ``line_no``, ``text`` columns).
        reader: An :class:`~ocr_engine.engine.OcrEngine` or any :class:`PageReader`.
        predictions_path: If given, write one ``image<TAB>text`` row per found line.
        name: Engine name for the report.
        progress: Called as ``progress(done, total)`` after each page.

    Returns:
        A :class:`PagesReport`; latency covers everything after file decoding.
    """
    default_name, read = _page_fn(reader)
    pages = read_page_labels(labels_tsv)
    rows: list[PagePrediction] = []
    all_pairs: list[tuple[str, str, str]] = []
    found_exact = total_truth = empty_ok = empty_total = 0
    for k, page in enumerate(pages):
        image = load_image(page.path)
        t0 = time.perf_counter()
        pred = [p for p in read(image) if normalize(p)]
        ms = (time.perf_counter() - t0) * 1000.0
        pairs = match_lines_as_set(page.lines, pred)
        s = score_pairs(pairs)
        exact = sum(1 for t, p in pairs if t and normalize(t) == normalize(p))
        found_exact += exact
        total_truth += len(page.lines)
        if not page.lines:
            empty_total += 1
            empty_ok += int(not pred)
        page_cer = s.cer if page.lines else float(bool(pred))
        rows.append(PagePrediction(page.image, page.lang, list(page.lines), pred, ms, page_cer, exact))
        all_pairs.extend((page.lang, t, p) for t, p in pairs)
        if progress:
            progress(k + 1, len(pages))
    if predictions_path is not None:
        write_predictions(predictions_path, [(r.image, text) for r in rows for text in r.pred])
    langs = sorted({lang for lang, _, _ in all_pairs})
    times = [r.ms for r in rows]
    n_found = sum(len(r.pred) for r in rows)
    return PagesReport(
        engine=name or default_name,
        labels=str(Path(labels_tsv)),
        overall=score_pairs((t, p) for _, t, p in all_pairs),
        by_lang={lang: score_pairs((t, p) for g, t, p in all_pairs if g == lang) for lang in langs},
        line_recall=found_exact / total_truth if total_truth else float("nan"),
        empty_pages_ok=f"{empty_ok}/{empty_total}",
        median_ms=percentile_ms(times, 50),
        p95_ms=percentile_ms(times, 95),
        ms_per_line=sum(times) / n_found if n_found else float("nan"),
        rows=rows,
    )
