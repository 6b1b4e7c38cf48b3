"""DB training targets from text-line polygons, at the model's output resolution.

For every line (a polygon in output pixels, any angle, horizontal lines and vertical columns
alike: only the outline matters):

- the **probability target** ``gt``: the polygon shrunk inward by ``D = A (1 - r^2) / L``
  (``A`` its area, ``L`` its perimeter, ``r`` = :data:`SHRINK_RATIO`), filled with 1;
- ``mask``: 0 where a line is too small to learn (shorter side under ``min_side`` px) or
  shrinks to nothing: such lines are neither text nor background;
- the **threshold target** ``thresh``: between the polygon shrunk and dilated by ``D``,
  ``1 - distance to the outline / D`` (the highest value on the outline), scaled to
  ``[THRESH_MIN, THRESH_MAX]``; :data:`THRESH_MIN` elsewhere;
- ``thresh_mask``: 1 inside the dilated polygons (where the threshold loss is taken).

Offsets are pyclipper's (``pip install pyclipper``): exact for any simple polygon.

Example:
    >>> import numpy as np
    >>> box = np.array([[10, 10], [110, 10], [110, 30], [10, 30]], float)
    >>> t = db_targets([box], (40, 120))
    >>> int(t.gt.sum()), float(t.gt[20, 60]), float(t.gt[11, 60]), round(float(t.thresh[10, 60]), 3)
    (609, 1.0, 0.0, 0.7)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper

SHRINK_RATIO = 0.4
THRESH_MIN, THRESH_MAX = 0.3, 0.7
MIN_SIDE = 6.0  # px at the output resolution: thinner lines are masked out


@dataclass
class DbTargets:
    """The four ``[H, W]`` float32 maps of one image."""

    gt: np.ndarray
    mask: np.ndarray
    thresh: np.ndarray
    thresh_mask: np.ndarray


def shrink_distance(poly: np.ndarray, ratio: float = SHRINK_RATIO) -> float:
    """``A (1 - r^2) / L`` of a polygon (0 for a degenerate one)."""
    area = abs(cv2.contourArea(poly.astype(np.float32)))
    length = cv2.arcLength(poly.astype(np.float32), True)
    return area * (1 - ratio**2) / length if length > 0 else 0.0


def offset(poly: np.ndarray, distance: float) -> list[np.ndarray]:
    """The polygon grown by ``distance`` (shrunk when negative): zero or more polygons."""
    pco = pyclipper.PyclipperOffset()
    pco.AddPath([tuple(p) for p in np.round(poly * 16).astype(np.int64).tolist()], pyclipper.JT_ROUND,
                pyclipper.ET_CLOSEDPOLYGON)
    return [np.array(p, np.float64) / 16 for p in pco.Execute(distance * 16) if len(p) >= 3]


def min_side(poly: np.ndarray) -> float:
    """The shorter side of the polygon's minimum-area rectangle."""
    (_, _), (w, h), _ = cv2.minAreaRect(poly.astype(np.float32))
    return float(min(w, h))


def _fill(canvas: np.ndarray, polys: list[np.ndarray], value: float) -> None:
    # Sub-pixel fill (4 fractional bits) so that thin shrunk regions land where they should.
    pts = [np.round(p * 16).astype(np.int32).reshape(-1, 1, 2) for p in polys]
    cv2.fillPoly(canvas, pts, value, lineType=cv2.LINE_8, shift=4)


def _segment_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of the points ``(xs, ys)`` to the segment ``a``-``b``."""
    d = b - a
    den = float(d @ d)
    t = np.zeros_like(xs) if den == 0 else np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / den, 0.0, 1.0)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))


def _draw_border(poly: np.ndarray, distance: float, canvas: np.ndarray, tmask: np.ndarray) -> None:
    """Raises ``canvas`` to ``1 - dist / distance`` around ``poly``'s outline; marks ``tmask``."""
    grown = offset(poly, distance)
    if not grown:
        return
    _fill(tmask, grown, 1.0)
    pts = np.concatenate(grown)
    h, w = canvas.shape
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if cx1 < cx0 or cy1 < cy0:
        return
    ys, xs = np.mgrid[cy0:cy1 + 1, cx0:cx1 + 1].astype(np.float64)
    dist = np.full(xs.shape, np.inf)
    for i in range(len(poly)):
        dist = np.minimum(dist, _segment_distance(xs, ys, poly[i], poly[(i + 1) % len(poly)]))
    value = 1.0 - np.clip(dist / distance, 0.0, 1.0)
    region = canvas[cy0:cy1 + 1, cx0:cx1 + 1]
    np.maximum(region, value.astype(np.float32), out=region)


def db_targets(polys: list[np.ndarray], shape: tuple[int, int], *, ignore: list[bool] | None = None,
               ratio: float = SHRINK_RATIO, min_text: float = MIN_SIDE) -> DbTargets:
    """The DB targets of lines ``polys`` (each ``[K, 2]``, ``K >= 3``, output pixels) on an
    ``(H, W)`` map. ``ignore[i]`` masks line ``i`` out (e.g. unreadable)."""
    h, w = shape
    gt = np.zeros((h, w), np.float32)
    mask = np.ones((h, w), np.float32)
    border = np.zeros((h, w), np.float32)
    tmask = np.zeros((h, w), np.float32)
    for i, poly in enumerate(polys):
        poly = np.asarray(poly, np.float64).reshape(-1, 2)
        d = shrink_distance(poly, ratio)
        shrunk = offset(poly, -d) if d > 0 else []
        if (ignore is not None and ignore[i]) or min_side(poly) < min_text or not shrunk:
            _fill(mask, [poly], 0.0)
            continue
        _fill(gt, shrunk, 1.0)
        _draw_border(poly, d, border, tmask)
    thresh = border * (THRESH_MAX - THRESH_MIN) + THRESH_MIN
    return DbTargets(gt, mask, thresh, tmask)


__all__ = ["DbTargets", "SHRINK_RATIO", "db_targets", "min_side", "offset", "shrink_distance"]
