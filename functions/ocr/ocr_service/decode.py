"""Image bytes -> BGR ``uint8`` array, with limits checked before the full decode.

Supported: JPEG, PNG, BMP, TIFF (first page), WebP, GIF (first frame). The
width and height are read from the file header first (a few hundred bytes at
most), so a decompression bomb is refused without decoding it. Alpha is
composited on white (on black when what is drawn is light: white text on a
transparent background stays readable), 16-bit and float images are scaled to 8 bits, 1-bit
images come out as 0/255, and EXIF orientation is applied (JPEG and TIFF by
OpenCV, PNG ``eXIf`` and WebP ``EXIF`` chunks read here).

Example:
    >>> import cv2, numpy as np
    >>> png = cv2.imencode(".png", np.zeros((20, 30), np.uint8))[1].tobytes()
    >>> d = decode_image(png)
    >>> d.format, d.image.shape
    ('png', (20, 30, 3))
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_service.errors import (
    EmptyImage,
    ImageTooLarge,
    ImageTooSmall,
    UndecodableImage,
    UnsupportedImageType,
)

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
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 8
    max_side: int = 20_000


@dataclass(frozen=True)
class ImageHeader:
    """What the header says: format, size, and EXIF/TIFF orientation (1 = upright)."""

    format: str
    width: int
    height: int
    orientation: int = 1


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


def sniff_format(data: bytes) -> str | None:
    """Identify the format from magic bytes (``None`` if unknown).

    Example:
        >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...")
        'png'
    """
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


class _Reader:
    """Bounds-checked struct reads; running off the end is an UndecodableImage."""

    def __init__(self, data: bytes, fmt: str) -> None:
        self.data = data
        self.fmt = fmt

    def unpack(self, spec: str, offset: int) -> tuple[int, ...]:
        size = struct.calcsize(spec)
        if offset < 0 or offset + size > len(self.data):
            raise UndecodableImage(f"{self.fmt} header is truncated or corrupt")
        return struct.unpack_from(spec, self.data, offset)


def _png_size(r: _Reader) -> tuple[int, int]:
    if r.data[12:16] != b"IHDR":
        raise UndecodableImage("png has no IHDR chunk")
    _png_check_chunks(r.data)
    return r.unpack(">II", 16)


def _png_check_chunks(data: bytes) -> None:
    """Every chunk length must fit in the file: OpenCV allocates what a chunk declares, so
    a 4 KB file with one ~4 GB chunk length costs gigabytes and seconds before it fails."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        if length > len(data) - pos - 12:
            raise UndecodableImage("png is truncated or corrupt (a chunk runs past the end of the file)")
        if data[pos + 4:pos + 8] == b"IEND":
            return
        pos += 12 + length
    raise UndecodableImage("png is truncated (no IEND chunk)")


def _jpeg_size(r: _Reader) -> tuple[int, int]:
    """Walk the JPEG markers up to the first SOFn; also checks the file ends after the scan."""
    data, pos = r.data, 2
    size: tuple[int, int] | None = None
    while pos < len(data):
        if data[pos] != 0xFF:
            raise UndecodableImage("jpeg marker structure is corrupt")
        marker = data[pos + 1] if pos + 1 < len(data) else -1
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            pos += 2
            continue
        if marker == 0xD9:
            break
        (length,) = r.unpack(">H", pos + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and size is None:
            h, w = r.unpack(">HH", pos + 5)
            size = (w, h)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None:
                raise UndecodableImage("jpeg has no frame header before its scan")
            if data.find(b"\xff\xd9", pos + 2 + length) < 0:
                raise UndecodableImage("jpeg is truncated (no end-of-image marker)")
            if _jpeg_scan_count(data, pos) > MAX_JPEG_SCANS:
                raise ImageTooLarge(
                    f"jpeg has more than {MAX_JPEG_SCANS} scans (each scan re-decodes the whole image)"
                )
            return size
        pos += 2 + length
    raise UndecodableImage("jpeg is truncated or has no image data")


# Progressive JPEGs use about 10 scans. Each scan walks the whole image again, so a 125 KB
# file repeating one scan 1000 times took 20 s to decode (5000 times: 100 s).
MAX_JPEG_SCANS = 100


def _jpeg_scan_count(data: bytes, pos: int) -> int:
    """Start-of-scan markers from the first one (at ``pos``) to the end of the image.

    Stops counting once past the limit. Inside entropy-coded data 0xFF is followed by a
    stuffed 0x00 or a restart marker; any other marker is a segment with a length.
    """
    scans = 0
    while 0 <= pos < len(data) - 1:
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        if marker == 0xFF:  # fill byte
            pos = data.find(b"\xff", pos + 1)
            continue
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD7:  # stuffing, TEM, restart
            pos = data.find(b"\xff", pos + 2)
            continue
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                break
        if pos + 4 > len(data):
            break
        pos = data.find(b"\xff", pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big"))
    return scans


def _bmp_size(r: _Reader) -> tuple[int, int]:
    (dib,) = r.unpack("<I", 14)
    if dib == 12:
        w, h = r.unpack("<HH", 18)
    else:
        w, h = r.unpack("<ii", 18)
    return abs(w), abs(h)


def _webp_size(r: _Reader) -> tuple[int, int]:
    chunk = r.data[12:16]
    if chunk == b"VP8 ":
        if r.data[23:26] != b"\x9d\x01\x2a":
            raise UndecodableImage("webp VP8 frame header is corrupt")
        w, h = r.unpack("<HH", 26)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = r.unpack("<I", 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        b = r.data[24:30]
        if len(b) < 6:
            raise UndecodableImage("webp header is truncated")
        return int.from_bytes(b[:3], "little") + 1, int.from_bytes(b[3:], "little") + 1
    raise UndecodableImage("webp has no VP8/VP8L/VP8X chunk")


def _gif_size(r: _Reader) -> tuple[int, int]:
    return r.unpack("<HH", 6)


def gif_first_frame(data: bytes) -> bytes:
    """The GIF cut after its first image, with a trailer: OpenCV then decodes one frame only.

    Given a whole animation, OpenCV decodes further frames too: two 6000x6000 frames in a
    53 KB file cost 1.7 GB and 12 s, although only the first frame is used.

    Raises:
        UndecodableImage: The block structure is corrupt or ends before the first image.
    """
    flags = data[10] if len(data) > 10 else 0
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)

    def skip_sub_blocks(at: int) -> int:
        while at < len(data):
            size = data[at]
            at += 1 + size
            if size == 0:
                return at
        raise UndecodableImage("gif is truncated")

    while pos < len(data):
        block = data[pos]
        if block == 0x21:  # extension: introducer, label, sub-blocks
            pos = skip_sub_blocks(pos + 2)
        elif block == 0x2C:  # image descriptor (+ local colour table), LZW code size, data
            if pos + 10 > len(data):
                break
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            end = skip_sub_blocks(pos + 1)
            return data[:end] + b"\x3b"
        else:
            raise UndecodableImage("gif block structure is corrupt (no image before the trailer)")
    raise UndecodableImage("gif is truncated")


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}


def _ifd0_tags(r: _Reader, wanted: tuple[int, ...]) -> dict[int, int]:
    """Integer tags of the first IFD of a TIFF structure (classic and BigTIFF)."""
    if r.data[:2] not in (b"II", b"MM"):
        raise UndecodableImage(f"{r.fmt} TIFF structure has no byte-order mark")
    e = "<" if r.data[:2] == b"II" else ">"
    (magic,) = r.unpack(e + "H", 2)
    if magic == 43:
        (ifd,) = r.unpack(e + "Q", 8)
        (count,) = r.unpack(e + "Q", ifd)
        first, step, inline, value_at = ifd + 8, 20, 8, 12
    else:
        (ifd,) = r.unpack(e + "I", 4)
        (count,) = r.unpack(e + "H", ifd)
        first, step, inline, value_at = ifd + 2, 12, 4, 8
    tags: dict[int, int] = {}
    for i in range(min(count, 4096)):
        at = first + i * step
        tag, typ = r.unpack(e + "HH", at)
        if tag in wanted and typ in _TIFF_TYPES:
            code, size = _TIFF_TYPES[typ]
            if size <= inline:
                (tags[tag],) = r.unpack(e + code, at + value_at)
    return tags


def _tiff_info(r: _Reader) -> tuple[int, int, int]:
    """Width, height and orientation of the first page."""
    tags = _ifd0_tags(r, (256, 257, 274))
    if 256 not in tags or 257 not in tags:
        raise UndecodableImage("tiff first page has no width/height")
    orientation = tags.get(274, 1)
    return tags[256], tags[257], orientation if 1 <= orientation <= 8 else 1


def _exif_orientation(blob: bytes) -> int:
    """Orientation (1-8) from an EXIF blob (TIFF structure, optional ``Exif\\0\\0`` prefix)."""
    if blob.startswith(b"Exif\x00\x00"):
        blob = blob[6:]
    try:
        value = _ifd0_tags(_Reader(blob, "exif"), (274,)).get(274, 1)
    except UndecodableImage:
        return 1  # a broken EXIF block never blocks the image itself
    return value if 1 <= value <= 8 else 1


def _png_orientation(data: bytes) -> int:
    """Orientation from a PNG ``eXIf`` chunk (before the image data), else 1."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"eXIf":
            return _exif_orientation(data[pos + 8:pos + 8 + length])
        if kind in (b"IDAT", b"IEND"):
            return 1
        pos += 12 + length
    return 1


def _webp_orientation(data: bytes) -> int:
    """Orientation from a WebP ``EXIF`` chunk (extended format only), else 1."""
    if data[12:16] != b"VP8X":
        return 1
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        if kind == b"EXIF":
            return _exif_orientation(data[pos + 8:pos + 8 + length])
        pos += 8 + length + (length & 1)
    return 1


def read_header(data: bytes) -> ImageHeader:
    """Read format and dimensions without decoding pixels.

    Raises:
        EmptyImage: For zero bytes.
        UnsupportedImageType: For an unknown format.
        UndecodableImage: For a corrupt or truncated header.

    Example:
        >>> read_header(b"GIF89a\\x10\\x00\\x20\\x00" + bytes(10))
        ImageHeader(format='gif', width=16, height=32, orientation=1)
    """
    if not data:
        raise EmptyImage("the image is empty (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImageType(
            "unsupported image type: expected JPEG, PNG, BMP, TIFF, WebP or GIF"
        )
    r = _Reader(data, fmt)
    orientation = 1
    if fmt == "tiff":
        w, h, orientation = _tiff_info(r)
    else:
        reader = {
            "png": _png_size,
            "jpeg": _jpeg_size,
            "bmp": _bmp_size,
            "webp": _webp_size,
            "gif": _gif_size,
        }[fmt]
        w, h = reader(r)
        if fmt == "png":
            orientation = _png_orientation(data)
        elif fmt == "webp":
            orientation = _webp_orientation(data)
    return ImageHeader(fmt, int(w), int(h), orientation)


def check_limits(data: bytes, header: ImageHeader, limits: DecodeLimits) -> None:
    """Refuse images outside ``limits`` (cheap: uses the header only).

    Raises:
        ImageTooLarge: Too many bytes, pixels, or too long a side.
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


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any OpenCV-decoded array -> ``[H, W, 3]`` BGR ``uint8``; alpha composited on white
    (or on black when the content is light, see :func:`alpha_background`).

    Example:
        >>> to_bgr8(np.full((2, 2), 65535, np.uint16))[0, 0].tolist()
        [255, 255, 255]
    """
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        f = np.nan_to_num(img.astype(np.float32))
        hi = float(f.max()) if f.size else 1.0
        lo = float(f.min()) if f.size else 0.0
        if lo >= 0.0 and hi <= 1.0:
            img = (f * 255.0 + 0.5).astype(np.uint8)
        else:
            img = cv2.normalize(f, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # gray + alpha
        gray, alpha = img[:, :, 0], img[:, :, 1]
        img = cv2.merge([gray, gray, gray, alpha])
        channels = 4
    if channels == 4:
        alpha = img[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
        bgr = img[:, :, :3].astype(np.float32)
        bg = alpha_background(bgr, alpha)
        return (bgr * alpha + bg * (1.0 - alpha) + 0.5).astype(np.uint8)
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
        ImageTooSmall: All subclasses of :class:`~ocr_service.errors.OcrError`.

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
    buf = np.frombuffer(data, np.uint8)
    # JPEG: IMREAD_COLOR lets OpenCV apply the EXIF orientation; JPEG has no alpha.
    flags = cv2.IMREAD_COLOR if header.format == "jpeg" else cv2.IMREAD_UNCHANGED
    try:
        img = cv2.imdecode(buf, flags)
    except cv2.error as err:
        raise UndecodableImage(f"{header.format} data cannot be decoded: {err.msg}") from err
    if img is None or img.size == 0:
        raise UndecodableImage(f"{header.format} data is corrupt or truncated")
    img = to_bgr8(img)
    # OpenCV itself applies the orientation of JPEG (IMREAD_COLOR) and TIFF (libtiff);
    # PNG and WebP decoded with IMREAD_UNCHANGED (to keep alpha) need it applied here.
    if header.format in ("png", "webp"):
        img = apply_orientation(img, header.orientation)
    h, w = img.shape[:2]
    return DecodedImage(np.ascontiguousarray(img), header.format, w, h)
