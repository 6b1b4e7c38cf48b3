"""Pictures on a page: photos and other images among the text, which are not read.

A photo's edges make a stroke mask full of pieces of every size, which the line finder would
otherwise turn into dozens of junk lines. :func:`find_pictures` looks at the gray page in
cells about a character high: a cell is *pictorial* when most of its pixels are mid-tones
(neither the paper nor the ink) and those mid-tones vary (a flat grey shading behind text,
such as a code block, does not); large connected regions of such cells are pictures.

Example:
    >>> import numpy as np
    >>> page = np.full((400, 400), 250, np.uint8)
    >>> page[100:300, 100:300] = np.random.default_rng(0).integers(40, 210, (200, 200))
    >>> [tuple(round(v, -1) for v in r) for r in find_pictures(page, 20.0)]
    [(100, 100, 200, 200)]
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_engine.geometry import Rect

# A cell is pictorial when at least MID_SHARE of its pixels are mid-tones (between INK_SIDE and
# PAPER_SIDE of the way from the page's ink level to its paper level) varying by MID_SPREAD
# gray levels (standard deviation) or more.
MID_SHARE = 0.6
INK_SIDE, PAPER_SIDE = 0.15, 0.8
MID_SPREAD = 14.0
# A picture is at least MIN_CELLS cells wide and high; pictures are looked for on pages with
# at least PAPER_SHARE of their pixels at the level of the paper.
MIN_CELLS = 5
PAPER_SHARE = 0.5


def find_pictures(gray: np.ndarray, char_h: float) -> list[Rect]:
    """The boxes ``x, y, w, h`` of the pictures on a document page (see the module doc).

    Only on a page that is mostly paper (:data:`PAPER_SHARE` of its pixels at the paper's
    level): in a photo, text lies on the picture itself, and nothing is a picture "on" it.
    """
    half = cv2.resize(gray, (max(1, gray.shape[1] // 2), max(1, gray.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    cell = max(2, int(round(char_h / 2)))
    h, w = half.shape[:2]
    gh, gw = h // cell, w // cell
    if gh < MIN_CELLS or gw < MIN_CELLS:
        return []
    hist = np.cumsum(np.bincount(half.ravel(), minlength=256)) / float(half.size)
    paper, ink = float(np.searchsorted(hist, 0.9)), float(np.searchsorted(hist, 0.02))
    if paper - ink < 40 or 1.0 - hist[int(paper - 0.1 * (paper - ink)) - 1] < PAPER_SHARE:
        return []
    lo, hi = ink + INK_SIDE * (paper - ink), ink + PAPER_SIDE * (paper - ink)
    g = half[: gh * cell, : gw * cell].astype(np.float32)
    mid = ((g > lo) & (g < hi)).astype(np.float32)
    # per cell: the share of mid-tones, their mean and their spread (means over each cell)
    size = (gw, gh)
    share = cv2.resize(mid, size, interpolation=cv2.INTER_AREA)
    count = np.maximum(share, 1e-6)
    mean = cv2.resize(g * mid, size, interpolation=cv2.INTER_AREA) / count
    square = cv2.resize(g * g * mid, size, interpolation=cv2.INTER_AREA) / count
    spread = np.sqrt(np.maximum(square - mean * mean, 0.0))
    pictorial = ((share >= MID_SHARE) & (spread >= MID_SPREAD)).astype(np.uint8)
    pictorial = cv2.morphologyEx(pictorial, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(pictorial, connectivity=8)
    out: list[Rect] = []
    step = 2 * cell
    for x, y, bw, bh, area in stats[1:n].tolist():
        if bw >= MIN_CELLS and bh >= MIN_CELLS and area >= 0.5 * bw * bh:
            out.append((x * step, y * step, bw * step, bh * step))
    return out


def inside_pictures(rects: list[Rect], pictures: list[Rect], share: float = 0.5) -> np.ndarray:
    """Which ``rects`` have more than ``share`` of their area inside a picture.

    Example:
        >>> inside_pictures([(0, 0, 10, 10), (50, 50, 10, 10)], [(40, 40, 100, 100)]).tolist()
        [False, True]
    """
    if not rects or not pictures:
        return np.zeros(len(rects), bool)
    r = np.asarray(rects, np.float64)
    covered = np.zeros(len(rects))
    for px, py, pw, ph in pictures:
        ix = np.clip(np.minimum(r[:, 0] + r[:, 2], px + pw) - np.maximum(r[:, 0], px), 0, None)
        iy = np.clip(np.minimum(r[:, 1] + r[:, 3], py + ph) - np.maximum(r[:, 1], py), 0, None)
        covered += ix * iy
    return covered > share * np.maximum(r[:, 2] * r[:, 3], 1.0)
