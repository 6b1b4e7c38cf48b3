"""An image's stroke mask and its connected components, found once and shared by the finders.

The line finder (:mod:`~ocr_engine.detection.morphology`) and the column finder
(:mod:`~ocr_engine.detection.vertical`) both start from the
:func:`~ocr_engine.preprocess.text_mask` of the page and its 8-connected components; on an
A4 page at 150 dpi these cost about 15 ms, so the line finder hands its own to the column finder.

Example:
    >>> import numpy as np
    >>> mask = np.zeros((4, 8), np.uint8); mask[1:3, 1:3] = mask[1:3, 5:7] = 255
    >>> strokes = Strokes.of(mask)
    >>> len(strokes.stats) - 1                                 # two components, and the background
    2
    >>> select(strokes, np.array([False, True, False]))[1].tolist()
    [0, 255, 255, 0, 0, 0, 0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# :func:`select` clears the dropped components one by one while there are at most this many
# and their boxes cover at most this share of the image; otherwise it relabels every pixel.
SELECT_ONE_BY_ONE = 200
SELECT_AREA_SHARE = 0.25


@dataclass(frozen=True)
class Strokes:
    """A 0/255 stroke mask and its 8-connected components (``cv2.connectedComponentsWithStats``).

    Attributes:
        mask: The mask, ``uint8`` 0/255.
        labels: ``int32`` label of every pixel; 0 is the background.
        stats: One row per label: x, y, width, height, area.
    """

    mask: np.ndarray
    labels: np.ndarray
    stats: np.ndarray

    @classmethod
    def of(cls, mask: np.ndarray) -> Strokes:
        """The components of ``mask``."""
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        return cls(mask, labels, stats)


def select(strokes: Strokes, chosen: np.ndarray) -> np.ndarray:
    """A 0/255 ``uint8`` mask of the components whose ``chosen`` flag is set (one per label, 0 first).

    Clearing the few dropped components inside their boxes is several times cheaper than
    looking up the label of every pixel, which is done when many are dropped.
    """
    drop = np.flatnonzero(~chosen[1:]) + 1
    boxes = strokes.stats[drop, :4]
    if drop.size > SELECT_ONE_BY_ONE or (boxes[:, 2] * boxes[:, 3]).sum() > SELECT_AREA_SHARE * strokes.labels.size:
        return np.where(chosen, 255, 0).astype(np.uint8).take(strokes.labels)
    out = strokes.mask.copy()
    for i, (x, y, w, h) in zip(drop.tolist(), boxes.tolist()):
        part = out[y:y + h, x:x + w]
        part[strokes.labels[y:y + h, x:x + w] == i] = 0
    return out
