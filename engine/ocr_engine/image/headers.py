"""Image headers: format, size and orientation read from the bytes, without decoding pixels.

The size must be the one the codec will use, so each reader follows its codec's rules, not
the format's ideal: JPEG markers are walked as libjpeg walks them
(:mod:`~ocr_engine.image.jpeg_markers`), PNG chunks are checked by
:mod:`~ocr_engine.image.png_stream`, TIFF tags are taken from their first entry as libtiff
does, a WebP canvas must match its frame and a GIF's first image lie inside its screen.
Each header also gives an upper bound of the memory OpenCV needs per pixel to decode it
(:attr:`ImageHeader.decode_bytes_per_pixel`), so the pixel limit can be sized by bytes.

Example:
    >>> read_header(b"GIF89a\\x10\\x00\\x20\\x00" + bytes(3) + b"\\x2c" + bytes(4) + b"\\x10\\x00\\x20\\x00")
    ImageHeader(format='gif', width=16, height=32, orientation=1)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ocr_engine.errors import EmptyImage, UndecodableImage, UnsupportedImageType
from ocr_engine.image.gif_stream import gif_first_image
from ocr_engine.image.jpeg_markers import jpeg_info
from ocr_engine.image.png_stream import png_layout


@dataclass(frozen=True)
class ImageHeader:
    """What the header says: format, size, and EXIF/TIFF orientation (1 = upright).

    ``decode_bytes_per_pixel``: an upper bound of the memory OpenCV takes per pixel while it
    decodes this image (the decoded array, the copy handed to Python, and the JPEG
    coefficient buffer); ``0`` when unknown.
    """

    format: str
    width: int
    height: int
    orientation: int = 1
    decode_bytes_per_pixel: int = field(default=0, repr=False, compare=False)


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


# ---------------------------------------------------------------- PNG
def _png_info(r: _Reader) -> tuple[int, int, int, int]:
    """Width, height, decode bytes per pixel and orientation (from ``eXIf``)."""
    layout = png_layout(r.data)
    # OpenCV gives gray+alpha and anything with tRNS 4 channels, 16-bit samples 2 bytes.
    channels = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}[layout.color_type]
    if layout.has_trns:
        channels = 4
    sample = 2 if layout.bit_depth == 16 else 1
    orientation = 1
    for kind, start, end in layout.chunks:  # the first eXIf before the image data
        if kind == b"eXIf":
            orientation = _exif_orientation(r.data[start + 8:end - 4])
            break
        if kind == b"IDAT":
            break
    return layout.width, layout.height, 2 * channels * sample, orientation


# ---------------------------------------------------------------- BMP, WebP, GIF
def _bmp_info(r: _Reader) -> tuple[int, int, int]:
    (dib,) = r.unpack("<I", 14)
    if dib == 12:
        w, h = r.unpack("<HH", 18)
        bits = r.unpack("<H", 24)[0]
    else:
        w, h = r.unpack("<ii", 18)  # a negative height is a top-down bitmap
        bits = r.unpack("<H", 28)[0]
    return abs(w), abs(h), 8 if bits == 32 else 6


def _webp_frame_size(r: _Reader, pos: int) -> tuple[int, int] | None:
    """Size in the VP8 / VP8L chunk header at ``pos`` (``None`` if another chunk)."""
    chunk = r.data[pos:pos + 4]
    if chunk == b"VP8 ":
        if r.data[pos + 11:pos + 14] != b"\x9d\x01\x2a":
            raise UndecodableImage("webp VP8 frame header is corrupt")
        w, h = r.unpack("<HH", pos + 14)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = r.unpack("<I", pos + 9)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _webp_size(r: _Reader) -> tuple[int, int]:
    frame = _webp_frame_size(r, 12)
    if frame is not None:
        return frame
    if r.data[12:16] != b"VP8X":
        raise UndecodableImage("webp has no VP8/VP8L/VP8X chunk")
    b = r.data[24:30]
    if len(b) < 6:
        raise UndecodableImage("webp header is truncated")
    canvas = int.from_bytes(b[:3], "little") + 1, int.from_bytes(b[3:], "little") + 1
    if not r.data[20] & 0x02:  # a still image: libwebp refuses a frame of another size
        pos = 12
        for _ in range(64):
            if pos + 8 > len(r.data):
                break
            frame = _webp_frame_size(r, pos)
            if frame is not None:
                if frame != canvas:
                    raise UndecodableImage(f"webp frame is {frame[0]}x{frame[1]} on a "
                                           f"{canvas[0]}x{canvas[1]} canvas")
                break
            length = int.from_bytes(r.data[pos + 4:pos + 8], "little")
            pos += 8 + length + (length & 1)
    return canvas


def _gif_size(r: _Reader) -> tuple[int, int]:
    """The logical screen; the first image must lie inside it (OpenCV refuses it otherwise)."""
    w, h = r.unpack("<HH", 6)
    at = gif_first_image(r.data)
    if at is not None:
        left, top, fw, fh = r.unpack("<HHHH", at + 1)
        if left + fw > w or top + fh > h:
            raise UndecodableImage(f"gif first image ({fw}x{fh} at {left},{top}) lies outside its {w}x{h} screen")
    return w, h


# ---------------------------------------------------------------- TIFF and EXIF
# Integer field types: (struct code, size); libtiff converts any of them for a size tag.
_TIFF_INTS = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 6: ("b", 1), 8: ("h", 2), 9: ("i", 4),
              13: ("I", 4), 16: ("Q", 8), 17: ("q", 8), 18: ("Q", 8)}


def _ifd0_tags(r: _Reader, wanted: tuple[int, ...]) -> dict[int, int | None]:
    """First value of integer tags of the first IFD of a TIFF structure (classic and BigTIFF).

    As in libtiff, the first entry of a tag counts and later duplicates are ignored; a
    wanted tag whose first entry is not an integer maps to ``None``.
    """
    if r.data[:2] not in (b"II", b"MM"):
        raise UndecodableImage(f"{r.fmt} TIFF structure has no byte-order mark")
    e = "<" if r.data[:2] == b"II" else ">"
    (magic,) = r.unpack(e + "H", 2)
    if magic == 43:
        (ifd,) = r.unpack(e + "Q", 8)
        (count,) = r.unpack(e + "Q", ifd)
        first, step, inline, value_at, offset_code = ifd + 8, 20, 8, 12, "Q"
    else:
        (ifd,) = r.unpack(e + "I", 4)
        (count,) = r.unpack(e + "H", ifd)
        first, step, inline, value_at, offset_code = ifd + 2, 12, 4, 8, "I"
    tags: dict[int, int | None] = {}
    for i in range(min(count, 4096)):
        at = first + i * step
        tag, typ = r.unpack(e + "HH", at)
        if tag not in wanted or tag in tags:
            continue
        if typ not in _TIFF_INTS:
            tags[tag] = None
            continue
        code, size = _TIFF_INTS[typ]
        (n,) = r.unpack(e + offset_code, at + 4)
        where = at + value_at
        if n * size > inline:
            (where,) = r.unpack(e + offset_code, at + value_at)
        (tags[tag],) = r.unpack(e + code, where)
    return tags


def _tiff_info(r: _Reader) -> tuple[int, int, int, int]:
    """Width, height, decode bytes per pixel and orientation of the first page."""
    tags = _ifd0_tags(r, (256, 257, 258, 262, 274, 277))
    w, h = tags.get(256), tags.get(257)
    if w is None or h is None:
        raise UndecodableImage("tiff first page has no width/height")
    if w < 0 or h < 0:
        raise UndecodableImage("tiff first page has a negative width/height")
    orientation = tags.get(274) or 1
    samples, bits, photometric = tags.get(277) or 1, tags.get(258) or 1, tags.get(262)
    sample = 1 if bits <= 8 else 2 if bits <= 16 else 4 if bits <= 32 else 8
    # Gray / RGB of 8+ bits come out with their own samples (at most 4); palette, CMYK,
    # YCbCr and bilevel pages as BGR(A) of 8 bits.
    channels = min(max(samples, 1), 4) if photometric in (0, 1, 2) and bits >= 8 else 4
    return w, h, 2 * channels * sample, orientation if 1 <= orientation <= 8 else 1


def _exif_orientation(blob: bytes) -> int:
    """Orientation (1-8) from an EXIF blob (TIFF structure, optional ``Exif\\0\\0`` prefix)."""
    if blob.startswith(b"Exif\x00\x00"):
        blob = blob[6:]
    try:
        value = _ifd0_tags(_Reader(blob, "exif"), (274,)).get(274) or 1
    except UndecodableImage:
        return 1  # a broken EXIF block never blocks the image itself
    return value if 1 <= value <= 8 else 1


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
        ImageTooLarge: A JPEG with too many scans, a PNG with too many chunks.

    Example:
        >>> read_header(b"BM" + bytes(12) + b"\\x28" + bytes(3) + b"\\x10" + bytes(3) + b"\\xe0\\xff\\xff\\xff" + bytes(20))
        ImageHeader(format='bmp', width=16, height=32, orientation=1)
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
        w, h, bpp, orientation = _tiff_info(r)
    elif fmt == "png":
        w, h, bpp, orientation = _png_info(r)
    elif fmt == "jpeg":
        w, h, bpp = jpeg_info(data)
    elif fmt == "bmp":
        w, h, bpp = _bmp_info(r)
    elif fmt == "webp":
        (w, h), bpp = _webp_size(r), 8
        orientation = _webp_orientation(data)
    else:
        (w, h), bpp = _gif_size(r), 8
    return ImageHeader(fmt, int(w), int(h), orientation, bpp)
