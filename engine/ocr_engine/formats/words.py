"""Pages, blocks and words for the layout formats (hOCR, ALTO, Textract, PDF).

A line's words are cut from its text: each Chinese (or other wide) character is a word of
its own, other characters run into words split on whitespace. A word's box is the stretch
of its line's box, along the way the text reads (:func:`reading_box`: down a column of
vertical Chinese), between the midpoints to the neighbouring characters' centres (evenly
spaced characters when a line has no character positions).

Example:
    >>> from ocr_engine.schema import Line
    >>> line = Line("你好 ok", 0.9, [[0, 0], [100, 0], [100, 20], [0, 20]])
    >>> [(w.text, bbox(w.box, outward=False)) for w in words_of(line)]
    [('你', (0, 0, 20, 20)), ('好', (20, 0, 40, 20)), ('ok', (60, 0, 100, 20))]
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from ocr_engine.schema import Block, DocumentResult, Line, OcrResult, Point


@dataclass(frozen=True)
class Page:
    """One page of a result: its 1-based number in the source and its render resolution."""

    number: int
    result: OcrResult
    dpi: float | None = None


@dataclass(frozen=True)
class Word:
    """A word of a line: its text, mean character confidence (0-1) and box (4 points: the
    start of its top edge as read, the end, then the bottom edge's end and start);
    ``space_after`` when whitespace follows it in the line."""

    text: str
    confidence: float
    box: list[Point]
    space_after: bool = False


def pages_of(result: OcrResult | DocumentResult) -> list[Page]:
    """The pages of a document result, or an image result as page 1."""
    if isinstance(result, DocumentResult):
        dpis = list(result.dpi) + [None] * (len(result.pages) - len(result.dpi))
        return [Page(result.first_page + i, page, dpis[i]) for i, page in enumerate(result.pages)]
    return [Page(1, result)]


def is_wide(ch: str) -> bool:
    """Whether a character is a word on its own: CJK ideographs, kana, hangul, full-width forms
    and CJK punctuation.

    Example:
        >>> [is_wide(c) for c in "中a，。Ａ"]
        [True, False, True, True, True]
    """
    return unicodedata.east_asian_width(ch) in ("W", "F")


def bbox(points: list[Point], width: float | None = None, height: float | None = None, *,
         outward: bool = True) -> tuple[int, int, int, int]:
    """Whole-pixel bounds ``(x0, y0, x1, y1)`` of points, clamped to the page when its size is given.

    ``outward``: widened to whole pixels (lines: the box holds all of the line); else rounded
    (words: neighbours do not overlap, and each stays inside its line's widened box).
    """
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    lo, hi = (math.floor, math.ceil) if outward else (round, round)
    x0, y0, x1, y1 = lo(min(xs)), lo(min(ys)), hi(max(xs)), hi(max(ys))
    if width is not None and height is not None:
        x0, x1 = min(max(x0, 0), int(width)), min(max(x1, 0), int(width))
        y0, y1 = min(max(y0, 0), int(height)), min(max(y1, 0), int(height))
    return x0, y0, x1, y1


def block_boxes(page: OcrResult) -> list[tuple[Block, tuple[int, int, int, int]]]:
    """The page's blocks as the layout formats write them, in reading order, with their bounds.

    The blocks of :meth:`~ocr_engine.schema.OcrResult.reading_blocks` (one for all lines when
    the page has none), each keeping only its lines with words (whitespace-only lines have
    none), blocks left with no line left out. The bounds: :func:`bbox` of the block's box,
    grown to hold its lines' bounds (so a line is always inside its block), clamped to the page.

    Example:
        >>> from ocr_engine.schema import blocks_from_groups
        >>> page = OcrResult(width=100, height=60, lines=[
        ...     Line("a", 0.9, [[0, 0], [50, 0], [50, 10], [0, 10]]), Line(" ", 0.9, [[0, 20], [9, 20], [9, 29], [0, 29]]),
        ...     Line("b", 0.9, [[5, 40], [40, 40], [40, 50.5], [5, 50.5]])])
        >>> page.blocks = blocks_from_groups(page.lines, [[0], [1], [2]])
        >>> [(b.lines, box) for b, box in block_boxes(page)]
        [([0], (0, 0, 50, 10)), ([2], (5, 40, 40, 51))]
    """
    w, h = page.width, page.height
    out = []
    for block in page.reading_blocks():
        kept = [i for i in block.lines if page.lines[i].text.strip()]
        if not kept:
            continue
        boxes = [bbox(block.box, w, h)] + [bbox(page.lines[i].box, w, h) for i in kept]
        bounds = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        out.append((block if kept == block.lines else Block(block.box, kept), bounds))
    return out


def _chars_match(line: Line) -> bool:
    return len(line.chars) == len(line.text) and "".join(c.text for c in line.chars) == line.text


def reading_box(line: Line) -> list[Point]:
    """The line's box with its first edge along the way the text reads.

    A horizontal (or turned) line's box already is; a column of vertical Chinese comes as the
    column's upright rectangle, its characters running down from its top edge. Its reading box
    is that rectangle turned a quarter clockwise: top-right, bottom-right, bottom-left,
    top-left (the text read downwards, its tops to the right). A line is a column when its
    characters spread further down its left edge than along its top edge (with no character
    positions: when that edge is over twice as long and there are two characters or more).

    Example:
        >>> column = Line("竖排", 0.9, [[0, 0], [20, 0], [20, 60], [0, 60]])
        >>> reading_box(column)
        [[20, 0], [20, 60], [0, 60], [0, 0]]
    """
    tl, tr, br, bl = line.box
    ax, ay = tr[0] - tl[0], tr[1] - tl[1]  # along the top edge
    dx, dy = bl[0] - tl[0], bl[1] - tl[1]  # down the left edge
    along, down = math.hypot(ax, ay), math.hypot(dx, dy)
    if along <= 0 or down <= 0:
        return line.box
    if _chars_match(line) and len(line.chars) >= 2:
        pa = [(c.x * ax + c.y * ay) / along for c in line.chars]
        pd = [(c.x * dx + c.y * dy) / down for c in line.chars]
        vertical = max(pd) - min(pd) > max(pa) - min(pa)
    else:
        vertical = down > 2 * along and len(line.text.strip()) >= 2
    return [tr, br, bl, tl] if vertical else line.box


def _positions(line: Line, box: list[Point]) -> list[float]:
    """Each character's centre as a fraction (0-1) of the way along the first edge of ``box``."""
    text = line.text
    n = len(text)
    if not n:
        return []
    if _chars_match(line):
        (x0, y0), (x1, y1) = box[0], box[1]
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 > 0:
            ts, last = [], 0.0
            for c in line.chars:
                t = min(max(((c.x - x0) * dx + (c.y - y0) * dy) / length2, 0.0), 1.0)
                last = max(last, t)  # never backwards
                ts.append(last)
            return ts
    return [(i + 0.5) / n for i in range(n)]


def _span(box: list[Point], a: float, b: float) -> list[Point]:
    """The part of a reading box from fraction ``a`` to ``b`` of its length."""
    tl, tr, br, bl = box

    def along(p: Point, q: Point, t: float) -> Point:
        return [round(p[0] + (q[0] - p[0]) * t, 2), round(p[1] + (q[1] - p[1]) * t, 2)]

    return [along(tl, tr, a), along(tl, tr, b), along(bl, br, b), along(bl, br, a)]


def words_of(line: Line) -> list[Word]:
    """The line's words in reading order (whitespace-only lines have none)."""
    text = line.text
    box = reading_box(line)
    ts = _positions(line, box)
    edges = [0.0] + [(ts[i - 1] + ts[i]) / 2 for i in range(1, len(ts))] + [1.0]
    confs = [c.confidence for c in line.chars] if _chars_match(line) else [line.confidence] * len(text)
    words: list[Word] = []
    start: int | None = None  # first character of the word being read

    def close(end: int, space_after: bool = False) -> None:
        nonlocal start
        if start is not None:
            conf = sum(confs[start:end]) / (end - start)
            words.append(Word(text[start:end], round(conf, 4), _span(box, edges[start], edges[end]), space_after))
            start = None

    for i, ch in enumerate(text):
        if ch.isspace():
            close(i, space_after=True)
            if words and not words[-1].space_after:
                words[-1] = Word(words[-1].text, words[-1].confidence, words[-1].box, True)
        elif is_wide(ch):
            close(i)
            start = i
            close(i + 1)
        else:
            if start is None:
                start = i
    close(len(text))
    return words
