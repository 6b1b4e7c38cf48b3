"""A rendered scene and its truth: the photo and each printed line's text and polygon.

Example:
    >>> import numpy as np
    >>> line = SceneLine(np.array([[10, 5], [90, 5], [90, 25], [10, 25]], float), "出口(Exit)")
    >>> line.box
    (10.0, 5.0, 90.0, 25.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SceneLine:
    """One printed line.

    Attributes:
        points: ``[4, 2]`` float64: TL, TR, BR, BL of the line's ink in image pixels, the first edge
            along the reading direction of the upright text (for a vertical column: its top edge),
            through every geometric transform of the photo (a turned ad's first edge runs up or down).
        text: What it prints, as a reader writes it (letter-spaced Chinese without the spaces).
        vertical: A column of upright characters read top to bottom.
    """

    points: np.ndarray
    text: str
    vertical: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The axis-aligned box around the points: ``x0, y0, x1, y1``."""
        p = np.asarray(self.points, np.float64)
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


@dataclass(frozen=True)
class Scene:
    """A photo-like image with known text.

    Attributes:
        image: BGR ``uint8``.
        lines: The printed lines in reading order.
        kind: ``ticket``, ``receipt``, ``label``, ``sign``, ``poster``, ``book_photo``, ``ad_rotated``,
            ``vertical_ad``, ``boxes`` or ``price_tag``.
        tags: The kind, the language, then what it shows (see :mod:`ocr_eval.scenes.build`).
    """

    image: np.ndarray
    lines: list[SceneLine]
    kind: str
    tags: tuple[str, ...] = field(default=())
