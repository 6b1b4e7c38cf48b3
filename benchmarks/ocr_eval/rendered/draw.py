"""Drawing a laid-out page, photo-like figures without text, and the page variants.

Variants, applied in this order: a small tilt (rotation about the centre, the canvas kept), a
degradation (``scan``: grey paper, blur and noise; ``photo``: perspective warp onto a darker
background under uneven light; ``jpeg``: only the heavy compression at saving), then the quarter
turn (``rot=N``: the page turned N degrees counter-clockwise, so it reads upright after N degrees
clockwise), then the encoding (PNG for clean pages, JPEG otherwise).

Example:
    >>> import numpy as np
    >>> turn(np.zeros((4, 2, 3), np.uint8), 90).shape
    (2, 4, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_eval.rendered.layout import PAGE_H, PAGE_W, Page


def photo(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """An RGB picture of gradients, blotches and shapes; never any text."""
    c0, c1 = rng.uniform(30, 230, 3), rng.uniform(30, 230, 3)
    t = np.linspace(0.0, 1.0, w)[None, :] * np.cos(rng.uniform(0, np.pi)) + \
        np.linspace(0.0, 1.0, h)[:, None] * np.sin(rng.uniform(0, np.pi))
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    low = cv2.resize(rng.normal(0, 40, (max(2, h // 60), max(2, w // 60), 3)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + low, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        color = tuple(int(v) for v in rng.uniform(0, 255, 3))
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            axes = (int(rng.integers(w // 12 + 1, w // 3 + 2)), int(rng.integers(h // 12 + 1, h // 3 + 2)))
            cv2.ellipse(img, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, color, -1, cv2.LINE_AA)
        else:
            k = 3 + int(rng.integers(0, 3))
            pts = np.stack([rng.integers(0, w, k), rng.integers(0, h, k)], axis=1).astype(np.int32)
            cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1.0, 4.0)))
    img = img.astype(np.float32) + rng.normal(0, rng.uniform(3, 10), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def render(page: Page, rng: np.random.Generator, paper: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """The upright page as an RGB array."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (PAGE_W, PAGE_H), paper)
    draw = ImageDraw.Draw(im)
    for rect, color in page.shades:
        draw.rectangle((rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1), fill=color)
    for rect, color in page.rules:
        draw.rectangle((rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1), fill=color)
    for rect in page.figures:
        im.paste(Image.fromarray(photo(rng, rect.width, rect.height)), (rect.x0, rect.y0))
    for line in page.lines:
        for p in line.pieces:
            draw.text((p.x, p.y), p.text, font=p.face.font, fill=p.fill, anchor="ls")
    return np.asarray(im).copy()


def tilt(img: np.ndarray, degrees: float, paper: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Rotate about the centre by ``degrees`` (counter-clockwise), same canvas, paper-coloured corners."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=paper)


def scan(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey scan: toned paper, soft focus, sensor noise, a few specks."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    tone = rng.uniform(215, 245)
    gray = tone - (255.0 - gray) * (tone - rng.uniform(10, 40)) / 255.0
    gray = cv2.GaussianBlur(gray, (0, 0), float(rng.uniform(0.6, 1.1)))
    gray += rng.normal(0, rng.uniform(5, 11), gray.shape)
    for _ in range(int(rng.integers(10, 60))):
        x, y = int(rng.integers(0, gray.shape[1])), int(rng.integers(0, gray.shape[0]))
        cv2.circle(gray, (x, y), int(rng.integers(1, 3)), float(rng.uniform(60, 160)), -1)
    out = np.clip(gray, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)


def phone_photo(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page photographed: smaller and skewed in perspective on a table, lit unevenly."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(0.02, 0.07, (4, 2)) * np.float32([w, h])
    dst = np.float32([[jitter[0, 0], jitter[0, 1]], [w - jitter[1, 0], jitter[1, 1]],
                      [w - jitter[2, 0], h - jitter[2, 1]], [jitter[3, 0], h - jitter[3, 1]]])
    table = tuple(float(v) for v in rng.uniform(60, 140, 3))
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=table).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    dist = np.sqrt(((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2)
    light = 1.05 - rng.uniform(0.25, 0.45) * dist / max(float(dist.max()), 1e-6)
    angle = rng.uniform(0, 2 * np.pi)
    light *= 1.0 - rng.uniform(0.0, 0.15) * (0.5 + 0.5 * np.cos(angle) * (xx / w - 0.5) * 2)
    cast = rng.uniform(0.9, 1.05, 3).astype(np.float32)
    out = out * light[..., None] * cast[None, None, :]
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.7, 1.3)))
    out += rng.normal(0, rng.uniform(2, 6), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def turn(img: np.ndarray, rot: int) -> np.ndarray:
    """The image turned ``rot`` degrees (a multiple of 90) counter-clockwise."""
    return np.ascontiguousarray(np.rot90(img, k=(rot // 90) % 4))


def encode(img: np.ndarray, fmt: str, quality: int = 90) -> bytes:
    """PNG or JPEG bytes of an RGB array."""
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    if fmt == "png":
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    else:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"could not encode the page as {fmt}")
    return buf.tobytes()

