"""Dotted leaders: the rows of dots that join a table of contents' entries to their page numbers.

The dots are too small to be text, and the gap they fill is too wide for the line finder to
join the entry and its page number, so a contents page would come out as two columns of
halves. :func:`join_leaders` joins two pieces of one row when a regular row of dots fills
the gap between them, and says where the dots are, so that the recogniser reads
``1.2 Installing 17`` rather than guessing at forty dots.

Example:
    >>> dots = [(130 + 10 * i, 16, 3, 3) for i in range(20)]
    >>> rects, leaders = join_leaders([(0, 0, 120, 20), (340, 0, 20, 20)], dots, 16.0)
    >>> rects, leaders[rects[0]]
    ([(0, 0, 360, 20)], [(129, 324)])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr_engine.geometry import Rect, span_overlap, union

# At least this many dots, spaced evenly (most steps within this share of the usual one),
# the first and last at most END_GAP character heights from the pieces they join; a leader
# inside a line is at least MIN_LENGTH characters long (a Chinese ellipsis …… is two).
MIN_DOTS = 4
MIN_LENGTH = 4.0
SPACING_SPREAD = 0.35
END_GAP = 3.0
MAX_SPACING = 1.5  # character heights between two dots
# A short piece (a section number: at most NUMBER_WIDTH characters wide) at most NUMBER_GAP
# characters left of an entry with a leader is part of the entry.
NUMBER_WIDTH, NUMBER_GAP = 4.0, 6.0
# A page with at least this many entries with leaders is a contents page.
MIN_ENTRIES = 3


def is_dot(w: np.ndarray, h: np.ndarray, char_h: float) -> np.ndarray:
    """Which components ``w`` x ``h`` are small enough to be a leader's dots."""
    return (np.asarray(h) <= 0.4 * char_h) & (np.asarray(w) <= 0.5 * char_h)


def _leader_between(a: Rect, b: Rect, dots: np.ndarray, char_h: float) -> tuple[int, int] | None:
    """The span ``(x0, x1)`` of a dotted leader from ``a`` to ``b`` (on one row), or ``None``."""
    gap0, gap1 = a[0] + a[2], b[0]
    y0, y1 = min(a[1], b[1]), max(a[1] + a[3], b[1] + b[3])
    cx = dots[:, 0] + dots[:, 2] / 2.0
    cy = dots[:, 1] + dots[:, 3] / 2.0
    inside = (cx > gap0) & (cx < gap1) & (cy >= y0) & (cy <= y1)
    if inside.sum() < MIN_DOTS:
        return None
    xs = np.sort(cx[inside])
    ys = cy[inside]
    steps = np.diff(xs)
    if (xs[0] - gap0 > END_GAP * char_h or gap1 - xs[-1] > END_GAP * char_h
            or steps.max() > MAX_SPACING * char_h or ys.std() > 0.15 * char_h
            or steps.std() > SPACING_SPREAD * steps.mean()):
        return None
    x0 = float(dots[inside, 0].min()) - 1
    x1 = float((dots[inside, 0] + dots[inside, 2]).max()) + 1
    return int(max(gap0, x0)), int(min(gap1, np.ceil(x1)))


def _runs(dots: np.ndarray, char_h: float) -> list[np.ndarray]:
    """Runs of dots (sorted by x) that could be leaders: evenly spaced, on one level."""
    order = np.argsort(dots[:, 0])
    d = dots[order]
    cx = d[:, 0] + d[:, 2] / 2.0
    breaks = np.flatnonzero(np.diff(cx) > MAX_SPACING * char_h) + 1
    out = []
    for run in np.split(np.arange(len(d)), breaks):
        if len(run) < MIN_DOTS:
            continue
        steps = np.diff(cx[run])
        cy = d[run, 1] + d[run, 3] / 2.0
        step = float(np.median(steps))
        apart = step >= 1.3 * d[run, 2].mean()  # dots, not a row of small letters
        # evenly spaced: most steps near the usual one, none wider than a missing dot or two
        even = (np.abs(steps - step) <= SPACING_SPREAD * step).mean() >= 0.8 and steps.max() <= 3.2 * step
        if apart and even and cy.std() <= 0.15 * char_h:
            out.append(d[run])
    return out


def count_leader_dots(dots: np.ndarray, char_h: float) -> int:
    """How many of ``dots`` (``x, y, w, h`` rows) lie in rows of leader dots, anywhere on a page.

    Example:
        >>> leader = [(130 + 10 * i, 16, 3, 3) for i in range(20)]
        >>> count_leader_dots(np.array(leader + [(5, 300, 3, 3)], float), 16.0)
        20
    """
    if len(dots) < MIN_DOTS:
        return 0
    level = np.round((dots[:, 1] + dots[:, 3] / 2.0) / (0.3 * char_h)).astype(np.int64)
    return sum(len(run) for lv in np.unique(level) for run in _runs(dots[level == lv], char_h))


def leader_spans(rect: Rect, dots: np.ndarray, char_h: float) -> list[tuple[int, int]]:
    """The ``(x0, x1)`` spans of the dotted leaders inside a line ``rect``.

    Example:
        >>> dots = np.array([(130 + 10 * i, 16, 3, 3) for i in range(20)] + [(20, 2, 3, 3)], float)
        >>> leader_spans((0, 0, 360, 20), dots, 16.0)
        [(129, 324)]
    """
    x, y, w, h = rect
    cx = dots[:, 0] + dots[:, 2] / 2.0
    cy = dots[:, 1] + dots[:, 3] / 2.0
    inside = dots[(cx > x) & (cx < x + w) & (cy >= y) & (cy <= y + h)]
    spans = []
    for run in _runs(inside, char_h):
        x0, x1 = float(run[:, 0].min()) - 1, float((run[:, 0] + run[:, 2]).max()) + 1
        if x1 - x0 >= MIN_LENGTH * char_h:
            spans.append((int(max(x, x0)), int(min(x + w, np.ceil(x1)))))
    return spans


def _same_row(a: Rect, b: Rect) -> bool:
    return (span_overlap(a[1], a[1] + a[3], b[1], b[1] + b[3]) >= 0.5 * min(a[3], b[3])
            and max(a[3], b[3]) <= 2.2 * min(a[3], b[3]))


def join_leaders(rects: Sequence[Rect], dots: Sequence[Rect], char_h: float,
                 ) -> tuple[list[Rect], dict[Rect, list[tuple[int, int]]]]:
    """Join the pieces of a contents page's entries: across dotted leaders, and (on a page
    with :data:`MIN_ENTRIES` leaders or more) the section numbers left of an entry and the
    page numbers in the column right of them (:func:`_join_entry_rows`).

    Args:
        rects: The row pieces the line finder found (``x, y, w, h``).
        dots: Boxes of the components small enough to be dots (:func:`is_dot`).
        char_h: The character height.

    Returns:
        The pieces, those joined replaced by their union (pieces that are dots of a leader
        dropped); and for each piece that holds leaders (:func:`leader_spans`), their
        ``(x0, x1)`` spans.
    """
    leaders: dict[Rect, list[tuple[int, int]]] = {}
    if len(dots) < MIN_DOTS:
        return list(rects), leaders
    d = np.asarray(dots, np.float64)
    specks = [r for r in rects if is_dot(r[2], r[3], char_h)]
    pieces = sorted((r for r in rects if not is_dot(r[2], r[3], char_h)), key=lambda r: r[0])
    used = [False] * len(pieces)
    out: list[Rect] = []
    for i in range(len(pieces)):
        if used[i]:
            continue
        a = pieces[i]
        for j in range(i + 1, len(pieces)):
            # the nearest piece to the right of ``a`` on its row (``a`` grows as it joins)
            b = pieces[j]
            if used[j] or b[0] < a[0] + a[2] or not _same_row(a, b):
                continue
            if _leader_between(a, b, d, char_h) is None:
                break
            a = union(a, b)
            used[j] = True
        out.append(a)
    for r in out:
        spans = leader_spans(r, d, char_h)
        if spans:
            leaders[r] = spans
    if len(leaders) >= MIN_ENTRIES:
        out = _join_entry_rows(out, leaders, char_h)
        # the leaders of the joined entries, found again (a leader the line finder had left
        # out as a dotted rule lies inside an entry joined to its page number)
        leaders = {r: spans for r in out if (spans := leader_spans(r, d, char_h))}
    kept = [r for r in specks if not any(_inside(r, q) for q in leaders)]
    return out + kept, leaders


def _inside(r: Rect, q: Rect) -> bool:
    cx, cy = r[0] + r[2] / 2, r[1] + r[3] / 2
    return q[0] <= cx <= q[0] + q[2] and q[1] <= cy <= q[1] + q[3]


def _join_entry_rows(rects: list[Rect], leaders: dict[Rect, list[tuple[int, int]]], char_h: float) -> list[Rect]:
    """On a contents page: join each row that ends in the page-number column (pieces at most
    :data:`NUMBER_WIDTH` characters wide whose right edges line up with the entries' with
    leaders), and the section number left of an entry, into one entry (``leaders`` is
    updated for the joined pieces)."""
    right = float(np.median([r[0] + r[2] for r in leaders]))
    out = list(rects)
    numbers = [r for r in out if r not in leaders and r[2] <= NUMBER_WIDTH * char_h
               and abs(r[0] + r[2] - right) <= 1.5 * char_h]
    for number in numbers:
        row = [r for r in out if r[0] + r[2] <= number[0] + 1 and _same_row(r, number)]
        if not row:
            continue
        joined = number
        for r in row:
            joined = union(joined, r)
        spans = [s for r in row for s in leaders.pop(r, [])]
        out = [r for r in out if r != number and r not in row] + [joined]
        if spans:
            leaders[joined] = spans
    for entry in [r for r in out if r in leaders]:
        near = [r for r in out if r != entry and r not in leaders and r[2] <= NUMBER_WIDTH * char_h
                and 0 <= entry[0] - (r[0] + r[2]) <= NUMBER_GAP * char_h and _same_row(r, entry)]
        if near:
            number = max(near, key=lambda r: r[0])
            joined = union(number, entry)
            leaders[joined] = leaders.pop(entry)
            out = [r for r in out if r != number and r != entry] + [joined]
    return out
