"""Image bytes -> BGR ``uint8`` array, with limits checked before the full decode.

Supported: JPEG, PNG, BMP, TIFF (first page), WebP, GIF (first frame). The
width and height are read from the file header first (:mod:`ocr_engine.image.headers`,
following each codec's own rules), so a decompression bomb is refused without decoding
it; the pixel limit is also sized by the bytes per pixel the decoder needs (16-bit and
float images take 2-8 times more). OpenCV's own size limits are set as a second line. A PNG
reaches the decoder with its critical chunks only and image data that inflates to no more
than its rows (:mod:`ocr_engine.image.png_stream`). Alpha is composited on white (on black when
what is drawn is light: white text on a transparent background stays readable), 16-bit and
float images are scaled to 8 bits, 1-bit images come out as 0/255 (all of it band by band,
so the conversion needs little memory beyond its output), and EXIF orientation is applied
(JPEG and TIFF by OpenCV, PNG ``eXIf`` and WebP ``EXIF`` chunks read here).

Example:
    >>> import cv2, numpy as np
    >>> png = cv2.imencode(".png", np.zeros((20, 30), np.uint8))[1].tobytes()
    >>> d = decode_image(png)
    >>> d.format, d.image.shape
    ('png', (20, 30, 3))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2  # its size limits are already set: ocr_engine/__init__ imports image.limits first
import numpy as np

from ocr_engine.errors import (
    ImageTooLarge,
    ImageTooSmall,
    UndecodableImage,
)
from ocr_engine.image.headers import (  # noqa: F401  (re-exported: the decoder's public names)
    MAX_JPEG_SCANS,
    ImageHeader,
    gif_first_frame,
    read_header,
    sniff_format,
)
from ocr_engine.image.limits import (  # noqa: F401  (re-exported)
    _DEFAULT_MAX_PIXELS,
    _DEFAULT_MAX_SIDE,
    OPENCV_LIMITS_IN_FORCE,
    OPENCV_MAX_PIXELS,
)
from ocr_engine.image.png_stream import png_for_decoder

# OpenCV prints codec warnings on stderr for corrupt input; we raise typed errors instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


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


def alpha_background(bgr: np.ndarray, alpha: np.ndarray) -> float:
    """The level to composite on: 255 (white), or 0 when the opaque content is light.

    The mean luminance of the drawn pixels, weighted by their alpha, decides: light content
    (white text on a transparent background) would vanish on white, so it goes on black.

    Args:
        bgr: ``[H, W, 3]`` colour, any numeric type in 0-255.
        alpha: ``[H, W]`` or ``[H, W, 1]`` opacity in 0-1.

    Example:
        >>> a = np.ones((2, 2), np.float32)
        >>> alpha_background(np.zeros((2, 2, 3)), a), alpha_background(np.full((2, 2, 3), 250.0), a)
        (255.0, 0.0)
    """
    a = alpha.reshape(alpha.shape[0], alpha.shape[1])
    total = float(a.sum())
    if total <= 0.0:
        return 255.0
    luma = bgr[:, :, 0] * 0.114 + bgr[:, :, 1] * 0.587 + bgr[:, :, 2] * 0.299
    return 0.0 if float((luma * a).sum()) / total > 160.0 else 255.0


# Conversions run over bands of rows of about this many pixels, so their temporaries take a
# few MB: over the whole image at once, a 40 Mpx RGBA image took 1.8 GB (16-bit: 2.1 GB).
_BAND_PIXELS = 1 << 19


def _bands(img: np.ndarray) -> Iterator[tuple[int, int]]:
    h, w = img.shape[:2]
    step = max(1, _BAND_PIXELS // max(w, 1))
    for r0 in range(0, h, step):
        yield r0, min(h, r0 + step)


def _to_uint8(img: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function that maps a band of rows of ``img`` to ``uint8`` as the whole image maps.

    16-bit: ``v * 255 // 65535`` (= ``v // 257``). Float: ``v * 255`` rounded when all of it
    is in 0-1, else stretched min-max to 0-255 (NaN as 0). Other integers: stretched min-max.
    """
    if img.dtype == np.uint16:
        return lambda band: band // 257
    is_float = img.dtype in (np.float32, np.float64)

    def values(band: np.ndarray) -> np.ndarray:
        return np.nan_to_num(band.astype(np.float32)) if is_float else band

    lo, hi = np.inf, -np.inf
    for r0, r1 in _bands(img):
        band = values(img[r0:r1])
        if band.size:
            lo, hi = min(lo, float(band.min())), max(hi, float(band.max()))
    if not np.isfinite(lo):
        lo, hi = 0.0, 1.0
    if is_float and lo >= 0.0 and hi <= 1.0:
        return lambda band: values(band) * 255.0 + 0.5
    scale = 255.0 / (hi - lo) if hi - lo > np.finfo(np.float64).eps else 0.0
    shift = -lo * scale
    if is_float:  # as cv2.normalize(NORM_MINMAX) in float32, then truncated
        s32, t32 = np.float32(scale), np.float32(shift)
        return lambda band: np.clip(values(band) * s32 + t32, 0, 255)
    return lambda band: np.clip(np.rint(band.astype(np.float64) * scale + shift), 0, 255)


def as_uint8(img: np.ndarray) -> np.ndarray:
    """``img`` with 8-bit samples (same shape), converted band by band as :func:`to_bgr8` does.

    Example:
        >>> as_uint8(np.array([[0, 32896, 65535]], np.uint16)).tolist()
        [[0, 128, 255]]
    """
    if img.dtype == np.uint8:
        return img
    to8 = _to_uint8(img)
    out = np.empty(img.shape, np.uint8)
    for r0, r1 in _bands(img):
        out[r0:r1] = to8(img[r0:r1])
    return out


def _composite(img: np.ndarray) -> np.ndarray:
    """8-bit gray+alpha or BGRA -> BGR on the background :func:`alpha_background` picks.

    In integers, band by band: ``round(c * a / 255) + (255 - a)`` on white (the last term
    dropped on black) is exactly ``c * a/255 + bg * (1 - a/255)`` rounded.
    """
    out = np.empty((*img.shape[:2], 3), np.uint8)

    def split(r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        band = np.ascontiguousarray(img[r0:r1])
        if band.shape[2] == 2:
            bgr = cv2.cvtColor(cv2.extractChannel(band, 0), cv2.COLOR_GRAY2BGR)
            alpha = cv2.extractChannel(band, 1)
        else:
            bgr, alpha = cv2.cvtColor(band, cv2.COLOR_BGRA2BGR), cv2.extractChannel(band, 3)
        return bgr, cv2.merge([alpha, alpha, alpha])

    total = weighted = 0  # sum of alpha, sum of 1000 * luminance * alpha
    for r0, r1 in _bands(img):
        bgr, alpha = split(r0, r1)
        b, g, r, _ = cv2.sumElems(cv2.multiply(bgr, alpha, dtype=cv2.CV_16U))  # exact: <= 255 * 255
        total += int(cv2.sumElems(alpha)[0])
        weighted += 114 * int(b) + 587 * int(g) + 299 * int(r)
    on_white = total <= 0 or weighted <= 160_000 * total  # mean luminance of the drawing <= 160
    for r0, r1 in _bands(img):
        bgr, alpha = split(r0, r1)
        band = cv2.multiply(bgr, alpha, scale=1.0 / 255.0)
        out[r0:r1] = cv2.add(band, cv2.bitwise_not(alpha)) if on_white else band
    return out


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any OpenCV-decoded array -> ``[H, W, 3]`` BGR ``uint8``; alpha composited on white
    (or on black when the content is light, see :func:`alpha_background`).

    16-bit, float and alpha images are converted in bands of rows (see :func:`as_uint8`),
    so the memory this takes beyond its input and output stays small.

    Example:
        >>> to_bgr8(np.full((2, 2), 65535, np.uint16))[0, 0].tolist()
        [255, 255, 255]
    """
    img = as_uint8(img)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img if img.ndim == 2 else img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels in (2, 4):
        return _composite(img)
    return img[:, :, :3]


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation value (1-8) so the image is upright.

    Example:
        >>> apply_orientation(np.arange(6).reshape(2, 3), 6).shape
        (3, 2)
    """
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(img), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


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
