"""What the scene kinds share: the :class:`Card` they return, faces, colours and a few composite pieces.

Example:
    >>> luminance((255, 255, 255)) > luminance((200, 30, 30))
    True
    >>> import random
    >>> c = vivid(random.Random(1))
    >>> len(c), all(0 <= v <= 255 for v in c)
    (3, True)
"""

from __future__ import annotations

import colorsys
import random
from dataclasses import dataclass, field

import numpy as np

from ocr_eval.rendered.layout import Face, pick_face
from ocr_eval.scenes.canvas import RGB, Canvas, Run

BLACK: RGB = (24, 24, 28)
WHITE: RGB = (250, 250, 248)


@dataclass
class Card:
    """An upright object with its truth lines, and how to photograph it.

    Attributes:
        canvas: The drawn object and its truth lines in reading order.
        tags: What it shows (``spaced``, ``vertical``, ``white-on-colour``, ``dashed``, ...).
        frame: ``object`` (it lies in the photo, its surroundings around it) or ``fill`` (it fills
            the photo, its margins cut).
        backdrop: Its surroundings (:data:`~ocr_eval.scenes.textures.BACKDROPS`).
        tilt: The largest rotation of the photo, in degrees.
        perspective: The largest corner shift of the perspective, as a share of the object's size.
        mask: The object's shape (``uint8``, 255 inside), ``None``: its whole rectangle.
        turn: Quarter turns counter-clockwise of the finished photo (an ad turned 90 degrees).
    """

    canvas: Canvas
    tags: list[str] = field(default_factory=list)
    frame: str = "object"
    backdrop: str = "table"
    tilt: float = 6.0
    perspective: float = 0.06
    mask: np.ndarray | None = None
    turn: int = 0


def zh_face(rng: random.Random, role: str, size: float) -> Face:
    """A random Chinese face of the role (``body``, ``bold``, ``caption``, ``mono``)."""
    return pick_face(rng, "zh", role, size)


def en_face(rng: random.Random, role: str, size: float) -> Face:
    """A random English face of the role."""
    return pick_face(rng, "en", role, size)


def fits(face: Face, width: float):
    """A text check: the face draws every character and the text is at most ``width`` pixels wide."""
    return lambda text: face.spec.covers(text) and face.width(text) <= width


def luminance(c: RGB) -> float:
    """Relative luminance in [0, 255]."""
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def hsv(h: float, s: float, v: float) -> RGB:
    """A colour from hue, saturation, value in [0, 1]."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def vivid(rng: random.Random, v: tuple[float, float] = (0.55, 0.9)) -> RGB:
    """A saturated colour (a box, a plate, a poster's ground)."""
    return hsv(rng.random(), rng.uniform(0.65, 1.0), rng.uniform(*v))


def pale(rng: random.Random) -> RGB:
    """A light tint (paper, a panel)."""
    return hsv(rng.random(), rng.uniform(0.03, 0.18), rng.uniform(0.9, 0.99))


def baseline_in(face: Face, top: float, height: float) -> float:
    """The baseline that centres the face's ascent and descent in a band."""
    ascent, descent = face.font.getmetrics()
    return top + (height - ascent - descent) / 2 + ascent


def bracketed(zh: str, en: str, zface: Face, eface: Face, fill: RGB, efill: RGB | None = None) -> tuple[list[Run], str]:
    """Runs of Chinese with small bracketed English after it (``出口(Exit)``) and the line's truth."""
    return [Run(zh, zface, fill), Run(f"({en})", eface, efill or fill)], f"{zh}({en})"


def shrink(face: Face, text: str, width: float) -> Face:
    """``face`` made smaller until ``text`` is at most ``width`` pixels wide."""
    while face.size > 9 and face.width(text) > width:
        face = face.at(face.size * 0.92)
    return face
