"""Column gutters: the tall, narrow strips of white between columns of text.

The line finder must never join two columns' lines across a gutter, and reading order reads
a page column by column between them. A gutter is found from the page's character boxes by
whitespace analysis on a coarse grid (:func:`find_gutters`):

1. the boxes are painted on a grid of cells a sixth of a line high, smeared along rows so
   that the spaces between letters and words fill in;
2. a cell is *tall white* when the white run of its grid column is at least
   :data:`MIN_LINES` lines long: the white between lines of one column never is, the white
   between two columns is;
3. tall-white strips at least :data:`MIN_WIDTH` lines wide are candidates; the strip's core
   (white over its whole height) is the gutter;
4. a candidate is kept only with text columns on both sides: rows of dense ink reaching up
   to it for at least :data:`SIDE_LINES` lines each side, so that the gap between the items
   and the prices of a receipt (a narrow column of short words) is not a gutter; and one of
   the two columns must be straight along it (:data:`STRAIGHT`: the left edge of the right
   column, or the right edge of the left one), so that a river of spaces that happen to
   line up in a few lines of one column is not a gutter either; and, unless it runs down
   :data:`LONG_LINES` lines of text or more, it must be :data:`WORD_GAPS` times as wide as the
   spaces between the words beside it.

Example:
    >>> left = [(100 + 30 * i, 100 + 40 * r, 24, 24) for r in range(8) for i in range(10)]
    >>> right = [(x + 360, y, w, h) for x, y, w, h in left]
    >>> [(g.x0 > 390, g.x1 < 470) for g in find_gutters(left + right, 28.0, (600, 800))]
    [(True, True)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_engine.geometry import Rect

# A gutter is white for at least this many line heights down the page ...
MIN_LINES = 5.0
# ... at least this many line heights wide (one em of a page set at 1.2 line spacing is 0.8);
MIN_WIDTH = 0.5
# ... with text reaching up to it (within NEAR lines) on both sides, over SIDE_LINES lines each.
NEAR = 2.0
SIDE_LINES = 4.0
# A row beside the gutter is text when its smeared ink fills this share of a window WINDOW
# line heights wide: a line of words does, a column of prices or numbers does not.
WINDOW = 5.0
DENSE = 0.45
# Most rows (this share) of a column beside a gutter reach it within STRAIGHT_TOLERANCE
# lines of one another.
STRAIGHT = 0.6
STRAIGHT_TOLERANCE = 0.3
# A gutter is at least this many times as wide as the spaces between words beside it (the
# spaces of a list or a code block whose lines are alike line up too).
WORD_GAPS = 1.5
# ... unless it runs beside at least this many lines of text each side (a line's ink fills
# about INK_ROWS of its height): spaces of a short list line up, a Chinese gutter of one em
# (no wider than the white after a full-width comma) runs long.
LONG_LINES = 10.0
INK_ROWS = 0.7
# Cells per line height on the grid.
CELLS_PER_LINE = 8


@dataclass(frozen=True)
class Gutter:
    """White between two columns: ``x0..x1`` across, ``y0..y1`` down (pixels of the page searched)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def x(self) -> float:
        """The gutter's middle."""
        return (self.x0 + self.x1) / 2.0

    def scaled(self, factor: float) -> Gutter:
        """The gutter in an image ``factor`` times the size."""
        return Gutter(*(int(round(v * factor)) for v in (self.x0, self.y0, self.x1, self.y1)))


def _ink_grid(rects: Sequence[Rect], cell: float, shape: tuple[int, int]) -> np.ndarray:
    gh, gw = int(shape[0] / cell) + 1, int(shape[1] / cell) + 1
    ink = np.zeros((gh, gw), np.uint8)
    for x, y, w, h in rects:
        ink[int(y / cell):int((y + h - 1) / cell) + 1, int(x / cell):int((x + w - 1) / cell) + 1] = 1
    return ink


def _tall_white(ink: np.ndarray, min_run: int) -> np.ndarray:
    """White cells whose vertical white run is at least ``min_run`` cells long."""
    gw = ink.shape[1]
    run = np.cumsum(ink, axis=0, dtype=np.int64)  # ink cells start a new white run below them
    key = run * gw + np.arange(gw)[None, :]
    white = ink == 0
    lengths = np.bincount(key[white], minlength=int(key.max()) + 1)
    return (white & (lengths[key] >= min_run)).astype(np.uint8)


def _side_rows(ink: np.ndarray, rows: slice, edge: int, step: int, near: int, window: int) -> int:
    """Rows in ``rows`` with dense text ink reaching up to column ``edge`` from one side
    (``step`` -1: the left, +1: the right)."""
    gw = ink.shape[1]
    if step < 0:
        lo, hi = max(0, edge - window), edge
        near_lo, near_hi = max(0, edge - near), edge
    else:
        lo, hi = edge + 1, min(gw, edge + 1 + window)
        near_lo, near_hi = edge + 1, min(gw, edge + 1 + near)
    if hi <= lo or near_hi <= near_lo:
        return 0
    band = ink[rows, lo:hi]
    reach = ink[rows, near_lo:near_hi].any(axis=1)
    dense = band.mean(axis=1) >= DENSE
    return int((reach & dense).sum())


def _straight(ink: np.ndarray, rows: slice, edge: int, near: int, step: int) -> bool:
    """Whether the ink beside column ``edge`` (``step`` +1: right of it, -1: left of it) starts
    at one column in most ``rows``."""
    if step > 0:
        band = ink[rows, edge + 1:edge + 1 + near].astype(bool)
    else:
        band = ink[rows, max(0, edge - near):edge][:, ::-1].astype(bool)
    has = band.any(axis=1)
    if not has.any():
        return False
    first = band.argmax(axis=1)[has]
    close = np.abs(first - np.median(first)) <= STRAIGHT_TOLERANCE * CELLS_PER_LINE
    return float(close.mean()) >= STRAIGHT


def _word_gap(raw: np.ndarray, rows: slice, c0: int, c1: int, window: int) -> float:
    """The lower quartile of the spaces (white gaps of two cells or more, ink on both sides)
    between the ink of the rows beside a strip (``c0..c1``), in cells: the spaces between
    words there (the quartile: a few wider gaps, after punctuation, do not count)."""
    found = []
    for lo, hi in ((max(0, c0 - window), c0), (c1, min(raw.shape[1], c1 + window))):
        band = raw[rows, lo:hi]
        if band.shape[1] < 3:
            continue
        # For each white cell, the ink cells before and after it in its row.
        ink = band.astype(bool)
        cols = np.arange(band.shape[1])
        before = np.maximum.accumulate(np.where(ink, cols, -1), axis=1)
        after = np.minimum.accumulate(np.where(ink, cols, band.shape[1])[:, ::-1], axis=1)[:, ::-1]
        starts = ~ink & (before >= 0) & (after < band.shape[1]) & (np.roll(ink, 1, axis=1))
        found.append((after - before - 1)[starts])
    gaps = np.concatenate(found) if found else np.zeros(0)
    gaps = gaps[gaps >= 2]
    return float(np.percentile(gaps, 25)) if gaps.size else 0.0


def find_gutters(rects: Sequence[Rect], line_h: float, shape: tuple[int, int]) -> list[Gutter]:
    """The gutters between columns of text on a page.

    Args:
        rects: Boxes of the page's characters (or words), ``x, y, w, h``; rules and pictures
            left out (a rule down a gutter is part of the white here).
        line_h: The height of a text line, pixels.
        shape: The page's ``(height, width)``.

    Returns:
        The gutters, left to right.
    """
    if len(rects) < 8 or line_h <= 0:
        return []
    cell = max(1.0, line_h / CELLS_PER_LINE)
    raw = ink = _ink_grid(rects, cell, shape)
    # Fill the gaps between letters and words (at most a third of a line) along each row.
    smear = max(1, int(round(CELLS_PER_LINE / 3)))
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (smear + 1, 1)))
    min_run = int(MIN_LINES * CELLS_PER_LINE)
    tall = _tall_white(ink, min_run)
    # Only white with ink on both sides, in its row or a line above or below: page margins and
    # the white above and below the text are no gutter.
    rows = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * CELLS_PER_LINE + 1)))
    tall &= (np.cumsum(rows, axis=1) > 0) & (np.cumsum(rows[:, ::-1], axis=1)[:, ::-1] > 0)
    min_w = max(2, int(np.ceil(MIN_WIDTH * CELLS_PER_LINE)))
    tall = cv2.morphologyEx(tall, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min_w, 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(tall, connectivity=4)
    near, window = int(NEAR * CELLS_PER_LINE), int(WINDOW * CELLS_PER_LINE)
    side_min = int(SIDE_LINES * CELLS_PER_LINE)
    out: list[Gutter] = []
    for k in range(1, n):
        x, y, w, h = (int(v) for v in stats[k, :4])
        if h < min_run:
            continue
        part = labels[y:y + h, x:x + w] == k
        # The strips of the white that run down (nearly) all of it: a white shaped like a U
        # (two gutters and the blank below a short column between them) holds two.
        # (the most of it nearby: one white may join gutters of different heights, too)
        cover = part.sum(axis=0).astype(np.float32)
        nearby = cv2.dilate(cover[None, :], np.ones((1, 4 * CELLS_PER_LINE + 1), np.uint8))[0]
        strong = np.r_[False, (cover >= 0.9 * nearby) & (cover >= min_run), False].astype(np.int8)
        edges = np.diff(strong)
        for c0, c1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            if c1 - c0 < min_w:
                continue
            full = np.r_[False, part[:, c0:c1].mean(axis=1) >= 0.5, False].astype(np.int8)
            starts, ends = np.flatnonzero(np.diff(full) == 1), np.flatnonzero(np.diff(full) == -1)
            for r0, r1 in zip(starts.tolist(), ends.tolist()):
                if r1 - r0 >= min_run:
                    _keep_gutter(out, ink, raw, (x, y, c0, c1, r0, r1), cell, near, window, side_min)
    return sorted(out, key=lambda g: (g.x0, g.y0))


def _keep_gutter(out: list[Gutter], ink: np.ndarray, raw: np.ndarray, strip: tuple[int, ...], cell: float,
                 near: int, window: int, side_min: int) -> None:
    """Append the strip (``x, y`` of its white, columns ``c0..c1`` and rows ``r0..r1`` in it)
    to ``out`` when it passes the side tests of :func:`find_gutters`."""
    x, y, c0, c1, r0, r1 = strip
    rows = slice(y + r0, y + r1)
    beside = min(_side_rows(ink, rows, x + c0, -1, near, window), _side_rows(ink, rows, x + c1 - 1, +1, near, window))
    if (beside < side_min
            or not (_straight(ink, rows, x + c1 - 1, near, +1) or _straight(ink, rows, x + c0, near, -1))
            or (beside < LONG_LINES * INK_ROWS * CELLS_PER_LINE
                and c1 - c0 < WORD_GAPS * _word_gap(raw, rows, x + c0, x + c1, window))):
        return
    out.append(Gutter(int((x + c0) * cell), int((y + r0) * cell), int((x + c1) * cell), int((y + r1) * cell)))


def crosses(gutters: Sequence[Gutter], x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Whether the spans ``x0..x1`` (rows ``y0..y1``) run across the middle of a gutter.

    Example:
        >>> g = [Gutter(100, 0, 120, 500)]
        >>> crosses(g, np.array([50, 50]), np.array([90, 150]), np.array([10, 10]), np.array([30, 30])).tolist()
        [False, True]
    """
    hit = np.zeros(np.broadcast(x0, x1, y0, y1).shape, bool)
    for g in gutters:
        hit |= (x0 < g.x) & (x1 > g.x) & (y0 < g.y1) & (y1 > g.y0)
    return hit
