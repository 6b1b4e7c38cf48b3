"""The layout stage end to end: the shipped model on rendered pages whose truth is known.

Each page is drawn by the rendered-page benchmark (:mod:`ocr_eval.rendered`), which keeps every
printed line's text, ink box (upright page pixels), column (0: across the page) and role, and the
boxes of its photos. All pages here are clean and untilted, so for ``rot=0`` the image's pixels are the
page's pixels and a found line's box can be compared with the truth boxes directly.

Checked: no line is joined across a column gutter and lines are read column by column (2-, 3- and
4-column pages, Chinese and English), and the titles and headings across the columns stay whole; a
page turned upside down is read right (and only thanks to the page rule,
:func:`ocr_engine.orientation.page_upside_down`); table-of-contents entries come out whole; no line is
found inside a photo; the paragraph blocks round-trip through JSON and are consistent.

Known engine failures are marked ``xfail(strict=True)`` with the reason (a fix turns them into
XPASS, which fails the run: then drop the mark).

Each page is rendered and read once per module (about 1-2 s a page on one core).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ocr_engine import OcrEngine, OcrResult
from ocr_engine.recognition import recognizer as recognizer_module
from ocr_eval.metrics import cer, normalize, reading_order_edits
from ocr_eval.rendered.build import PageSpec, render_spec
from ocr_eval.rendered.layout import Page, Rect
from ocr_eval.rendered_pages import strip_leaders

WEIGHTS = Path(__file__).resolve().parents[2] / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.onnx"
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"shipped model not present: {WEIGHTS}")

SEED = 0
# (kind, lang, index): pages of that kind drawn with SEED; the index picks the layout (see build.lay_out).
COLUMN_PAGES = [("cols2", "en", 0), ("cols2", "zh", 1), ("cols3", "en", 1), ("cols3", "zh", 0)]
# Four narrow columns (gutters of about 0.9 em); each page has a photo in one of its columns.
NARROW_COLUMN_PAGES = [("cols4", "en", 0), ("cols4", "zh", 0)]
TOC_PAGES = [("toc", "en", 0), ("toc", "zh", 0)]
# 'figure' index 0 (en): a photo across a one-column page; 'cols4' index 0 (zh): a photo in one column.
PHOTO_PAGES = [("figure", "en", 0), NARROW_COLUMN_PAGES[1]]
UPSIDE_DOWN_PAGES = [("cols1", "en", 0), ("cols1", "zh", 0)]

MIN_MATCH_IOU = 0.25  # a found line is matched to the truth line it overlaps best, at least this much
IN_ORDER_SHARE = 0.95  # share of consecutive matched lines whose truth lines do not go backwards
MAX_UPSIDE_DOWN_CER = 0.05
MIN_TOC_WHOLE_SHARE = 0.8
MAX_TOC_ORPHAN_SHARE = 0.1
MAX_ENTRY_CER = 0.2  # a line found whole may misread a letter or a quote; it must not lose a part


# --- pages and boxes ---------------------------------------------------------------------------

@dataclass(repr=False)
class Read:
    """One rendered page, its image and what the engine found on it."""

    spec: PageSpec
    page: Page
    image: np.ndarray
    result: OcrResult

    @property
    def name(self) -> str:
        return f"{self.spec.kind}/{self.spec.lang}/#{self.spec.index}/rot={self.spec.rot}"

    def __repr__(self) -> str:  # short: pytest prints a failing test's arguments (a page and its image)
        return f"Read({self.name}: {len(self.page.lines)} truth lines, {len(self.result.lines)} found)"


def spec_of(kind: str, lang: str, index: int, rot: int = 0) -> PageSpec:
    return PageSpec(index, kind, lang, rot, 0.0, "clean", False, False)


def render(kind: str, lang: str, index: int, rot: int = 0) -> tuple[PageSpec, Page, np.ndarray]:
    spec = spec_of(kind, lang, index, rot)
    page, rgb, _ = render_spec(spec, SEED)
    return spec, page, np.ascontiguousarray(rgb[:, :, ::-1])  # the engine takes BGR


def read(engine: OcrEngine, kind: str, lang: str, index: int, rot: int = 0) -> Read:
    spec, page, image = render(kind, lang, index, rot)
    return Read(spec, page, image, engine.run_array(image))


def bounds(points: list[list[float]]) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` around a 4-point box."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def rect(r: Rect) -> tuple[float, float, float, float]:
    return float(r.x0), float(r.y0), float(r.x1), float(r.y1)


def area(b: tuple[float, float, float, float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def intersection(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    inter = intersection(a, b)
    return inter / (area(a) + area(b) - inter) if inter else 0.0


def match_truth(r: Read) -> list[tuple[int, int]]:
    """``(found index, truth index)`` for each found line, in found order, that overlaps a truth line by
    :data:`MIN_MATCH_IOU` or more (the truth line it overlaps best)."""
    truths = [rect(t.box) for t in r.page.lines]
    out = []
    for i, line in enumerate(r.result.lines):
        box = bounds(line.box)
        scores = [iou(box, t) for t in truths]
        best = int(np.argmax(scores))
        if scores[best] >= MIN_MATCH_IOU:
            out.append((i, best))
    return out


@dataclass
class Band:
    """A run of columns side by side: truth lines ``first..last`` (inclusive), all inside columns."""

    first: int
    last: int
    cols: dict[int, tuple[float, float, float, float]]  # col -> bounds of its truth lines' ink

    @property
    def top(self) -> float:
        return min(b[1] for b in self.cols.values())

    @property
    def bottom(self) -> float:
        return max(b[3] for b in self.cols.values())

    def gaps(self) -> list[tuple[int, float, float]]:
        """``(col, x where col's ink ends, x where col + 1's ink starts)`` for each pair of neighbours."""
        keys = sorted(self.cols)
        return [(k, self.cols[k][2], self.cols[n][0]) for k, n in zip(keys, keys[1:])]


def bands(page: Page) -> list[Band]:
    """The page's column bands, from the truth: maximal runs of lines in columns (``col > 0``) between
    lines across the page (a title, a heading over the next columns), with two columns or more."""
    out, run = [], []

    def close() -> None:
        cols: dict[int, list[tuple[float, ...]]] = {}
        for k in run:
            cols.setdefault(page.lines[k].col, []).append(rect(page.lines[k].box))
        if len(cols) >= 2:
            out.append(Band(run[0], run[-1], {c: (min(b[0] for b in bs), min(b[1] for b in bs),
                                                   max(b[2] for b in bs), max(b[3] for b in bs))
                                               for c, bs in cols.items()}))

    for k, line in enumerate(page.lines):
        if line.col > 0:
            run.append(k)
            continue
        if run:
            close()
        run = []
    if run:
        close()
    return out


# --- fixtures ----------------------------------------------------------------------------------

class Reads:
    """Pages rendered and read on first use, each once for the module."""

    def __init__(self, engine: OcrEngine):
        self.engine = engine
        self._done: dict[tuple[str, str, int, int], Read] = {}

    def __call__(self, key: tuple[str, str, int], rot: int = 0) -> Read:
        if (*key, rot) not in self._done:
            self._done[(*key, rot)] = read(self.engine, *key, rot)
        return self._done[(*key, rot)]


@pytest.fixture(scope="module")
def real_engine() -> OcrEngine:
    """The engine with the shipped model, shared by the whole module."""
    return OcrEngine()


@pytest.fixture(scope="module")
def reads(real_engine: OcrEngine) -> Reads:
    return Reads(real_engine)


def page_id(key: tuple[str, str, int]) -> str:
    return "-".join(map(str, key))


# --- 1. columns --------------------------------------------------------------------------------

COLUMN_PARAMS = [pytest.param(k, id=page_id(k)) for k in COLUMN_PAGES] + [
    pytest.param(NARROW_COLUMN_PAGES[0], id=page_id(NARROW_COLUMN_PAGES[0])),
    pytest.param(NARROW_COLUMN_PAGES[1], id=page_id(NARROW_COLUMN_PAGES[1])),
]


def column_page(reads: Reads, key: tuple[str, str, int]) -> Read:
    r = reads(key)
    n_bands = len(bands(r.page))
    assert n_bands, f"{r.name}: the generator drew no columns on this page"
    return r


@pytest.mark.parametrize("key", COLUMN_PARAMS)
def test_no_line_crosses_a_gutter(reads: Reads, key: tuple[str, str, int]) -> None:
    r = column_page(reads, key)
    # A line "crosses" a gutter when its box reaches past the gap between two columns' ink into both
    # columns by more than a detector's padding: a third of a line's height (less than any glyph).
    pad = statistics.median(t.box.height for t in r.page.lines if t.col > 0) / 3
    crossing = []
    for band in bands(r.page):
        for k, left, right in band.gaps():
            for i, line in enumerate(r.result.lines):
                x0, y0, x1, y1 = bounds(line.box)
                if band.top <= (y0 + y1) / 2 <= band.bottom and x0 < left - pad and x1 > right + pad:
                    crossing.append((i, k, round(x0), round(x1), round(left), round(right), line.text))
    assert not crossing, f"{r.name}: lines across a gutter (line, col, x0, x1, gap from, gap to, text): {crossing}"


@pytest.mark.parametrize("key", COLUMN_PARAMS)
def test_reading_order_is_column_by_column(reads: Reads, key: tuple[str, str, int]) -> None:
    r = column_page(reads, key)
    matched = match_truth(r)
    # (Counts in locals: pytest would print the page's lines, faces and all, to explain a failure.)
    n_matched, n_found, n_truth = len(matched), len(r.result.lines), len(r.page.lines)
    assert n_matched >= 0.8 * n_truth, (
        f"{r.name}: only {n_matched} of {n_found} found lines match one of the {n_truth} truth lines "
        f"(page CER {page_cer(r.page, r.result):.3f})")
    order = [t for _, t in matched]
    # Forward: to a later truth line, or to the same one (a line found in two pieces; see the test below).
    forward = sum(b >= a for a, b in zip(order, order[1:]))
    assert forward >= IN_ORDER_SHARE * (len(order) - 1), (
        f"{r.name}: {forward} of {len(order) - 1} consecutive lines go forward; truth order read: {order}")
    for band in bands(r.page):
        cols = [r.page.lines[t].col for t in order if band.first <= t <= band.last]
        back = [(a, b) for a, b in zip(cols, cols[1:]) if b < a]
        assert not back, f"{r.name}: band of lines {band.first}-{band.last} read back to an earlier column: {cols}"


# Lines across the page over the columns (titles, headings) must not be cut at the gutters either.
SPLIT_HEADINGS = pytest.mark.xfail(strict=True, reason="engine: a heading across the columns is found in pieces")


@pytest.mark.parametrize("key", [
    pytest.param(COLUMN_PAGES[0], marks=SPLIT_HEADINGS, id=page_id(COLUMN_PAGES[0])),
    pytest.param(COLUMN_PAGES[1], id=page_id(COLUMN_PAGES[1])),
    pytest.param(COLUMN_PAGES[2], id=page_id(COLUMN_PAGES[2])),
    pytest.param(COLUMN_PAGES[3], id=page_id(COLUMN_PAGES[3])),
])
def test_lines_across_the_columns_stay_whole(reads: Reads, key: tuple[str, str, int]) -> None:
    r = column_page(reads, key)
    across = [t for t in r.page.lines if t.col == 0]
    n_across = len(across)
    assert n_across, f"{r.name}: no title or heading across the columns"
    boxes = [bounds(line.box) for line in r.result.lines]
    broken = []
    for t in across:
        truth = rect(t.box)
        parts = [r.result.lines[k].text for k, b in enumerate(boxes) if intersection(truth, b) > 0.5 * area(b)]
        if len(parts) != 1 or cer(t.text, parts[0]) > MAX_ENTRY_CER:
            broken.append((t.text, parts))
    assert not broken, f"{r.name}: lines across the columns not found whole (truth, found pieces): {broken}"


# --- 2. a page upside down ---------------------------------------------------------------------

def page_cer(page: Page, result: OcrResult) -> float:
    """The harness's page score: one edit distance over the page's normalised lines in reading order."""
    edits, chars = reading_order_edits([t.text for t in page.lines], [line.text for line in result.lines])
    return edits / chars


@pytest.mark.parametrize("key", UPSIDE_DOWN_PAGES, ids=page_id)
def test_upside_down_page_reads_right(reads: Reads, key: tuple[str, str, int]) -> None:
    r = reads(key, rot=180)
    n_truth = len(r.page.lines)
    assert n_truth >= 10
    score = page_cer(r.page, r.result)
    assert score < MAX_UPSIDE_DOWN_CER, f"{r.name}: page CER {score:.3f} in reading order"


def test_upside_down_page_needs_the_page_rule(reads: Reads) -> None:
    """Without the page rule the English page is read wrong: the per-line retry alone does not turn it.

    Read again with ``page_upside_down`` always false (the per-line retry and the majority rule left):
    its lines read upside down are confident enough (above ``ROTATE_BELOW``) that the retry leaves
    them. (The Chinese page's are not: the per-line retry alone turns that one.)
    """
    r = reads(UPSIDE_DOWN_PAGES[0], rot=180)
    with pytest.MonkeyPatch.context() as mp:
        # The recogniser imported the rule by name: patch it where it is looked up.
        mp.setattr(recognizer_module, "page_upside_down", lambda upright, turned: False)
        without_rule = reads.engine.run_array(r.image)
    with_rule = page_cer(r.page, r.result)
    assert with_rule < MAX_UPSIDE_DOWN_CER
    score = page_cer(r.page, without_rule)
    assert score > 0.5, f"{r.name}: page CER {score:.3f} without page_upside_down: the test does not need the rule"


# --- 3. table of contents ----------------------------------------------------------------------

PAGE_NUMBER = re.compile(r"(?:\d+|[ivxlc]+)", re.IGNORECASE)


def on_row(truth: tuple[float, ...], found: tuple[float, ...]) -> bool:
    """Whether a found box sits on the truth box's row: they overlap vertically by half the smaller
    height or more, and horizontally at all."""
    dy = min(truth[3], found[3]) - max(truth[1], found[1])
    return dy >= 0.5 * min(truth[3] - truth[1], found[3] - found[1]) and min(truth[2], found[2]) > max(truth[0], found[0])


@pytest.mark.parametrize("key", TOC_PAGES, ids=page_id)
def test_toc_entries_are_whole_lines(reads: Reads, key: tuple[str, str, int]) -> None:
    """Each entry is one found line: its number, title and page number, leaders stripped."""
    r = reads(key)
    entries = [t for t in r.page.lines if t.role == "toc"]
    n_entries = len(entries)
    assert n_entries >= 10
    boxes = [bounds(line.box) for line in r.result.lines]
    texts = [normalize(strip_leaders(line.text)) for line in r.result.lines]
    whole, split, orphans = [], [], 0
    for t in entries:
        truth = normalize(t.text)
        row = [k for k, b in enumerate(boxes) if on_row(rect(t.box), b)]
        parts = [texts[k] for k in row]
        orphans += any(PAGE_NUMBER.fullmatch(p) for p in parts)
        ok = (len(row) == 1 and parts[0].split(" ")[-1:] == truth.split(" ")[-1:]
              and cer(truth, parts[0]) <= MAX_ENTRY_CER)
        (whole if ok else split).append((truth, parts))
    exact = sum(truth in texts for truth, _ in whole)
    n_whole = len(whole)
    assert n_whole >= MIN_TOC_WHOLE_SHARE * n_entries and orphans <= MAX_TOC_ORPHAN_SHARE * n_entries, (
        f"{r.name}: {n_whole} of {n_entries} entries found as one line ({exact} of them exactly), "
        f"{orphans} with a page number found alone; entries not whole (truth, found on its row): {split}")


# --- 4. photos ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", PHOTO_PAGES, ids=page_id)
def test_no_line_inside_a_photo(reads: Reads, key: tuple[str, str, int]) -> None:
    r = reads(key)
    n_figures = len(r.page.figures)
    assert n_figures, f"{r.name}: the generator drew no photo on this page"
    inside = []
    for fig in r.page.figures:
        for i, line in enumerate(r.result.lines):
            box = bounds(line.box)
            share = intersection(box, rect(fig)) / max(area(box), 1.0)
            if share > 0.5:
                inside.append((i, round(share, 2), line.text))
    assert not inside, f"{r.name}: lines found inside the photo {r.page.figures}: {inside}"


# --- 5. blocks ---------------------------------------------------------------------------------

# Pages of many paragraphs: two columns of English prose, three of Chinese.
PARAGRAPH_PAGES = [COLUMN_PAGES[0], COLUMN_PAGES[3]]


@pytest.mark.parametrize("key", PARAGRAPH_PAGES, ids=page_id)
def test_blocks_round_trip_through_json(reads: Reads, key: tuple[str, str, int]) -> None:
    result = reads(key).result
    assert len(result.blocks) >= 4
    back = OcrResult.from_json(result.to_json())
    assert back.blocks == result.blocks, "blocks changed through JSON"
    assert back.lines == result.lines, "lines changed through JSON"
    assert back.text == result.text, "text changed through JSON"
    assert back == result, "the result changed through JSON"


@pytest.mark.parametrize("key", PARAGRAPH_PAGES, ids=page_id)
def test_blocks_partition_the_lines_in_reading_order(reads: Reads, key: tuple[str, str, int]) -> None:
    result = reads(key).result
    indexes = [i for b in result.blocks for i in b.lines]
    assert sorted(indexes) == list(range(len(result.lines))), "every line in exactly one block"
    for b in result.blocks:
        assert b.lines == sorted(b.lines), f"a block's lines out of order: {b.lines}"
    firsts = [b.lines[0] for b in result.blocks]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts), f"blocks out of reading order: {firsts}"
    for b in result.blocks:  # each block's box holds its lines' boxes
        x0, y0, x1, y1 = bounds(b.box)
        for i in b.lines:
            lx0, ly0, lx1, ly1 = bounds(result.lines[i].box)
            assert x0 <= lx0 and y0 <= ly0 and lx1 <= x1 and ly1 <= y1


@pytest.mark.parametrize("key", PARAGRAPH_PAGES, ids=page_id)
def test_text_has_a_blank_line_between_blocks(reads: Reads, key: tuple[str, str, int]) -> None:
    result = reads(key).result
    chunks = result.text.split("\n\n")
    assert len(chunks) == len(result.blocks)
    for chunk, block in zip(chunks, result.blocks):
        assert chunk.split("\n") == [result.lines[i].text for i in block.lines]
