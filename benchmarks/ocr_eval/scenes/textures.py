"""Surfaces without text: the paper, plates and prints scenes are drawn on, and what lies around them.

All return RGB ``uint8`` arrays of the asked size, from the scene's numpy stream:

* :func:`gradient`, :func:`noise_field` and :func:`blotches`: the building blocks;
* :func:`paper` (toned, fibrous), :func:`guilloche` (a ticket's fine wavy security print),
  :func:`fabric` (a woven care label), :func:`metal` (a brushed sign plate);
* :func:`backdrop`: what surrounds the object in the photo (``table``, ``wall``, ``street``,
  ``shelf``, ``dark``), and :func:`photo` (a photo-like picture, as the rendered pages' figures).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> paper(rng, 40, 30, (240, 238, 230)).shape, backdrop(rng, 50, 20, "street").dtype
    ((30, 40, 3), dtype('uint8'))
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_eval.rendered.draw import photo as _photo

RGB = tuple[int, int, int]
BACKDROPS = ("table", "wall", "street", "shelf", "dark")


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def sensor_noise(rng: np.random.Generator, w: int, h: int, sigma: float) -> np.ndarray:
    """Per-pixel Gaussian noise of ``sigma`` gray levels, ``[h, w, 1]`` ``float32``."""
    return rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(sigma)


def soft(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of ``sigma`` pixels; a wide one is done on a smaller copy (the same look, far faster)."""
    if sigma <= 3.0:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    h, w = img.shape[:2]
    f = sigma / 2.0
    small = cv2.resize(img, (max(2, int(w / f)), max(2, int(h / f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def unit_field(rng: np.random.Generator, w: int, h: int, radial: bool = False) -> np.ndarray:
    """A smooth ramp in [0, 1]: linear in a random direction, or radial from a random centre (``float32``)."""
    sw, sh = max(2, w // 8), max(2, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    if radial:
        cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
        t = np.hypot((xx - cx) / sw, (yy - cy) / sh)
    else:
        a = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(a) / sw + yy * np.sin(a) / sh
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR)


def gradient(rng: np.random.Generator, w: int, h: int, c0: RGB, c1: RGB, radial: bool = False) -> np.ndarray:
    """A linear gradient from ``c0`` to ``c1`` in a random direction (or radial from a random centre)."""
    t = unit_field(rng, w, h, radial)[..., None]
    img = np.float32(c0)[None, None] * (1 - t) + np.float32(c1)[None, None] * t
    return _u8(img)


def noise_field(rng: np.random.Generator, w: int, h: int, cell: float, channels: int = 1) -> np.ndarray:
    """Smooth noise in about [-1, 1]: a coarse random grid (``cell`` pixels apart) resized up."""
    gw, gh = max(2, int(w / cell) + 2), max(2, int(h / cell) + 2)
    grid = rng.normal(0, 1, (gh, gw, channels)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return out.reshape(h, w, channels)


def blotches(rng: np.random.Generator, img: np.ndarray, n: int, alpha: float = 0.35, blur: float = 25.0) -> np.ndarray:
    """``img`` with ``n`` soft blurred shapes of random colours blended in (bokeh, stains, light)."""
    h, w = img.shape[:2]
    layer = img.copy()
    for _ in range(n):
        colour = tuple(int(v) for v in rng.uniform(0, 255, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 20 + 2, w // 4 + 3)), int(rng.integers(h // 20 + 2, h // 4 + 3)))
        cv2.ellipse(layer, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
    layer = soft(layer, blur)
    return _u8(img.astype(np.float32) * (1 - alpha) + layer.astype(np.float32) * alpha)


def paper(rng: np.random.Generator, w: int, h: int, tone: RGB, grain: float = 4.0) -> np.ndarray:
    """Toned paper: a faint large-scale mottle, fibres and grain."""
    base = np.float32(tone)[None, None] + 6 * noise_field(rng, w, h, max(w, h) / 5.0)
    base += sensor_noise(rng, w, h, grain)
    img = _u8(base)
    for _ in range(int(rng.integers(5, 30))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        a = rng.uniform(0, np.pi)
        r = int(rng.integers(4, 18))
        tint = tuple(int(v - rng.uniform(8, 25)) for v in tone)
        cv2.line(img, (x, y), (int(x + r * np.cos(a)), int(y + r * np.sin(a))), tint, 1, cv2.LINE_AA)
    return img


def guilloche(rng: np.random.Generator, w: int, h: int, tone: RGB, ink: RGB) -> np.ndarray:
    """Security print of a ticket: fine interlaced sine waves in a pale ink over a toned ground."""
    img = paper(rng, w, h, tone, grain=2.5)
    xs = np.arange(0, w, 2, dtype=np.float32)
    period = rng.uniform(40, 120)
    amp = rng.uniform(6, 18)
    step = int(rng.integers(7, 14))
    for k, y0 in enumerate(range(-step, h + step, step)):
        phase = k * rng.uniform(0.2, 0.6)
        ys = y0 + amp * np.sin(2 * np.pi * xs / period + phase)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(img, [pts], False, ink, 1, cv2.LINE_AA)
    return _u8(img.astype(np.float32) * 0.55 + np.float32(tone)[None, None] * 0.45)


def fabric(rng: np.random.Generator, w: int, h: int, tone: RGB) -> np.ndarray:
    """A woven label: a fine warp-and-weft ripple, slight fraying noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    p = rng.uniform(2.2, 3.5)
    weave = np.sin(2 * np.pi * xx / p) * np.sin(2 * np.pi * yy / (p * rng.uniform(0.8, 1.2)))
    base = np.float32(tone)[None, None] + (rng.uniform(5, 12) * weave)[..., None]
    base += 5 * noise_field(rng, w, h, 30.0)
    return _u8(base + sensor_noise(rng, w, h, 3))


def metal(rng: np.random.Generator, w: int, h: int, colour: RGB) -> np.ndarray:
    """A painted metal plate: the colour, brushed streaks and a broad sheen."""
    streaks = cv2.resize(rng.normal(0, 1, (h, max(2, w // 40), 1)).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR).reshape(h, w, 1)
    base = np.float32(colour)[None, None] + 5 * streaks
    sheen = gradient(rng, w, h, (0, 0, 0), (40, 40, 40)).astype(np.float32) - 20
    return _u8(base + sheen * rng.uniform(0.3, 1.0))


def photo(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A photo-like picture of gradients, blotches and shapes (never text)."""
    return _photo(rng, int(w), int(h))


def backdrop(rng: np.random.Generator, w: int, h: int, kind: str) -> np.ndarray:
    """What lies around the object: a ``table``, a ``wall``, a ``street``, a ``shelf`` or ``dark``."""
    if kind == "table":  # wood or laminate: fine grain along one axis, a broad mottle
        tone = np.float32(rng.choice([(150, 105, 70), (120, 80, 50), (185, 150, 110), (95, 70, 55), (200, 195, 185),
                                      (130, 130, 128), (60, 58, 56), (170, 120, 80)])) * rng.uniform(0.85, 1.1)
        along = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 4, 1)).astype(np.float32), (w, h),
                           interpolation=cv2.INTER_LINEAR).reshape(h, w, 1)
        img = tone[None, None] + 9 * along + 8 * noise_field(rng, w, h, max(w, h) / 6.0) + sensor_noise(rng, w, h, 3)
        img = _u8(img)
        return img
    if kind == "wall":
        tone = rng.uniform(150, 235, 3)
        return _u8(paper(rng, w, h, tuple(int(v) for v in tone), grain=6.0).astype(np.float32)
                   + 12 * noise_field(rng, w, h, max(w, h) / 4.0))
    if kind == "street":  # sky above, blurred muted buildings with window rows, trees
        sky = gradient(rng, w, h, tuple(int(v) for v in rng.uniform((150, 170, 190), (215, 225, 245))),
                       tuple(int(v) for v in rng.uniform((170, 170, 170), (235, 235, 235))))
        img = sky.copy()
        x = int(rng.integers(-w // 8, 0))
        while x < w:
            bw, bh = int(rng.integers(w // 8 + 5, w // 3 + 10)), int(rng.integers(h // 3, h))
            grey = rng.uniform(70, 190)
            colour = tuple(int(grey + v) for v in rng.uniform(-25, 25, 3))
            cv2.rectangle(img, (x, h - bh), (x + bw, h), colour, -1)
            dark = tuple(int(c * 0.6) for c in colour)
            step = int(rng.integers(26, 48))
            for wy in range(h - bh + 12, h - 20, step):  # windows
                for wx in range(x + 10, x + bw - 20, step):
                    cv2.rectangle(img, (wx, wy), (wx + step // 2, wy + step // 2), dark, -1)
            x += bw + int(rng.integers(0, w // 12 + 1))
        for _ in range(int(rng.integers(1, 5))):  # trees
            cx, cy = int(rng.integers(0, w)), int(rng.integers(h // 2, h))
            r = int(rng.integers(h // 10 + 2, h // 4 + 3))
            cv2.circle(img, (cx, cy), r, tuple(int(v) for v in rng.uniform((30, 70, 30), (80, 130, 70))), -1)
        return soft(img, float(rng.uniform(3.0, 8.0)))
    if kind == "shelf":  # rows of packs and bottles above and below a grey shelf edge, out of focus
        img = gradient(rng, w, h, (200, 200, 200), (120, 120, 124))
        for row_top in range(0, h, max(40, h // 3)):
            x = int(rng.integers(-20, 0))
            while x < w:
                pw, ph = int(rng.integers(w // 14 + 4, w // 6 + 8)), int(rng.integers(h // 6, h // 3 + 2))
                colour = tuple(int(v) for v in rng.uniform(30, 240, 3))
                cv2.rectangle(img, (x, row_top + h // 3 - ph), (x + pw, row_top + h // 3), colour, -1)
                cv2.rectangle(img, (x + pw // 5, row_top + h // 3 - ph * 2 // 3), (x + pw * 4 // 5, row_top + h // 3 - ph // 3),
                              tuple(255 - v for v in colour), -1)
                x += pw + int(rng.integers(2, 12))
            cv2.rectangle(img, (0, row_top + h // 3 - 6), (w, row_top + h // 3 + 10), (150, 150, 155), -1)
        return soft(img, float(rng.uniform(2.5, 6.0)))
    if kind == "dark":
        tone = rng.uniform(15, 70, 3)
        return _u8(tone[None, None] + 10 * noise_field(rng, w, h, max(w, h) / 5.0) + sensor_noise(rng, w, h, 3))
    raise ValueError(f"backdrop must be one of {BACKDROPS}, got {kind!r}")
