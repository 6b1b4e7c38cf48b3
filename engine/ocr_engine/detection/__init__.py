"""Text-line detection behind a small interface.

:class:`TextDetector` is the interface; :class:`MorphologyDetector` is the fast
OpenCV implementation (documents, screenshots, receipts, single-line crops);
:class:`WholeImageDetector` treats the image as one line. A learned (DB-style
ONNX) detector can be added as another implementation of the interface.
Rectangles are :data:`ocr_engine.geometry.Rect`; the order of the lines found is
:mod:`ocr_engine.layout`'s.

Example:
    >>> import numpy as np
    >>> MorphologyDetector().detect(np.full((300, 200), 255, np.uint8))  # a blank page
    []
"""

from ocr_engine.detection.base import TextBox, TextDetector, WholeImageDetector, crop_box
from ocr_engine.detection.morphology import MorphologyDetector
from ocr_engine.layout import reading_order  # the order the detectors return lines in

__all__ = [
    "MorphologyDetector",
    "TextBox",
    "TextDetector",
    "WholeImageDetector",
    "crop_box",
    "reading_order",
]
