"""Text-line detection behind a small interface.

:class:`TextDetector` is the interface; :class:`MorphologyDetector` is the fast
OpenCV implementation (documents, screenshots, receipts, single-line crops);
:class:`WholeImageDetector` treats the image as one line. A learned (DB-style
ONNX) detector can be added as another implementation of the interface.

Example:
    >>> import numpy as np
    >>> MorphologyDetector().detect(np.full((300, 200), 255, np.uint8))  # a blank page
    []
"""

from ocr_engine.detection.base import TextBox, TextDetector, WholeImageDetector, crop_box
from ocr_engine.detection.morphology import MorphologyDetector, reading_order

__all__ = [
    "MorphologyDetector",
    "TextBox",
    "TextDetector",
    "WholeImageDetector",
    "crop_box",
    "reading_order",
]
