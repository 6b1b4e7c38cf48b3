"""Photographing a :class:`~ocr_eval.scenes.parts.Card`: placement, perspective, light, shadow, blur, JPEG.

:func:`photograph` puts the upright object into a photo through one homography (scale, a mild
rotation and perspective, a position), on its surroundings, then lights it unevenly, may cast a
shadow or a glare over it, blurs, adds sensor noise, turns it (an ad turned 90 degrees) and
round-trips it through JPEG. The truth boxes go through the same homography and turn
(:func:`warp_points`, :func:`turn_points`), so they stay tight on the text.

Example:
    >>> import numpy as np
    >>> box = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float)
    >>> warp_points(np.diag([2.0, 2.0, 1.0]), box)[2].tolist()
    [20.0, 8.0]
    >>> turn_points(box, 1, width=10, height=4)[0].tolist()  # (x, y) -> (y, W - x) per quarter turn
    [0.0, 10.0]
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

from ocr_eval.scenes.canvas import TruthLine
from ocr_eval.scenes.parts import Card
from ocr_eval.scenes.textures import backdrop, sensor_noise, soft, unit_field

MIN_SIDE, MAX_SIDE = 640, 1600  # the photo's longer side
MARGIN = 3.0  # truth boxes keep this far from the photo's edges


def box_points(line: TruthLine) -> np.ndarray:
    """The ``[4, 2]`` corners TL, TR, BR, BL of a line's ink box."""
    x0, y0, x1, y1 = line.box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def warp_points(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``points`` ``[n, 2]`` through the homography ``h``."""
    p = np.hstack([points, np.ones((len(points), 1))]) @ h.T
    return p[:, :2] / p[:, 2:3]


def turn_points(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """``points`` of a ``width`` x ``height`` image turned ``k`` quarter turns counter-clockwise (``np.rot90``)."""
    p = points.astype(np.float64).copy()
    for _ in range(k % 4):
        p = np.stack([p[:, 1], width - p[:, 0]], axis=1)
        width, height = height, width
    return p


def _size(card: Card, rng: random.Random) -> tuple[int, int, float]:
    """The photo's size and the object's scale in it."""
    cw, ch = card.canvas.w, card.canvas.h
    if card.frame == "fill":
        share = rng.uniform(0.9, 0.97)  # the photo sees this share of the object's sides
        w, h = cw * share, ch * share
    else:
        share = rng.uniform(0.55, 0.85)  # the object's longer side over the photo's
        aspect = rng.choice((4 / 3, 3 / 2, 16 / 9, 1.0))
        if cw >= ch:
            w = cw / share
            h = max(ch / share, w / aspect)
        else:
            h = ch / share
            w = max(cw / share, h / aspect)
    longer = max(w, h)
    target = min(MAX_SIDE, max(MIN_SIDE, longer * rng.uniform(0.85, 1.1)))
    scale = target / longer
    return int(round(w * scale)), int(round(h * scale)), scale


def _homography(card: Card, rng: random.Random, w: int, h: int, scale: float, strength: float) -> np.ndarray:
    """Object corners -> photo: scaled, seen at an angle (a keystone each way), rotated, placed."""
    cw, ch = card.canvas.w, card.canvas.h
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    p = card.perspective * strength
    kx, ky = rng.uniform(-p, p), rng.uniform(-p, p)  # top edge shorter than the bottom (kx > 0); left than right
    half = np.float32([cw / 2, ch / 2]) * scale
    corners = np.float32([[-(1 - kx), -(1 + ky)], [1 - kx, -(1 - ky)], [1 + kx, 1 - ky], [-(1 + kx), 1 + ky]]) * half
    corners += np.float32([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * half * p * 0.2
    angle = math.radians(rng.uniform(-card.tilt, card.tilt) * strength)
    rot = np.float32([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    corners = corners @ rot.T
    span = corners.max(axis=0) - corners.min(axis=0)
    room = np.maximum(np.float32([w, h]) - span, 0) / 2
    centre = np.float32([w / 2, h / 2]) + np.float32([rng.uniform(-1, 1), rng.uniform(-1, 1)]) * room * strength
    return cv2.getPerspectiveTransform(src, (corners + centre).astype(np.float32)).astype(np.float64)


def place(card: Card, rng: random.Random) -> tuple[int, int, np.ndarray]:
    """The photo's size and the homography: the first draw that keeps every truth box inside the photo."""
    w, h, scale = _size(card, rng)
    pts = np.vstack([box_points(ln) for ln in card.canvas.lines])
    for attempt in range(12):
        strength = 1.0 - attempt / 12
        hom = _homography(card, rng, w, h, scale, strength)
        p = warp_points(hom, pts)
        if p[:, 0].min() >= MARGIN and p[:, 1].min() >= MARGIN and p[:, 0].max() <= w - MARGIN \
                and p[:, 1].max() <= h - MARGIN:
            return w, h, hom
    # no rotation or perspective: the object scaled to fit, centred
    cw, ch = card.canvas.w, card.canvas.h
    s = min((w - 2 * MARGIN - 2) / cw, (h - 2 * MARGIN - 2) / ch, scale)
    return w, h, np.array([[s, 0, (w - cw * s) / 2], [0, s, (h - ch * s) / 2], [0, 0, 1]], np.float64)


def _light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a gradient, a vignette, a colour cast."""
    h, w = img.shape[:2]
    field = 1.0 + rng.uniform(0.1, 0.45) * (unit_field(rng, w, h) - 0.5)
    field *= 1.0 - rng.uniform(0.05, 0.35) * unit_field(rng, w, h, radial=True) ** 2
    gain = rng.uniform(0.88, 1.06, 3).astype(np.float32) * np.float32(rng.uniform(0.85, 1.1))
    img *= field[..., None]
    img *= gain
    return img


def _shadow(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow (a hand, a phone, a lamp's edge) over part of the photo."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    cx, cy = rng.choice([0, w]), rng.uniform(0, h)
    k = int(rng.integers(3, 6))
    pts = [(cx, cy)] + [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(k)]
    cv2.fillPoly(mask, [np.int32(pts)], 1.0)
    mask = soft(mask, max(w, h) * rng.uniform(0.01, 0.05))
    return img * (1 - rng.uniform(0.25, 0.5) * mask)[..., None]


def _glare(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft bright reflection."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    axes = (int(rng.uniform(0.05, 0.2) * w), int(rng.uniform(0.03, 0.12) * h))
    cv2.ellipse(mask, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), axes, float(rng.uniform(0, 180)), 0, 360,
                1.0, -1)
    mask = soft(mask, max(axes) * 0.5 + 1)
    return img + rng.uniform(40, 90) * mask[..., None]


def _blur(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Focus and hand shake: a light Gaussian blur always, sometimes a stronger one or motion."""
    r = rng.random()
    if r < 0.15:
        n = int(rng.integers(3, 8))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        m = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, m, (n, n))
        return cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6)), True
    sigma = rng.uniform(1.0, 1.8) if r < 0.35 else rng.uniform(0.3, 0.9)
    return cv2.GaussianBlur(img, (0, 0), sigma), r < 0.35


def photograph(card: Card, rng: random.Random, nrng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray], list[str]]:
    """The photo (RGB ``uint8``), each truth line's ``[4, 2]`` points in it, and the photo's tags."""
    w, h, hom = place(card, rng)
    obj = card.canvas.array()
    mask = card.mask if card.mask is not None else np.full(obj.shape[:2], 255, np.uint8)
    warped = cv2.warpPerspective(obj, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective(mask, hom, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255.0
    ground = backdrop(nrng, w, h, card.backdrop).astype(np.float32)
    if card.frame == "object":  # the object's own shadow on what it lies on
        off = np.float32([[1, 0, nrng.uniform(-12, 12)], [0, 1, nrng.uniform(4, 16)]])
        drop = soft(cv2.warpAffine(alpha[..., 0], off, (w, h)), 8.0)
        ground *= (1 - 0.45 * drop)[..., None]
    img = warped.astype(np.float32)
    img -= ground
    img *= alpha
    img += ground  # ground * (1 - alpha) + warped * alpha
    tags = []
    img = _light(img, nrng)
    if nrng.random() < 0.45:
        img = _shadow(img, nrng)
        tags.append("shadow")
    if nrng.random() < 0.2:
        img = _glare(img, nrng)
    img, blurred = _blur(img, nrng)
    if blurred:
        tags.append("blur")
    img += sensor_noise(nrng, w, h, nrng.uniform(1.5, 6.0))
    out = np.clip(img, 0, 255).astype(np.uint8)
    points = [warp_points(hom, box_points(ln)) for ln in card.canvas.lines]
    if card.turn % 4:
        points = [turn_points(p, card.turn, w, h) for p in points]
        out = np.ascontiguousarray(np.rot90(out, k=card.turn % 4))
        tags.append(f"rot={90 * (card.turn % 4)}")
    quality = int(nrng.integers(40, 86))
    ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if ok:
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return out, points, tags
