"""The detector interface and the shared box type.

Example:
    >>> import numpy as np
    >>> box = TextBox.from_rect(10, 5, 50, 20)
    >>> box.points.tolist()[0], box.width, box.height
    ([10.0, 5.0], 50.0, 20.0)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TextBox:
    """One text line found by a detector.

    Attributes:
        points: ``[4, 2]`` float array: top-left, top-right, bottom-right,
            bottom-left, in the coordinates of the image given to the detector.
        score: Detector confidence in ``[0, 1]`` (1.0 when it has none).
        vertical: A column of vertical text (read top to bottom) rather than a line.
        blanks: Spans ``(start, end)`` along the line, as fractions of its length, that hold
            no text to read (the dotted leader of a contents entry): :func:`crop_box` paints
            them over with the background.
    """

    points: np.ndarray
    score: float = 1.0
    vertical: bool = False
    blanks: tuple[tuple[float, float], ...] = ()

    @classmethod
    def from_rect(cls, x: float, y: float, w: float, h: float, score: float = 1.0,
                  vertical: bool = False, blanks: tuple[tuple[float, float], ...] = ()) -> TextBox:
        """Axis-aligned box from ``x, y, width, height``."""
        pts = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
        return cls(pts, score, vertical, blanks)

    @property
    def width(self) -> float:
        """Length of the top edge."""
        return float(np.linalg.norm(self.points[1] - self.points[0]))

    @property
    def height(self) -> float:
        """Length of the left edge."""
        return float(np.linalg.norm(self.points[3] - self.points[0]))

    def as_turned_line(self) -> TextBox:
        """A column read instead as a line turned a quarter clockwise: its text running down
        the column, the tops of its letters to the right (the other way round is the same
        line upside down, which the recogniser also tries).

        Example:
            >>> TextBox.from_rect(0, 0, 10, 40, vertical=True).as_turned_line().points.tolist()
            [[10.0, 0.0], [10.0, 40.0], [0.0, 40.0], [0.0, 0.0]]
        """
        return TextBox(self.points[[1, 2, 3, 0]].copy(), self.score)

    def scaled(self, factor: float) -> TextBox:
        """The same box with all coordinates multiplied by ``factor``."""
        return TextBox(self.points * factor, self.score, self.vertical, self.blanks)


class TextDetector(ABC):
    """Finds text lines in a grayscale page; returns them in reading order."""

    name: str = "detector"
    # Whether the page is deskewed before this detector sees it (a detector of rotated
    # boxes follows tilted lines and sees the page as given).
    deskews: bool = True
    # Whether a box it finds as a column (``vertical``) may be a line turned a quarter instead
    # (the engine reads it both ways and keeps the surer reading).
    columns_may_be_lines: bool = False

    @abstractmethod
    def detect(self, gray: np.ndarray) -> list[TextBox]:
        """Return the text lines of a 2-D ``uint8`` image, in reading order."""

    def detect_page(self, gray: np.ndarray, image: np.ndarray | None = None) -> list[TextBox]:
        """The lines of a page: its preprocessed ``gray`` and, for a detector that does not
        deskew, the page ``image`` as given (BGR or gray, same coordinates), whose colours
        it may use. This default reads ``gray`` only."""
        return self.detect(gray)


class WholeImageDetector(TextDetector):
    """Treat the whole image as a single text line (for pre-cropped lines).

    Example:
        >>> WholeImageDetector().detect(np.zeros((20, 80), np.uint8))[0].width
        80.0
    """

    name = "whole"

    def detect(self, gray: np.ndarray) -> list[TextBox]:
        h, w = gray.shape[:2]
        return [TextBox.from_rect(0, 0, w, h)]


def crop_box(gray: np.ndarray, box: TextBox) -> np.ndarray:
    """Cut a box out of an image (a slice when axis-aligned, else a perspective warp), its
    ``blanks`` painted over with the crop's background (its 90th percentile of gray).

    Example:
        >>> img = np.arange(100, dtype=np.uint8).reshape(10, 10)
        >>> crop_box(img, TextBox.from_rect(2, 3, 4, 2)).tolist()
        [[32, 33, 34, 35], [42, 43, 44, 45]]
        >>> crop_box(img, TextBox.from_rect(2, 3, 4, 2, blanks=((0.5, 1.0),))).tolist()
        [[32, 33, 44, 44], [42, 43, 44, 44]]
    """
    crop = _cut(gray, box)
    if box.blanks and crop.ndim == 2:
        crop = crop.copy()
        background = np.percentile(crop, 90)
        w = crop.shape[1]
        for a, b in box.blanks:
            crop[:, int(round(a * w)):int(round(b * w))] = background
    return crop


def _cut(gray: np.ndarray, box: TextBox) -> np.ndarray:
    p = box.points
    axis_aligned = p[0, 1] == p[1, 1] and p[0, 0] == p[3, 0] and p[2, 1] == p[3, 1]
    if axis_aligned:
        h, w = gray.shape[:2]
        x0, y0 = int(max(0, round(p[0, 0]))), int(max(0, round(p[0, 1])))
        x1, y1 = int(min(w, round(p[2, 0]))), int(min(h, round(p[2, 1])))
        return gray[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    bw, bh = max(1, int(round(box.width))), max(1, int(round(box.height)))
    dst = np.array([[0, 0], [bw, 0], [bw, bh], [0, bh]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(p.astype(np.float32), dst)
    return cv2.warpPerspective(gray, m, (bw, bh), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
