"""OpenCV's own image size limits, set before cv2 loads (a second line behind the header checks).

OpenCV reads ``OPENCV_IO_MAX_IMAGE_PIXELS`` (and ``..._WIDTH``, ``..._HEIGHT``) once, when its
library loads. The package's ``__init__`` calls :func:`set_opencv_limits` before any module of
the package imports cv2, so every entry point (handlers, CLI, library use) gets them unless the
program imported cv2 itself first; :data:`OPENCV_LIMITS_IN_FORCE` tells which.
"""

from __future__ import annotations

import os
import sys

_DEFAULT_MAX_PIXELS = 40_000_000
_DEFAULT_MAX_SIDE = 20_000


def set_opencv_limits() -> tuple[int, bool]:
    """Set OpenCV's own image size limits (``OPENCV_IO_MAX_IMAGE_PIXELS``, ``..._WIDTH``,
    ``..._HEIGHT``) from this deployment's limits, unless they are set already.

    OpenCV reads them once, when its library loads (``import cv2``; checked with OpenCV 5.1:
    setting them later has no effect), and refuses, before allocating, an image whose
    decoder reports a larger size: a second line should a header ever lie to the readers
    here. So this runs before cv2 is imported. In the Lambda handlers this module is where
    cv2 is first imported (through ``ocr_engine.config``); a program that imports cv2
    first (``ocr_engine.engine`` does) gets OpenCV's defaults (2^30 pixels) unless its
    environment sets them. Returns the pixel limit and whether it is in force.
    """
    in_force = "OPENCV_IO_MAX_IMAGE_PIXELS" in os.environ or "cv2" not in sys.modules

    def env_int(name: str, default: int) -> int:
        try:
            return max(int(os.environ.get(name, "")), default)
        except ValueError:
            return default

    pixels = env_int("OCR_MAX_IMAGE_PIXELS", _DEFAULT_MAX_PIXELS)
    side = env_int("OCR_MAX_IMAGE_SIDE", _DEFAULT_MAX_SIDE)
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(pixels))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_WIDTH", str(side))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_HEIGHT", str(side))
    return int(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"]), in_force



# Computed once, at the package's import (this module holds no cv2 import).
OPENCV_MAX_PIXELS, OPENCV_LIMITS_IN_FORCE = set_opencv_limits()
