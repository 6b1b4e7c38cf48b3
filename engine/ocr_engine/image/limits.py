"""How large an image may be: the limits checked from its header, and OpenCV's own.

:class:`DecodeLimits` and :func:`check_limits` refuse an image from the size its header
declares, before any pixel is decoded. OpenCV's own size limits are a second line:
OpenCV reads ``OPENCV_IO_MAX_IMAGE_PIXELS`` (and ``..._WIDTH``, ``..._HEIGHT``) once, when its
library loads, so the package's ``__init__`` imports this module (which holds no cv2 import)
before any module of the package imports cv2, and :func:`set_opencv_limits` runs then: every
entry point (handlers, CLI, library use) gets them unless the program imported cv2 itself
first; :data:`OPENCV_LIMITS_IN_FORCE` tells which.

Example:
    >>> from ocr_engine.image.headers import ImageHeader
    >>> try:
    ...     check_limits(b"...", ImageHeader("png", 30_000, 100), DecodeLimits())
    ... except ImageTooLarge as err:
    ...     print(err)
    image is 30000x100 = 3000000 pixels; the limit is 40000000 pixels and 20000 per side
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocr_engine.errors import ImageTooLarge, ImageTooSmall

if TYPE_CHECKING:
    from ocr_engine.image.headers import ImageHeader

_DEFAULT_MAX_PIXELS = 40_000_000
_DEFAULT_MAX_SIDE = 20_000


@dataclass(frozen=True)
class DecodeLimits:
    """Limits enforced on every image.

    Attributes:
        max_bytes: Largest accepted encoded size.
        max_pixels: Largest accepted ``width * height`` (checked from the header).
        min_side: Smallest accepted width or height.
        max_side: Largest accepted width or height.
        max_decode_bytes: Largest memory decoding may take, estimated from the header
            (``width * height *`` :attr:`ImageHeader.decode_bytes_per_pixel`): 40 Mpx of
            8-bit RGB(A) pass; 16-bit RGBA is held to 33 Mpx, float32 RGBA to 16 Mpx.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = _DEFAULT_MAX_PIXELS
    min_side: int = 8
    max_side: int = _DEFAULT_MAX_SIDE
    max_decode_bytes: int = 512 * 1024 * 1024


def check_limits(data: bytes, header: ImageHeader, limits: DecodeLimits) -> None:
    """Refuse images outside ``limits`` (cheap: uses the header only).

    Raises:
        ImageTooLarge: Too many bytes, pixels, decode memory, or too long a side.
        ImageTooSmall: A side shorter than ``limits.min_side``.
    """
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"image is {len(data)} bytes; the limit is {limits.max_bytes}")
    w, h = header.width, header.height
    if w * h > limits.max_pixels or max(w, h) > limits.max_side:
        raise ImageTooLarge(
            f"image is {w}x{h} = {w * h} pixels; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} per side"
        )
    need = w * h * header.decode_bytes_per_pixel
    if need > limits.max_decode_bytes:
        raise ImageTooLarge(
            f"image is {w}x{h} at {header.decode_bytes_per_pixel} bytes per pixel to decode "
            f"({need >> 20} MiB); the limit is {limits.max_decode_bytes >> 20} MiB"
        )
    if min(w, h) < limits.min_side:
        raise ImageTooSmall(f"image is {w}x{h}; each side must be at least {limits.min_side} px")


def set_opencv_limits() -> tuple[int, bool]:
    """Set OpenCV's own image size limits (``OPENCV_IO_MAX_IMAGE_PIXELS``, ``..._WIDTH``,
    ``..._HEIGHT``) from this deployment's limits, unless they are set already.

    OpenCV reads them once, when its library loads (``import cv2``; checked with OpenCV 5.1:
    setting them later has no effect), and refuses, before allocating, an image whose
    decoder reports a larger size: a second line should a header ever lie to the readers
    here. So this runs before cv2 is imported (the package's ``__init__`` imports this
    module first); a program that imports cv2 before ``ocr_engine`` gets OpenCV's defaults
    (2^30 pixels) unless its environment sets them. Returns the pixel limit and whether it
    is in force.
    """
    in_force = "OPENCV_IO_MAX_IMAGE_PIXELS" in os.environ or "cv2" not in sys.modules

    def env_int(name: str, default: int) -> int:
        try:
            return max(int(os.environ.get(name, "")), default)
        except ValueError:
            return default

    pixels = env_int("OCR_MAX_IMAGE_PIXELS", _DEFAULT_MAX_PIXELS)
    side = _DEFAULT_MAX_SIDE  # the decoder's side limit is a constant (DecodeLimits.max_side)
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(pixels))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_WIDTH", str(side))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_HEIGHT", str(side))
    return int(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"]), in_force


# Computed once, at the package's import (this module holds no cv2 import).
OPENCV_MAX_PIXELS, OPENCV_LIMITS_IN_FORCE = set_opencv_limits()
