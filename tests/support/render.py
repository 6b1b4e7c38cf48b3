"""Render text lines and pages with fonts the model was not trained on.

The fonts come from Debian packages ``fonts-arphic-gbsn00lp``, ``fonts-arphic-gkai00mp``
and ``fonts-smiley-sans``; tests that need them skip with that reason when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

FONT_DIRS = [Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
TEST_FONTS = {
    "gbsn": "gbsn00lp.ttf",  # fonts-arphic-gbsn00lp
    "gkai": "gkai00mp.ttf",  # fonts-arphic-gkai00mp
    "smiley": "SmileySans-Oblique.ttf",  # fonts-smiley-sans
}


def find_font(key: str) -> Path | None:
    """Path of a test font, or None."""
    name = TEST_FONTS[key]
    for d in FONT_DIRS:
        if d.is_dir():
            for p in d.rglob(name):
                return p
    return None


def require_font(key: str = "gbsn") -> Path:
    """The font path, or skip the test with the package to install."""
    pytest.importorskip("PIL.ImageFont", reason="pillow (dev extra) renders test images")
    path = find_font(key)
    if path is None:
        pkg = {"gbsn": "fonts-arphic-gbsn00lp", "gkai": "fonts-arphic-gkai00mp", "smiley": "fonts-smiley-sans"}[key]
        pytest.skip(f"test font {TEST_FONTS[key]} missing: apt-get install {pkg}")
    return path


@dataclass
class RenderedPage:
    """A rendered page: gray image, its lines, and each line's ink box (x0, y0, x1, y1)."""

    image: np.ndarray
    texts: list[str]
    boxes: list[tuple[int, int, int, int]]


def render_line(text: str, font_path: Path, size: int = 40, margin: int = 10,
                fg: int = 20, bg: int = 245) -> np.ndarray:
    """A single-line gray crop."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), size)
    l, t, r, b = font.getbbox(text)
    img = Image.new("L", (r - l + 2 * margin, b - t + 2 * margin), bg)
    ImageDraw.Draw(img).text((margin - l, margin - t), text, font=font, fill=fg)
    return np.asarray(img).copy()


def render_page(texts: list[str], font_path: Path, size: int = 28, width: int = 900,
                line_gap: float = 1.0, left: int = 40, top: int = 40, fg: int = 20,
                bg: int = 250, indent: list[int] | None = None) -> RenderedPage:
    """Render lines under each other; record each line's ink box."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), size)
    height = top * 2 + int(len(texts) * size * (1 + line_gap))
    img = Image.new("L", (width, height), bg)
    draw = ImageDraw.Draw(img)
    boxes = []
    y = top
    for i, text in enumerate(texts):
        x = left + (indent[i] if indent else 0)
        draw.text((x, y), text, font=font, fill=fg)
        boxes.append(tuple(int(v) for v in draw.textbbox((x, y), text, font=font)))
        y += int(size * (1 + line_gap))
    return RenderedPage(np.asarray(img).copy(), texts, boxes)  # type: ignore[arg-type]
