"""Vertical text: telling it apart from horizontal text, and turning a column into a line.

Chinese is also written in columns, read top to bottom, columns right to left.
:func:`find_columns` finds the columns of a page from its ink projections,
:func:`looks_vertical` decides whether they explain the page better than the lines the
horizontal line finder found, and :func:`column_to_line` cuts a column into character cells
and lays them side by side, so that the recogniser (trained on horizontal lines of upright
characters) reads it like any line. The order of the columns is
:func:`ocr_engine.layout.column_order`.

Example:
    >>> import numpy as np
    >>> column = np.full((100, 20), 255, np.uint8)
    >>> column[10:28, 2:18] = 0; column[50:68, 2:18] = 0          # two "characters"
    >>> line, cells = column_to_line(column)
    >>> len(cells), line.shape[0]
    (2, 20)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_engine.detection.strokes import Strokes, select
from ocr_engine.geometry import Rect, transposed
from ocr_engine.preprocess import text_mask


def gap_share(mask: np.ndarray, rects: Sequence[Rect]) -> tuple[float | None, int]:
    """Share of ink-free columns inside the long boxes (width >= 3 x height), and their length.

    Along a real line the characters follow each other closely; a "line" the horizontal
    closing made across the columns of vertical text is mostly gutter.

    Example:
        >>> m = np.zeros((10, 40), np.uint8); m[:, :30] = 255
        >>> gap_share(m, [(0, 0, 40, 10)])
        (0.25, 40)
    """
    total = gaps = 0
    for x, y, w, h in rects:
        if w < 3 * h:
            continue
        inked = (mask[y:y + h, x:x + w] > 0).any(axis=0)
        total += w
        gaps += int(w - inked.sum())
    return (gaps / total if total else None), total


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of True in a 1-D array.

    Example:
        >>> _runs(np.array([0, 1, 1, 0, 1], bool))
        [(1, 3), (4, 5)]
    """
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def find_columns(gray: np.ndarray, min_contrast: int = 24, strokes: Strokes | None = None) -> list[Rect]:
    """Columns of text from the page's ink projections (for pages of vertical text).

    Rules and frames (components over 8 times longer than wide and a third of the page long)
    are ignored; the x-projection's bands are the columns (bands under 0.35 times the widest
    are rule remnants); within a band, ink runs closer than the band's width are one column.
    ``strokes``: those of ``gray``'s :func:`~ocr_engine.preprocess.text_mask`, when the caller has them.

    Example:
        >>> page = np.full((200, 120), 255, np.uint8)
        >>> for y in range(10, 180, 24): page[y:y + 18, 20:40] = 0   # a column of 8 "characters"
        >>> for y in range(10, 90, 24): page[y:y + 18, 80:100] = 0   # and one of 4
        >>> find_columns(page)
        [(18, 9, 24, 188), (78, 9, 24, 92)]
    """
    strokes = Strokes.of(text_mask(gray, min_contrast)) if strokes is None else strokes
    h, w = strokes.mask.shape
    st = strokes.stats
    hs, ws, areas = st[1:, cv2.CC_STAT_HEIGHT], st[1:, cv2.CC_STAT_WIDTH], st[1:, cv2.CC_STAT_AREA]
    rules = ((hs > 8 * ws) & (hs > h / 3)) | ((ws > 8 * hs) & (ws > w / 3)) | (areas < 6)
    ink = select(strokes, np.r_[False, ~rules]) > 0
    prof = ink.sum(axis=0).astype(np.float64)
    if prof.max() <= 0:
        return []
    k = max(3, w // 100)
    on = np.convolve(prof, np.ones(k) / k, mode="same") > 0.05 * prof.max()
    bands = _runs(on)
    widest = max(b - a for a, b in bands)
    cols: list[Rect] = []
    for a, b in bands:
        bw = b - a
        if bw < 0.35 * widest or bw < 4:
            continue
        runs: list[list[int]] = []
        for s0, s1 in _runs(ink[:, a:b].any(axis=1)):
            if runs and s0 - runs[-1][1] < bw:
                runs[-1][1] = s1
            else:
                runs.append([s0, s1])
        cols += [(a, s0, bw, s1 - s0) for s0, s1 in runs if s1 - s0 >= 0.5 * bw]
    return cols


def looks_vertical(gray: np.ndarray, rows: Sequence[Rect], columns: Sequence[Rect],
                   min_contrast: int = 24, mask: np.ndarray | None = None) -> bool:
    """Whether ``columns`` (from :func:`find_columns`) explain the page better than ``rows``.

    Vertical when some column is at least 3 times taller than wide, the columns hold about
    square characters (median cell height 0.5-1.4 times the column width, 3 or more cells
    per column on average), the columns' share of
    ink-free rows is under 0.75 times the share of ink-free columns along the long rows
    (characters follow each other closely in the reading direction; rows the horizontal line
    finder drew across columns are mostly gutter), and the columns are at least 0.7 times
    as long in total as the rows.

    Args:
        gray: The page.
        rows: Boxes of the horizontal line finder on ``gray``.
        columns: Columns found on ``gray``.
        min_contrast: Stroke contrast of :func:`~ocr_engine.preprocess.text_mask`.
        mask: That mask of ``gray``, when the caller has it already.
    """
    if not columns or max(c[3] / max(c[2], 1) for c in columns) < 3:
        return False
    mask = text_mask(gray, min_contrast) if mask is None else mask
    # Columns of CJK text are stacks of roughly square characters.
    shapes = []
    for x, y, w, h in columns:
        cells = _cells((mask[y:y + h, x:x + w] > 0).any(axis=1), w)
        shapes += [(b - a) / max(w, 1) for a, b in cells]
    if len(shapes) < 3 * len(columns) or not 0.5 <= float(np.median(shapes)) <= 1.4:
        return False
    gap_rows, len_rows = gap_share(mask, rows)
    gap_cols, len_cols = gap_share(np.ascontiguousarray(mask.T), [transposed(c) for c in columns])
    if gap_cols is None:
        return False
    if gap_rows is None:  # no line at all across: a lone column
        return True
    return gap_cols < 0.75 * gap_rows and len_cols >= 0.7 * len_rows


@dataclass(frozen=True)
class Cell:
    """One character cell: rows ``y0:y1`` of the column, columns ``x0:x1`` of the line."""

    y0: int
    y1: int
    x0: int
    x1: int


def _cells(ink_rows: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Row spans of the characters: ink runs, the closest first merged while under 1.15 x width."""
    spans = [[a, b] for a, b in _runs(ink_rows)]
    limit = 1.15 * width
    if len(spans) > 300:  # noise, not a column of characters: keep the cost bounded
        return [(a, b) for a, b in spans]
    while len(spans) > 1:
        gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
        order = np.argsort(gaps)
        for i in order.tolist():
            if spans[i + 1][1] - spans[i][0] <= limit:  # parts of one character (二, 只, 思)
                spans[i] = [spans[i][0], spans[i + 1][1]]
                del spans[i + 1]
                break
        else:
            break
    return [(a, b) for a, b in spans]


def _split_tall(spans: list[tuple[int, int]], row_ink: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Split runs as tall as several characters (touching strokes: 非非) at their faintest rows.

    A run over 1.4 times the typical cell height (the median run, kept within 0.8-1.2 times
    the ink width: characters are about square) is
    cut into ``round(height / typical)`` parts, each cut at the row with the least ink within
    a quarter cell of its even position.
    """
    typical = min(max(float(np.median([b - a for a, b in spans])), 0.8 * width), 1.2 * width)
    out: list[tuple[int, int]] = []
    for a, b in spans:
        parts = int(round((b - a) / typical))
        if (b - a) <= 1.4 * typical or parts < 2:
            out.append((a, b))
            continue
        cuts, start = [], a
        for i in range(1, parts):
            ideal = a + (b - a) * i // parts
            lo, hi = max(start + 1, ideal - int(typical / 4)), min(b - 1, ideal + int(typical / 4))
            cut = lo + int(np.argmin(row_ink[lo:hi])) if hi > lo else ideal
            cuts.append(cut)
            start = cut
        edges = [a, *cuts, b]
        out.extend((edges[i], edges[i + 1]) for i in range(len(edges) - 1))
    return out


def column_to_line(column: np.ndarray, gap: float = 0.15) -> tuple[np.ndarray, list[Cell]]:
    """Cut a vertical column (gray, upright characters) into cells and lay them out as a line.

    Cells are the column's ink runs; the closest runs are merged first as long as the merged
    run stays under 1.15 times the column's ink width (CJK characters are about square), so
    the strokes of 二 or 旦 stay one character. Each cell keeps its size and is centred in a
    line as high as the column is wide, ``gap`` x that height apart, on the column's
    background. Rules running down the column (thin, longer than a character) are painted over.

    Returns:
        The line image and the cells (where each came from, where it went).
    """
    gray = column if column.ndim == 2 else cv2.cvtColor(column, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    background = int(np.median(np.r_[gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    raw = text_mask(gray)
    n, lab, st, _ = cv2.connectedComponentsWithStats(raw, connectivity=8)
    rule = np.r_[False, (st[1:, cv2.CC_STAT_HEIGHT] > 4 * st[1:, cv2.CC_STAT_WIDTH])
                 & (st[1:, cv2.CC_STAT_HEIGHT] > 1.5 * w)]  # thin and longer than a character
    if rule.any():  # column rules inside the box: painted over, not characters
        gray = gray.copy()
        gray[cv2.dilate(rule[lab].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = background
    mask = (raw > 0) & ~rule[lab]
    cols = np.flatnonzero(mask.any(axis=0))
    ink_w = int(cols[-1] - cols[0] + 1) if cols.size else w
    spans = _cells(mask.any(axis=1), ink_w) or [(0, h)]
    spans = _split_tall(spans, mask.sum(axis=1), ink_w)
    height = max(w, max(b - a for a, b in spans))
    space = max(1, int(round(gap * height)))
    width = len(spans) * (w + space) + space
    line = np.full((height, width), background, np.uint8)
    cells = []
    x = space
    for a, b in spans:
        top = (height - (b - a)) // 2
        line[top:top + (b - a), x:x + w] = gray[a:b]
        cells.append(Cell(a, b, x, x + w))
        x += w + space
    return line, cells


def line_x_to_column_y(x: float, cells: Sequence[Cell]) -> float:
    """Map a horizontal position in the line back to a row of the column.

    Example:
        >>> line_x_to_column_y(15.0, [Cell(0, 20, 10, 30), Cell(40, 60, 40, 60)])
        5.0
    """
    for c in cells:
        if x < c.x1 or c is cells[-1]:
            t = min(max((x - c.x0) / max(c.x1 - c.x0, 1), 0.0), 1.0)
            return c.y0 + t * (c.y1 - c.y0)
    return 0.0
