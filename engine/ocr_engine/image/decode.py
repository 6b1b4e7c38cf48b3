"""Image bytes -> :class:`DecodedImage`: an upright BGR ``uint8`` array, limits checked first.

Supported: JPEG, PNG, BMP, TIFF (first page), WebP, GIF (first frame). The width and height
are read from the file header first (:mod:`~ocr_engine.image.headers`), so an image outside
the :class:`~ocr_engine.image.limits.DecodeLimits` (a decompression bomb among them) is
refused without decoding it. A PNG reaches the decoder with its critical chunks only and
image data that inflates to no more than its rows (:mod:`~ocr_engine.image.png_stream`), a
GIF cut after its first image (:mod:`~ocr_engine.image.gif_stream`). The decoded pixels are
made 8-bit BGR by :mod:`~ocr_engine.image.normalize`; EXIF orientation is applied (JPEG and
TIFF by OpenCV, PNG ``eXIf`` and WebP ``EXIF`` chunks read here).

Example:
    >>> import cv2, numpy as np
    >>> png = cv2.imencode(".png", np.zeros((20, 30), np.uint8))[1].tobytes()
    >>> d = decode_image(png)
    >>> d.format, d.image.shape
    ('png', (20, 30, 3))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2  # its size limits are already set: ocr_engine/__init__ imports image.limits first
import numpy as np

from ocr_engine.errors import ImageTooLarge, UndecodableImage
from ocr_engine.image.gif_stream import gif_first_frame
from ocr_engine.image.headers import read_header
from ocr_engine.image.limits import DecodeLimits, check_limits
from ocr_engine.image.normalize import apply_orientation, as_uint8, to_bgr8
from ocr_engine.image.png_stream import png_for_decoder

# OpenCV prints codec warnings on stderr for corrupt input; we raise typed errors instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

__all__ = ["DecodeLimits", "DecodedImage", "decode_image"]


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image.

    Attributes:
        image: ``[H, W, 3]`` BGR ``uint8`` array, orientation applied.
        format: ``jpeg``, ``png``, ``bmp``, ``tiff``, ``webp`` or ``gif``.
        width: Width of ``image``.
        height: Height of ``image``.
    """

    image: np.ndarray
    format: str
    width: int
    height: int


def decode_image(data: bytes, limits: DecodeLimits | None = None) -> DecodedImage:
    """Check limits from the header, then decode to an upright BGR ``uint8`` array.

    Args:
        data: Encoded image bytes.
        limits: Limits to enforce (defaults: :class:`DecodeLimits`).

    Raises:
        EmptyImage, UnsupportedImageType, UndecodableImage, ImageTooLarge,
        ImageTooSmall: All subclasses of :class:`~ocr_engine.errors.OcrError`.

    Example:
        >>> decode_image(open("page.jpg", "rb").read()).image.shape  # doctest: +SKIP
        (1123, 794, 3)
    """
    limits = limits or DecodeLimits()
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"image data must be bytes, got {type(data).__name__}")
    if len(data) > limits.max_bytes:  # before even reading the header
        raise ImageTooLarge(f"image is {len(data)} bytes; the limit is {limits.max_bytes}")
    header = read_header(data)
    check_limits(data, header, limits)
    if header.format == "gif":
        data = gif_first_frame(data)
    elif header.format == "png":
        data = png_for_decoder(data)  # critical chunks only, image data of a bounded size
    buf = np.frombuffer(data, np.uint8)
    # JPEG: IMREAD_COLOR lets OpenCV apply the EXIF orientation; JPEG has no alpha.
    flags = cv2.IMREAD_COLOR if header.format == "jpeg" else cv2.IMREAD_UNCHANGED
    try:
        img = cv2.imdecode(buf, flags)
    except cv2.error as err:
        if "CV_IO_MAX_IMAGE" in str(err):  # OpenCV's own limits (see ocr_engine.image.limits)
            raise ImageTooLarge(
                f"{header.format} image data is larger than its header says "
                f"({header.width}x{header.height}) and over the decoder's limit"
            ) from err
        raise UndecodableImage(f"{header.format} data cannot be decoded: {err.msg}") from err
    finally:
        del buf, data
    if img is None or img.size == 0:
        raise UndecodableImage(f"{header.format} data is corrupt or truncated")
    img = to_bgr8(as_uint8(img))  # the 16-bit / float array is freed before compositing
    # OpenCV itself applies the orientation of JPEG (IMREAD_COLOR) and TIFF (libtiff);
    # PNG and WebP decoded with IMREAD_UNCHANGED (to keep alpha) need it applied here.
    if header.format in ("png", "webp"):
        img = apply_orientation(img, header.orientation)
    h, w = img.shape[:2]
    return DecodedImage(np.ascontiguousarray(img), header.format, w, h)
