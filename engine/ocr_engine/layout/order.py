"""The order in which the found lines and columns are read.

:func:`reading_order` sorts horizontal lines (columns of text left to right, rows top to
bottom, by a recursive XY cut that also cuts where a heading spans the columns of a
:class:`~ocr_engine.layout.gutters.Gutter`); :func:`column_order` sorts the columns of
vertical text (right to left, each stack of columns top to bottom).

Example:
    >>> reading_order([(0, 40, 80, 20), (0, 0, 80, 20)])
    [(0, 0, 80, 20), (0, 40, 80, 20)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr_engine.geometry import Rect, centre_y, span_overlap, x_span, y_span
from ocr_engine.layout.gutters import Gutter


def _row_major(rects: list[Rect]) -> list[Rect]:
    """Top to bottom; left to right within a row (centres closer than half the smaller height)."""
    rows: list[list[Rect]] = []
    for r in sorted(rects, key=centre_y):
        cy = centre_y(r)
        if rows:
            last = rows[-1]
            ref = np.mean([centre_y(q) for q in last])
            if abs(cy - ref) < 0.5 * min(r[3], min(q[3] for q in last)):
                last.append(r)
                continue
        rows.append([r])
    return [r for row in rows for r in sorted(row, key=lambda r: r[0])]


def _gaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Empty intervals ``(start, end)`` between the union of ``spans``."""
    out = []
    spans = sorted(spans)
    reach = spans[0][1]
    for a, b in spans[1:]:
        if a > reach:
            out.append((reach, a))
        reach = max(reach, b)
    return out


def _is_column(rects: list[Rect], line_h: float) -> bool:
    """Enough long lines to be a text column (not a column of prices or labels)."""
    return len(rects) >= 2 and float(np.median([r[2] for r in rects])) >= 4 * line_h


def _heading_cuts(rects: list[Rect], gutters: Sequence[Gutter], line_h: float) -> list[float]:
    """Where to cut across the page above or below the columns of a gutter: at its top when a
    line just above it spans it (a heading over the columns), at its bottom when one just below
    does (a line under the columns), and only where no line is cut."""
    cuts = []
    for g in gutters:
        for r in rects:
            if not r[0] < g.x < r[0] + r[2]:
                continue
            if g.y0 - 2 * line_h <= r[1] + r[3] <= g.y0 + 0.5 * line_h:
                cuts.append(float(r[1] + r[3]))
            elif g.y1 - 0.5 * line_h <= r[1] <= g.y1 + 2 * line_h:
                cuts.append(float(r[1]))
    return sorted(c for c in set(cuts) if not any(r[1] < c - 1 and r[1] + r[3] > c + 1 for r in rects))


def _bands(rects: list[Rect], cuts: list[float]) -> list[list[Rect]]:
    bands: list[list[Rect]] = [[] for _ in range(len(cuts) + 1)]
    for r in rects:
        bands[int(np.searchsorted(cuts, centre_y(r)))].append(r)
    return [b for b in bands if b]


def _xy_order(rects: list[Rect], line_h: float, gutters: Sequence[Gutter] = (), depth: int = 0) -> list[Rect]:
    if len(rects) < 4 or depth > 8:
        return _row_major(rects)
    # A gutter between two text columns: read the left column first.
    col_gaps = [g for g in _gaps([x_span(r) for r in rects]) if g[1] - g[0] >= 1.5 * line_h]
    top, bottom = min(r[1] for r in rects), max(r[1] + r[3] for r in rects)
    found = [(float(g.x0), float(g.x1)) for g in gutters
             if g.y0 < bottom and g.y1 > top and not any(r[0] < g.x < r[0] + r[2] for r in rects)]
    for a, b in sorted(col_gaps, key=lambda g: g[0] - g[1]) + found:
        left = [r for r in rects if r[0] + r[2] / 2 <= (a + b) / 2]
        right = [r for r in rects if r[0] + r[2] / 2 > (a + b) / 2]
        if any(r[0] + r[2] > b and r[0] < a for r in rects):
            continue
        if _is_column(left, line_h) and _is_column(right, line_h):
            return _xy_order(left, line_h, gutters, depth + 1) + _xy_order(right, line_h, gutters, depth + 1)
    # A heading across the columns of a gutter: read it, then the columns.
    bands = _bands(rects, _heading_cuts(rects, gutters, line_h)) if gutters else []
    if len(bands) > 1:
        return [r for band in bands for r in _xy_order(band, line_h, gutters, depth + 1)]
    # Otherwise cut across at gaps clearly wider than the line spacing (titles, sections).
    row_gaps = _gaps([y_span(r) for r in rects])
    if row_gaps:
        spacing = float(np.median([b - a for a, b in row_gaps]))
        cuts = [(a + b) / 2 for a, b in row_gaps if b - a >= max(line_h, 1.5 * spacing)]
        if cuts:
            bands: list[list[Rect]] = [[] for _ in range(len(cuts) + 1)]
            for r in rects:
                bands[int(np.searchsorted(cuts, centre_y(r)))].append(r)
            if sum(1 for b in bands if b) > 1:
                return [r for band in bands for r in _xy_order(band, line_h, gutters, depth + 1)]
    return _row_major(rects)


def reading_order(rects: list[Rect], gutters: Sequence[Gutter] = ()) -> list[Rect]:
    """Sort boxes in reading order: columns left to right, rows top to bottom.

    Rows: boxes whose vertical centres are closer than half the smaller height
    share a row and are read left to right. Columns: a vertical gutter (at least
    1.5 line heights wide) with long text lines on both sides splits the page
    into columns, read one after the other (a recursive XY cut); a gutter
    beside short items (prices, labels) does not, so forms and receipts stay
    row by row. The ``gutters`` found on the page (narrower ones too) split it into
    columns the same way, and a line spanning one just above or below its columns (a
    heading) is read before or after them.

    Example:
        >>> reading_order([(50, 0, 10, 10), (0, 30, 10, 10), (0, 2, 10, 10)])
        [(0, 2, 10, 10), (50, 0, 10, 10), (0, 30, 10, 10)]
    """
    if not rects:
        return []
    line_h = float(np.median([r[3] for r in rects]))
    return _xy_order(list(rects), max(line_h, 1.0), gutters)


def column_order(rects: Sequence[Rect]) -> list[Rect]:
    """Columns of vertical text right to left; columns sharing most of their x-range, top to bottom.

    Example:
        >>> column_order([(0, 0, 10, 50), (20, 60, 10, 40), (20, 0, 10, 50)])
        [(20, 0, 10, 50), (20, 60, 10, 40), (0, 0, 10, 50)]
    """
    groups: list[list[Rect]] = []
    for r in sorted(rects, key=lambda r: -(r[0] + r[2] / 2)):
        for g in groups:
            g0, g1 = min(q[0] for q in g), max(q[0] + q[2] for q in g)
            if span_overlap(g0, g1, *x_span(r)) > 0.5 * min(r[2], g1 - g0):
                g.append(r)
                break
        else:
            groups.append([r])
    return [r for g in groups for r in sorted(g, key=lambda r: r[1])]
