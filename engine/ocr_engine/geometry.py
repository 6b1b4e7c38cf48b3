"""Plane geometry shared by the stages: axis-aligned rectangles, spans and 2x3 affine maps.

A :data:`Rect` is ``(x, y, w, h)`` in pixels; a span is the half-open interval ``(start, end)``
a rectangle covers along one axis. The span helpers take numbers or numpy arrays alike, so
the detector can test one box against many at once. Affine maps are ``2x3`` matrices acting
on ``[N, 2]`` arrays of ``(x, y)`` points.

Example:
    >>> union((0, 0, 10, 10), (20, 5, 10, 10))
    (0, 0, 30, 15)
    >>> int(span_overlap(0, 10, 5, 20)), int(span_overlap(0, 10, 15, 20))  # negative: the gap
    (5, -5)
    >>> apply_affine(np.array([[2.0, 3.0]]), from_clockwise(100)).tolist()
    [[3.0, 98.0]]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from ocr_engine.schema import Char, Line

Rect = tuple[int, int, int, int]  # x, y, w, h


def x_span(r: Rect) -> tuple[int, int]:
    """``(left, right)`` of ``r``."""
    return r[0], r[0] + r[2]


def y_span(r: Rect) -> tuple[int, int]:
    """``(top, bottom)`` of ``r``."""
    return r[1], r[1] + r[3]


def centre_y(r: Rect) -> float:
    """The vertical centre of ``r``."""
    return r[1] + r[3] / 2


def transposed(r: Rect) -> Rect:
    """``r`` in the transposed image (x and y swapped).

    Example:
        >>> transposed((1, 2, 3, 4))
        (2, 1, 4, 3)
    """
    x, y, w, h = r
    return y, x, h, w


def span_overlap(a0: ArrayLike, a1: ArrayLike, b0: ArrayLike, b1: ArrayLike) -> np.ndarray:
    """Length of the overlap of spans ``[a0, a1)`` and ``[b0, b1)``; negative: minus the gap.

    Elementwise over arrays (broadcast); a numpy scalar for numbers.
    """
    return np.minimum(a1, b1) - np.maximum(a0, b0)


def span_distance(a0: ArrayLike, a1: ArrayLike, b0: ArrayLike, b1: ArrayLike) -> np.ndarray:
    """How far apart spans ``[a0, a1)`` and ``[b0, b1)`` lie: the gap, negative when they overlap.

    Example:
        >>> int(span_distance(0, 10, 15, 20)), int(span_distance(0, 10, 2, 5))
        (5, -5)
    """
    return np.maximum(b0 - a1, a0 - b1)


def union(a: Rect, b: Rect) -> Rect:
    """The smallest rectangle holding ``a`` and ``b``."""
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def bounding(rects: Iterable[Rect]) -> Rect:
    """The smallest rectangle holding all of ``rects`` (at least one).

    Example:
        >>> bounding([(5, 5, 10, 10), (0, 8, 2, 20)])
        (0, 5, 15, 23)
    """
    rects = list(rects)
    x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
    x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


def apply_affine(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to ``[N, 2]`` points."""
    return points @ m[:, :2].T + m[:, 2]


def from_clockwise(h: int) -> np.ndarray:
    """Affine map from an image turned 90° clockwise back to the image (``h``: its height)."""
    return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, float(h)]])


def from_counterclockwise(w: int) -> np.ndarray:
    """Affine map from an image turned 90° counter-clockwise back to the image (``w``: its width)."""
    return np.array([[0.0, -1.0, float(w)], [1.0, 0.0, 0.0]])


def from_half_turn(w: int, h: int) -> np.ndarray:
    """Affine map from an image turned 180° back to the image (``w``, ``h``: its size)."""
    return np.array([[-1.0, 0.0, float(w)], [0.0, -1.0, float(h)]])


def map_line(line: Line, m: np.ndarray) -> Line:
    """A line with its box and character centres mapped by the affine ``m`` (to 0.1 px).

    Example:
        >>> turned = Line("ab", 0.9, [[0, 0], [20, 0], [20, 10], [0, 10]], [Char("a", 0.9, 5.0, 5.0)])
        >>> back = map_line(turned, from_counterclockwise(50))
        >>> back.box, back.chars[0].x, back.chars[0].y
        ([[50.0, 0.0], [50.0, 20.0], [40.0, 20.0], [40.0, 0.0]], 45.0, 5.0)
    """
    box = apply_affine(np.asarray(line.box, np.float64), m)
    chars = []
    for c in line.chars:
        x, y = apply_affine(np.array([[c.x, c.y]]), m)[0]
        chars.append(Char(c.text, c.confidence, round(float(x), 1), round(float(y), 1)))
    return Line(line.text, line.confidence, [[round(float(x), 1), round(float(y), 1)] for x, y in box], chars)
