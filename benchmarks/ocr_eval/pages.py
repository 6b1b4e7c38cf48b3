"""Page mode: run a full OCR pipeline on each page and score it twice, in order and as a set.

- **Reading-order page CER**: one edit distance between the page's expected text (its lines,
  normalised, joined by line breaks in ``line_no`` order) and the found text (the engine's
  lines in the engine's order), over the expected text's length
  (:func:`~ocr_eval.metrics.reading_order_edits`). Lines read out of order cost edits.
- **Order-free page CER**: found lines matched to expected lines regardless of order
  (:func:`~ocr_eval.metrics.match_lines_as_set`); unmatched expected lines count as
  deletions, unmatched found lines as insertions. This is ``cer`` / ``per_page_cer`` /
  ``overall`` of the report (the scores page mode always had).
- **Line recall**: expected lines found exactly (after normalisation), over all expected lines.
- **Extra lines**: found lines the order-free matching pairs with no expected line (text found
  where the truth has none, or a line found in more pieces than it has).

Pages of a ``pages.tsv`` with a ``tags`` column are also scored per tag (``by_tag``).

Example:
    >>> from ocr_engine.engine import OcrEngine  # doctest: +SKIP
    >>> rep = evaluate_pages("../shared/eval/pages.tsv", OcrEngine.from_config())  # doctest: +SKIP
    >>> print(rep.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ocr_eval.datasets import load_image, read_page_labels, write_tsv
from ocr_eval.metrics import (
    Score,
    match_lines_as_set,
    normalize,
    percentile_ms,
    reading_order_edits,
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
    """One page: expected and found lines, its scores and time.

    ``cer`` is the order-free page CER (``order_free_edits / order_free_chars``),
    ``reading_order_cer`` the reading-order one; a page without expected text scores 0.0
    when nothing was found, else 1.0. ``extra_lines``: found lines matching no expected line;
    ``detector``: the line finder our engine used on the page (empty for other readers).
    """

    image: str
    lang: str
    truth: list[str]
    pred: list[str]
    ms: float
    cer: float
    exact_found: int
    order_free_edits: int = 0
    order_free_chars: int = 0
    reading_order_cer: float = 0.0
    reading_order_edits: int = 0
    reading_order_chars: int = 0
    tags: list[str] = field(default_factory=list)
    extra_lines: int = 0
    detector: str = ""


def _rate(edits: int, chars: int) -> float:
    return edits / chars if chars else float(edits > 0)


@dataclass
class PageGroupScore:
    """Page scores over a group of pages (a whole set, or the pages with one tag).

    The CERs are micro averages (total edits / total expected characters), so long pages
    weigh more; ``line_recall`` is over all expected lines of the group; ``extra_lines`` the
    group's found lines that match no expected line.

    Example:
        >>> rows = [PagePrediction("a", "en", ["ab", "cd"], ["cd", "ab"], 5.0, 0.0, 2, 0, 4, 0.8, 4, 5),
        ...         PagePrediction("b", "en", ["xyz"], ["xy"], 7.0, 1 / 3, 0, 1, 3, 1 / 3, 1, 3)]
        >>> g = group_score(rows)
        >>> g.pages, g.line_recall, g.reading_order_cer, g.order_free_cer, g.median_ms
        (2, 0.6666666666666666, 0.625, 0.14285714285714285, 6.0)
    """

    pages: int
    line_recall: float
    reading_order_cer: float
    order_free_cer: float
    median_ms: float
    extra_lines: int = 0

    def to_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON."""
        return asdict(self)


def group_score(rows: Iterable[PagePrediction]) -> PageGroupScore:
    """The :class:`PageGroupScore` of some pages."""
    rows = list(rows)
    truth_lines = sum(len(r.truth) for r in rows)
    return PageGroupScore(
        pages=len(rows),
        line_recall=sum(r.exact_found for r in rows) / truth_lines if truth_lines else float("nan"),
        reading_order_cer=_rate(sum(r.reading_order_edits for r in rows), sum(r.reading_order_chars for r in rows)),
        order_free_cer=_rate(sum(r.order_free_edits for r in rows), sum(r.order_free_chars for r in rows)),
        median_ms=percentile_ms([r.ms for r in rows], 50),
        extra_lines=sum(r.extra_lines for r in rows),
    )


def tag_scores(rows: Iterable[PagePrediction]) -> dict[str, PageGroupScore]:
    """One :class:`PageGroupScore` per tag (``rot=180``, ``degraded``, ...), sorted by tag.

    A page counts in every tag it has; pages without tags count in none.

    Example:
        >>> rows = [PagePrediction("a", "en", ["ab"], ["ab"], 1.0, 0.0, 1, tags=["cols=2", "toc"]),
        ...         PagePrediction("b", "en", ["ab"], [], 3.0, 1.0, 0, 2, 2, 1.0, 2, 2, tags=["cols=2"])]
        >>> {tag: (g.pages, g.line_recall) for tag, g in tag_scores(rows).items()}
        {'cols=2': (2, 0.5), 'toc': (1, 1.0)}
    """
    rows = list(rows)
    tags = sorted({t for r in rows for t in r.tags})
    return {t: group_score(r for r in rows if t in r.tags) for t in tags}


@dataclass
class PagesReport:
    """Scores of one engine in page mode.

    Attributes:
        engine: Engine name.
        labels: Labels file.
        overall: Line-pair scores of the order-free matching over all pages (insertions
            included in CER: ``overall.cer`` is the order-free page CER of the set).
        by_lang: The same per page language (``zh`` when the truth has CJK).
        line_recall: Expected lines found exactly (normalised), over all expected lines.
        empty_pages_ok: Pages without text for which nothing was found / such pages.
        median_ms: Median time per page; ``p95_ms`` its 95th percentile.
        ms_per_line: Total time / total found lines.
        rows: Every page.
        reading_order_cer: Reading-order page CER over all pages (micro average).
        order_free_cer: Order-free page CER over all pages (equals ``overall.cer``).
        by_tag: Page scores per tag of the labels' ``tags`` column (empty without tags).
        extra_lines: Found lines matching no expected line, over all pages.
        detector: The line finder asked of our engine (``None``: its configured one).
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
    reading_order_cer: float = float("nan")
    order_free_cer: float = float("nan")
    by_tag: dict[str, PageGroupScore] = field(default_factory=dict)
    extra_lines: int = 0
    detector: str | None = None

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        """JSON-ready dict; both per-page CERs are always included (``per_page_cer`` is the order-free one)."""
        out: dict[str, Any] = {
            "engine": self.engine,
            "labels": self.labels,
            "mode": "pages",
            "overall": self.overall.to_dict(),
            "by_lang": {k: v.to_dict() for k, v in self.by_lang.items()},
            "line_recall": self.line_recall,
            "reading_order_cer": self.reading_order_cer,
            "order_free_cer": self.order_free_cer,
            "by_tag": {k: v.to_dict() for k, v in self.by_tag.items()},
            "empty_pages_ok": self.empty_pages_ok,
            "extra_lines": self.extra_lines,
            "detector": self.detector,
            "median_ms_per_page": self.median_ms,
            "p95_ms_per_page": self.p95_ms,
            "ms_per_found_line": self.ms_per_line,
            "per_page_cer": {r.image: r.cer for r in self.rows},
            "per_page_reading_order_cer": {r.image: r.reading_order_cer for r in self.rows},
        }
        if with_rows:
            out["rows"] = [{**asdict(r), "order_free_cer": r.cer} for r in self.rows]
        return out

    def summary(self) -> str:
        """Human-readable block."""
        lines = [f"{self.engine} on {self.labels} ({len(self.rows)} pages, {self.overall.chars} chars)"]
        for lang, s in [*sorted(self.by_lang.items()), ("all", self.overall)]:
            lines.append(f"  {lang:8s} pairs={s.n:4d}  CER={s.cer:6.1%}  exact pairs={s.exact:6.1%}")
        lines.append(f"  page CER: reading order {self.reading_order_cer:6.1%}, order free {self.order_free_cer:6.1%}")
        lines.append(f"  expected lines found exactly: {self.line_recall:6.1%}; extra lines: {self.extra_lines}; "
                     f"empty pages ok: {self.empty_pages_ok}")
        lines.append(
            f"  latency per page: median {self.median_ms:.0f} ms, p95 {self.p95_ms:.0f} ms; "
            f"{self.ms_per_line:.1f} ms per found line"
        )
        for tag, g in self.by_tag.items():
            lines.append(f"  tag {tag:12s} pages={g.pages:3d}  line recall={g.line_recall:6.1%}  "
                         f"CER reading order={g.reading_order_cer:6.1%}  order free={g.order_free_cer:6.1%}")
        for r in self.rows:
            lines.append(f"    {r.image:45s} CER={r.cer:6.1%}  in order={r.reading_order_cer:6.1%}  "
                         f"found {len(r.pred):3d} / {len(r.truth):3d}  {r.ms:7.0f} ms")
        return "\n".join(lines)


def _page_fn(reader: Any, detector: str | None = None) -> tuple[str, Callable[[np.ndarray], tuple[list[str], str]]]:
    """Adapt an OcrEngine (``run_array``) or a :class:`PageReader`: ``(name, image -> (lines, finder))``.

    With ``detector``, the reader must be our engine or wrap one (``reader.engine``, as
    :class:`~ocr_eval.peers.OursReader` does): each page is read with that line finder.
    """
    engine = reader if hasattr(reader, "run_array") else getattr(reader, "engine", None)
    if detector is not None and not hasattr(engine, "run_array"):
        raise TypeError("a detector can only be chosen for our engine (run_array(image, detector=...))")
    name = getattr(reader, "name", None)
    if hasattr(reader, "read_page") and detector is None:
        return name or type(reader).__name__, lambda img: (reader.read_page(img), "")
    if hasattr(engine, "run_array"):
        if name is None:
            info = engine.model_info() if hasattr(engine, "model_info") else {}
            name = f"{info.get('name', 'engine')} {info.get('version', '')}".strip()

        def read(img: np.ndarray) -> tuple[list[str], str]:
            result = engine.run_array(img) if detector is None else engine.run_array(img, detector=detector)
            return [line.text for line in result.lines], getattr(result, "detector", "")

        return name, read
    raise TypeError("reader must have read_page(image) or run_array(image)")


def evaluate_pages(
    labels_tsv: str | os.PathLike[str],
    reader: Any,
    *,
    predictions_path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    detector: str | None = None,
) -> PagesReport:
    """OCR every page of a ``pages.tsv`` file and score the found lines in order and as a set.

    Args:
        labels_tsv: Labels file (``image``, ``line_no``, ``text`` columns).
        reader: An :class:`~ocr_engine.engine.OcrEngine` or any :class:`PageReader`.
        predictions_path: If given, write one ``image<TAB>text`` row per found line.
        name: Engine name for the report.
        progress: Called as ``progress(done, total)`` after each page.
        detector: Our engine's line finder for every page (``opencv``, ``learned``, ``auto``);
            ``None``: the engine's configured one. Other readers take none.

    Returns:
        A :class:`PagesReport`; latency covers everything after file decoding.
    """
    default_name, read = _page_fn(reader, detector)
    pages = read_page_labels(labels_tsv)
    rows: list[PagePrediction] = []
    all_pairs: list[tuple[str, str, str]] = []
    empty_ok = empty_total = 0
    for k, page in enumerate(pages):
        image = load_image(page.path)
        t0 = time.perf_counter()
        found, finder = read(image)
        pred = [p for p in found if normalize(p)]
        ms = (time.perf_counter() - t0) * 1000.0
        pairs = match_lines_as_set(page.lines, pred)
        rows.append(score_page(page.image, page.lang, page.lines, pred, ms, page.tags, pairs=pairs, detector=finder))
        all_pairs.extend((page.lang, t, p) for t, p in pairs)
        if not page.lines:
            empty_total += 1
            empty_ok += int(not pred)
        if progress:
            progress(k + 1, len(pages))
    if predictions_path is not None:
        write_tsv(predictions_path, [(r.image, text) for r in rows for text in r.pred])
    langs = sorted({lang for lang, _, _ in all_pairs})
    times = [r.ms for r in rows]
    n_found = sum(len(r.pred) for r in rows)
    total = group_score(rows)
    return PagesReport(
        engine=name or default_name,
        labels=str(Path(labels_tsv)),
        overall=score_pairs((t, p) for _, t, p in all_pairs),
        by_lang={lang: score_pairs((t, p) for g, t, p in all_pairs if g == lang) for lang in langs},
        line_recall=total.line_recall,
        empty_pages_ok=f"{empty_ok}/{empty_total}",
        median_ms=percentile_ms(times, 50),
        p95_ms=percentile_ms(times, 95),
        ms_per_line=sum(times) / n_found if n_found else float("nan"),
        rows=rows,
        reading_order_cer=total.reading_order_cer,
        order_free_cer=total.order_free_cer,
        by_tag=tag_scores(rows),
        extra_lines=total.extra_lines,
        detector=detector,
    )


def score_page(image: str, lang: str, truth: Iterable[str], pred: Iterable[str], ms: float = 0.0,
               tags: Iterable[str] = (), *, pairs: list[tuple[str, str]] | None = None,
               detector: str = "") -> PagePrediction:
    """Score one page's found lines (in the engine's order) against its expected lines.

    ``pairs``: the page's :func:`~ocr_eval.metrics.match_lines_as_set` when already computed;
    ``detector``: the line finder that found them, when known.

    Example:
        >>> row = score_page("p.png", "en", ["first line", "second"], ["second", "first line"])
        >>> row.cer, row.exact_found, round(row.reading_order_cer, 3)
        (0.0, 2, 0.824)
        >>> score_page("p.png", "en", ["exit"], ["ex", "it", "exit"]).extra_lines
        2
        >>> score_page("blank.png", "en", [], ["noise"]).reading_order_cer
        1.0
    """
    truth, pred = list(truth), list(pred)
    if pairs is None:
        pairs = match_lines_as_set(truth, pred)
    score = score_pairs(pairs)
    exact_found = sum(1 for t, p in pairs if t and normalize(t) == normalize(p))
    edits, chars = reading_order_edits(truth, pred)
    order_free = score.cer if truth else float(bool(pred))
    extra = sum(1 for t, _ in pairs if not t)
    return PagePrediction(image, lang, truth, pred, ms, order_free, exact_found, score.edits, score.chars,
                          _rate(edits, chars), edits, chars, list(tags), extra, detector)
