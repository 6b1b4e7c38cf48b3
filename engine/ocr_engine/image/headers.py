"""Image headers: format, size and orientation read from the bytes, without decoding pixels.

The size must be the one the codec will use, so each reader follows its codec's rules, not
the format's ideal: the JPEG walker reads markers exactly as libjpeg does (fill bytes,
stuffed ``FF 00`` pairs and stray bytes skipped, parameterless markers, one frame header),
TIFF tags are taken from their first entry as libtiff does, and a WebP canvas must match
its frame. Each header also gives an upper bound of the memory OpenCV needs per pixel to
decode it (:attr:`ImageHeader.decode_bytes_per_pixel`), so the pixel limit can be sized by
bytes.

Example:
    >>> read_header(b"GIF89a\\x10\\x00\\x20\\x00" + bytes(3) + b"\\x2c" + bytes(4) + b"\\x10\\x00\\x20\\x00")
    ImageHeader(format='gif', width=16, height=32, orientation=1)
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from ocr_engine.errors import EmptyImage, ImageTooLarge, UndecodableImage, UnsupportedImageType
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


# ---------------------------------------------------------------- JPEG
# Progressive JPEGs use about 10 scans. Each scan walks the whole image again, so a 125 KB
# file repeating one scan 1000 times took 20 s to decode (5000 times: 100 s).
MAX_JPEG_SCANS = 100

# Frame headers (SOFn). libjpeg decodes 0-3 and 9-11 and refuses the others, but any of
# them states a size, and a second one of any kind is refused.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers libjpeg reads as a segment with a length: the frame headers, DHT, DAC, SOS, DQT,
# DNL (skipped), DRI, APP0-15, COM. Every other marker (JPG, DHP, EXP, JPGn, reserved
# 02-BF) is an error for libjpeg; SOI, EOI, RSTn and TEM have no length.
_JPEG_SEGMENTS = _JPEG_SOF | {0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xFE, *range(0xE0, 0xF0)}
# An FF that libjpeg does not skip: not a stuffed FF 00, not RSTn / TEM (parameterless,
# ignored between segments; inside a scan, RSTn belong to the entropy-coded data).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\x01\xd0-\xd7]")
_FF_RUN = re.compile(rb"\xff+")


def _jpeg_next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The next marker at or after ``pos`` as libjpeg's ``next_marker`` finds it.

    Bytes other than FF are skipped (libjpeg warns of "extraneous bytes" and goes on), a
    run of FF is fill, a stuffed ``FF 00`` pair is discarded and RSTn / TEM are ignored.
    Inside entropy-coded data this also finds the marker that ends a scan, as libjpeg's
    entropy decoder does. Returns ``(marker, position after it)``, or ``(-1, len(data))``.
    """
    while True:
        m = _JPEG_MARKER.search(data, pos)
        if m is None:
            return -1, len(data)
        at = m.start()
        if data[at + 1] != 0xFF:
            return data[at + 1], at + 2
        end = _FF_RUN.match(data, at).end()  # type: ignore[union-attr]  # fill bytes
        if end >= len(data):
            return -1, len(data)
        marker = data[end]
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD7:
            pos = end + 1
            continue
        return marker, end + 1


def _jpeg_segment(data: bytes, pos: int, marker: int) -> int:
    """Length of the marker segment whose length field is at ``pos`` (checked as libjpeg would)."""
    if marker not in _JPEG_SEGMENTS:
        raise UndecodableImage(f"jpeg has an unknown or unsupported marker FF{marker:02X}")
    if pos + 2 > len(data):
        raise UndecodableImage("jpeg is truncated (inside a marker segment)")
    length = (data[pos] << 8) | data[pos + 1]
    if length < 2:
        raise UndecodableImage(f"jpeg marker segment FF{marker:02X} has a bad length")
    if pos + length > len(data):
        raise UndecodableImage("jpeg is truncated (a marker segment runs past the end)")
    return length


def _jpeg_info(r: _Reader) -> tuple[int, int, int]:
    """Width, height and decode bytes per pixel, from the markers as libjpeg reads them.

    Up to the first scan, libjpeg's ``jpeg_read_header`` reads every marker; the size is
    the one frame header it finds there. A file it would refuse on the way (a second SOI
    or SOF, a scan before the frame header, an unknown marker, a bad length) is refused
    here. After the first scan the size cannot change (libjpeg refuses a second frame
    header, or never reads on, for a single-scan image); the walk goes on to count the
    scans (at most :data:`MAX_JPEG_SCANS`) and to find the end-of-image marker (truncated
    otherwise). Where libjpeg would stop reading markers (an unknown marker, a bad length
    after the first scan) the count stops and any later end-of-image marker will do.
    """
    data = r.data
    pos, frame = 2, None
    while True:  # the header: up to the first scan
        marker, pos = _jpeg_next_marker(data, pos)
        if marker < 0:
            raise UndecodableImage("jpeg is truncated or has no image data")
        if marker == 0xD9:
            raise UndecodableImage("jpeg has no image data (its end comes before any scan)")
        if marker == 0xD8:
            raise UndecodableImage("jpeg has a second start-of-image marker")
        length = _jpeg_segment(data, pos, marker)
        if marker in _JPEG_SOF:
            if frame is not None:
                raise UndecodableImage("jpeg has more than one frame header (SOF)")
            if length < 8 or length != 8 + 3 * data[pos + 7]:
                raise UndecodableImage("jpeg frame header is corrupt")
            precision, h, w, components = struct.unpack_from(">BHHB", data, pos + 2)
            frame = (w, h, precision, components)
        pos += length
        if marker == 0xDA:
            if frame is None:
                raise UndecodableImage("jpeg has no frame header before its scan")
            break
    scans = 1
    while True:  # the scans, to the end of the image
        marker, pos = _jpeg_next_marker(data, pos)
        if marker < 0:
            raise UndecodableImage("jpeg is truncated (no end-of-image marker)")
        if marker == 0xD9:
            break
        try:
            if marker in _JPEG_SOF or marker == 0xD8:
                raise UndecodableImage("libjpeg reads no further")
            length = _jpeg_segment(data, pos, marker)
        except UndecodableImage:
            if data.find(b"\xff\xd9", pos) < 0:
                raise UndecodableImage("jpeg is truncated (no end-of-image marker)") from None
            break
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise ImageTooLarge(
                    f"jpeg has more than {MAX_JPEG_SCANS} scans (each scan re-decodes the whole image)"
                )
        pos += length
    w, h, precision, components = frame
    sample = 2 if precision > 8 else 1
    # BGR output and its copy to Python, plus libjpeg's coefficient buffer (2 bytes per
    # coefficient per component) for progressive / multi-scan files.
    return w, h, 6 * sample + 2 * components


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


def _gif_skip_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data):
        size = data[at]
        at += 1 + size
        if size == 0:
            return at
    raise UndecodableImage("gif is truncated")


def gif_first_image(data: bytes) -> int | None:
    """Offset of the first image descriptor (``None`` if the file ends before one).

    Raises:
        UndecodableImage: The block structure is corrupt.
    """
    flags = data[10] if len(data) > 10 else 0
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data):
        block = data[pos]
        if block == 0x21:  # extension: introducer, label, sub-blocks
            pos = _gif_skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:
            return pos
        else:
            raise UndecodableImage("gif block structure is corrupt (no image before the trailer)")
    return None


def gif_first_frame(data: bytes) -> bytes:
    """The GIF cut after its first image, with a trailer: OpenCV then decodes one frame only.

    Given a whole animation, OpenCV decodes further frames too: two 6000x6000 frames in a
    53 KB file cost 1.7 GB and 12 s, although only the first frame is used.

    Raises:
        UndecodableImage: The block structure is corrupt or ends before the first image.
    """
    pos = gif_first_image(data)
    if pos is None or pos + 10 > len(data):
        raise UndecodableImage("gif is truncated")
    local = data[pos + 9]  # image descriptor (+ local colour table), LZW code size, data
    pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
    end = _gif_skip_sub_blocks(data, pos + 1)
    return data[:end] + b"\x3b"


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
        w, h, bpp = _jpeg_info(r)
    elif fmt == "bmp":
        w, h, bpp = _bmp_info(r)
    elif fmt == "webp":
        (w, h), bpp = _webp_size(r), 8
        orientation = _webp_orientation(data)
    else:
        (w, h), bpp = _gif_size(r), 8
    return ImageHeader(fmt, int(w), int(h), orientation, bpp)
