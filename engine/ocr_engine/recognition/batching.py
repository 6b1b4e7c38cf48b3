"""Line crops to model inputs: scaled to the model's height, normalised, batched by width.

Lines of like width share a batch, padded to a multiple of the bucket width; each line is
decoded over its own frames only (see :mod:`~ocr_engine.recognition.session`), so padding
never adds characters.

Example:
    >>> width_batches([100, 30, 64, 70], bucket_width=64, max_batch=8)
    [([1, 2], 64), ([3, 0], 128)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from ocr_engine.recognition.model_meta import ModelMeta

MAX_BATCH = 8  # lines per inference call
BUCKET_WIDTH = 64  # padded batch widths are multiples of this
MAX_WIDTH = 2400  # longer lines are squeezed to this width after scaling
# Lines are widened this much after scaling to the model's height: narrow print (book serifs,
# condensed faces) gives the model too few frames per letter, which drops one of two close thin
# letters (``ll``, ``li``). 1.0 reads best on the evaluation lines.
LINE_STRETCH = 1.0


def resize_to_height(gray: np.ndarray, height: int, min_width: int, max_width: int,
                     stretch: float = 1.0) -> np.ndarray:
    """Resize a line to ``height`` keeping its aspect ratio (times ``stretch``), width clamped.

    Example:
        >>> resize_to_height(np.zeros((64, 100), np.uint8), 32, 8, 1000).shape
        (32, 50)
        >>> resize_to_height(np.zeros((64, 100), np.uint8), 32, 8, 1000, stretch=1.2).shape
        (32, 60)
    """
    h, w = gray.shape[:2]
    new_w = int(round(w * stretch * height / max(h, 1)))
    new_w = min(max(new_w, min_width), max_width)
    if (h, w) == (height, new_w):
        return gray
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(gray, (new_w, height), interpolation=interp)


def normalise(gray: np.ndarray, meta: ModelMeta) -> np.ndarray:
    """``uint8`` gray to the model's ``float32`` input scale: ``(gray / 255 - mean) / std``."""
    x = gray.astype(np.float32) * np.float32(1.0 / 255.0)
    return (x - np.float32(meta.norm_mean)) / np.float32(meta.norm_std)


def width_batches(widths: Sequence[int], bucket_width: int, max_batch: int) -> list[tuple[list[int], int]]:
    """Group line indices by padded width, narrowest first: ``[(indices, padded_width), ...]``."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    out: list[tuple[list[int], int]] = []
    for i in order:
        padded = int(math.ceil(widths[i] / bucket_width) * bucket_width)
        if out and out[-1][1] == padded and len(out[-1][0]) < max_batch:
            out[-1][0].append(i)
        else:
            out.append(([i], padded))
    return out


def pad_batch(inputs: Sequence[np.ndarray], padded: int) -> np.ndarray:
    """``[N, 1, H, padded]`` batch of ``[H, w]`` inputs, each padded on the right with its last column."""
    return np.stack(
        [np.pad(x, ((0, 0), (0, padded - x.shape[1])), mode="edge") for x in inputs]
    )[:, None, :, :]
