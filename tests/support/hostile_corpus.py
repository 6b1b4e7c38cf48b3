"""A generated corpus of hostile and odd image uploads (nothing is downloaded).

Every case is built here, in memory, from numpy / OpenCV / Pillow or by hand-crafting
headers, and carries the answers the service may give:

* ``"ok"``: a valid (if odd) image that must be processed (a result, possibly with no lines);
* an error code (``empty_image``, ``unsupported_image_type``, ``undecodable_image``,
  ``image_too_large``, ``image_too_small``): a typed refusal with a 4xx status.

``expected`` is a set because a few codecs (animated WebP, for instance) may be read or
refused depending on the OpenCV build; every member is still a documented, non-5xx answer.

Run ``python tests/reliability/hostile_corpus.py OUT_DIR`` to write the files for a look.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# HTTP status of each answer (mirrors ocr_engine.errors; checked by the tests).
STATUS = {
    "ok": 200,
    "empty_image": 400,
    "invalid_input": 400,
    "image_too_large": 413,
    "unsupported_image_type": 415,
    "undecodable_image": 422,
    "image_too_small": 422,
    "undecodable_document": 422,
    "page_too_large": 413,
}


@dataclass(frozen=True)
class Case:
    """One hostile input: a name (also used as a file name), the bytes and the allowed answers."""

    name: str
    kind: str  # class of input, for the report
    data: bytes
    expected: frozenset[str]

    @property
    def statuses(self) -> set[int]:
        return {STATUS[e] for e in self.expected}


def _png(img: np.ndarray, params: list[int] | None = None) -> bytes:
    ok, buf = cv2.imencode(".png", img, params or [])
    assert ok
    return buf.tobytes()


def _jpeg(img: np.ndarray, params: list[int] | None = None) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, params or [])
    assert ok
    return buf.tobytes()


def _pil(mode: str, size: tuple[int, int], fmt: str, color: object = 255, **kw: object) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new(mode, size, color)  # type: ignore[arg-type]
    if mode not in ("CMYK",):
        ImageDraw.Draw(img).rectangle([size[0] // 8, size[1] // 3, size[0] // 2, size[1] // 2], fill=0)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def text_page(width: int = 480, height: int = 160, lines: int = 2) -> np.ndarray:
    """A white page with a few lines of dark Latin text (for valid-image cases)."""
    img = np.full((height, width, 3), 255, np.uint8)
    for i in range(lines):
        y = int((i + 1) * height / (lines + 1)) + 8
        cv2.putText(img, f"Line {i + 1}: OCR 2024", (12, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    return img


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width x height`` 8-bit gray pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # A few rows of real (compressed) zeros; the header alone must be enough to refuse it.
    idat = zlib.compress(b"\x00" * min(width + 1, 1 << 16) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_with_chunk_length(kind: bytes, length: int) -> bytes:
    """A small valid PNG whose ``kind`` chunk (IDAT, or an inserted tEXt) declares ``length`` bytes."""
    png = _png(text_page(160, 48, 1))
    if kind == b"IDAT":
        at = png.index(b"IDAT") - 4
        return png[:at] + struct.pack(">I", length) + png[at + 4:]
    end_ihdr = 8 + 8 + 13 + 4
    return png[:end_ihdr] + struct.pack(">I", length) + kind + b"a\x00b" + png[end_ihdr:]


def png_zlib_bomb_inside_limits() -> bytes:
    """A real 4000x4000 PNG of zeros: small file, 16 Mpx (allowed; must be decoded in bounds)."""
    raw = (b"\x00" + b"\x00" * 4000) * 4000
    ihdr = struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def jpeg_with_size(width: int, height: int) -> bytes:
    """A valid small JPEG whose SOF0 frame header is rewritten to ``width x height``."""
    data = bytearray(_jpeg(np.full((16, 16), 200, np.uint8)))
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xC2:
            data[pos + 5:pos + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        pos += 2 + length
    raise AssertionError("no SOF marker")


def gif_with_screen(width: int, height: int) -> bytes:
    data = bytearray(_pil("L", (16, 16), "GIF", 128))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_with_size(width: int, height: int) -> bytes:
    data = bytearray(_png_to("bmp", np.full((16, 16, 3), 200, np.uint8)))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def tiff_with_size(width: int, height: int) -> bytes:
    """A little-endian TIFF whose first IFD declares ``width x height`` (no real strips)."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 24) + bytes(16) + ifd


def webp_vp8x_canvas(width: int, height: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _png_to(ext: str, img: np.ndarray, params: list[int] | None = None) -> bytes:
    ok, buf = cv2.imencode("." + ext, img, params or [])
    assert ok, ext
    return buf.tobytes()


def jpeg_with_huge_exif() -> bytes:
    """A JPEG with an APP1 EXIF segment near the 64 KB maximum (long ImageDescription)."""
    from PIL import Image

    img = Image.fromarray(cv2.cvtColor(text_page(), cv2.COLOR_BGR2RGB))
    exif = Image.Exif()
    exif[0x010E] = "E" * 60_000  # ImageDescription
    exif[0x0112] = 1  # Orientation
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def png_with_exif(blob: bytes) -> bytes:
    """A PNG with an ``eXIf`` chunk holding ``blob`` before the image data."""
    png = _png(text_page())
    end_ihdr = 8 + 8 + 13 + 4
    return png[:end_ihdr] + _chunk(b"eXIf", blob) + png[end_ihdr:]


def exif_self_loop() -> bytes:
    """A TIFF-structured EXIF blob whose IFD count is huge and whose offsets point at themselves."""
    return b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 0xFFFF) + struct.pack(">HHII", 274, 3, 1, 8 << 16) * 3


def png_with_big_text_chunk() -> bytes:
    png = _png(text_page())
    end_ihdr = 8 + 8 + 13 + 4
    return png[:end_ihdr] + _chunk(b"tEXt", b"Comment\x00" + b"x" * 1_000_000) + png[end_ihdr:]


def animated(fmt: str) -> bytes:
    from PIL import Image

    frames = [Image.fromarray(np.full((64, 96, 3), v, np.uint8)) for v in (255, 0, 128)]
    buf = io.BytesIO()
    frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def jpeg_scan_bomb(repeats: int = 1000, side: int = 2000) -> bytes:
    """A small progressive JPEG whose last scan is repeated: each scan re-decodes the image."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (side, side), (200, 200, 200)).save(buf, format="JPEG", progressive=True, quality=30)
    data = buf.getvalue()
    last = data[data.rindex(b"\xff\xda"):-2]
    return data[:-2] + last * repeats + b"\xff\xd9"


def gif_two_big_frames(side: int = 4000) -> bytes:
    """Two flat ``side`` x ``side`` frames: a 26 KB file (only the first frame may be decoded)."""
    from PIL import Image

    frames = [Image.new("L", (side, side), v) for v in (255, 0)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def multipage_tiff(second_page: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    pages = [Image.fromarray(cv2.cvtColor(text_page(), cv2.COLOR_BGR2RGB)), Image.new("L", second_page, 0)]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buf.getvalue()


def rgba_alpha_only() -> bytes:
    """All colour channels zero; the only content is in the alpha channel."""
    page = text_page()
    rgba = np.zeros((*page.shape[:2], 4), np.uint8)
    rgba[:, :, 3] = 255 - cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    return _png(rgba)


# ---------------------------------------------------------------- issue "hostile inputs that still get through"
def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """Adler-32 of two byte strings in a row from the checksums of each (zlib's adler32_combine)."""
    base = 65521
    rem = second_length % base
    s1 = ((first & 0xFFFF) + (second & 0xFFFF) + base - 1) % base
    s2 = (rem * (first & 0xFFFF) + (first >> 16) + (second >> 16) + base - rem) % base
    return s1 | (s2 << 16)


def _deflate_repeated(parts: list[tuple[bytes, int]], *, end: bool = True) -> bytes:
    """A zlib stream of ``data * count`` for each part, compressing each part only once.

    Each part is deflated alone and flushed with ``Z_FULL_FLUSH`` (byte aligned, no reference
    to earlier data), so its blocks can be repeated. ``end=False`` leaves the stream open.
    """
    out, adler = [b"\x78\xda"], 1
    for data, count in parts:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        out.append((c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)) * count)
        part = zlib.adler32(data)
        for _ in range(count if end else 0):
            adler = _adler32_combine(adler, part, len(data))
    if end:
        out.append(b"\x03\x00" + struct.pack(">I", adler))  # empty final block + Adler-32
    return b"".join(out)


def _png_raw(width: int, height: int, bit_depth: int, color_type: int, idat: bytes, *,
             interlace: int = 0, before: list[bytes] | None = None, after: list[bytes] | None = None,
             idat_split: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    if idat_split:
        idats = b"".join(_chunk(b"IDAT", idat[i:i + idat_split]) for i in range(0, len(idat), idat_split))
    else:
        idats = _chunk(b"IDAT", idat)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + b"".join(before or []) + idats
            + b"".join(after or []) + _chunk(b"IEND", b""))


def _png_idat(png: bytes) -> bytes:
    """The image data (all IDAT payloads) of a well-formed PNG."""
    out, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            out.append(png[pos + 8:pos + 8 + length])
        pos += 12 + length
    return b"".join(out)


def png_flat(width: int, height: int, pixel: bytes, color_type: int, bit_depth: int = 8) -> bytes:
    """A ``width x height`` PNG of one colour (``pixel``: one pixel's bytes), built row block by row block."""
    row = b"\x00" + pixel * width
    block = max(1, min(height, (4 << 20) // len(row)))
    parts = [(row * block, height // block)] + ([(row * (height % block), 1)] if height % block else [])
    return _png_raw(width, height, bit_depth, color_type, _deflate_repeated(parts))


def png_text_page(before: list[bytes] | None = None, after: list[bytes] | None = None) -> bytes:
    """The text page as a PNG with extra chunks before and/or after its image data."""
    png = _png(text_page())
    end_ihdr = 8 + 8 + 13 + 4
    iend = len(png) - 12
    return png[:end_ihdr] + b"".join(before or []) + png[end_ihdr:iend] + b"".join(after or []) + png[iend:]


def ztxt_bomb(count: int, inflated: int = 7_900_000, kind: bytes = b"zTXt", fill: bytes = b"x") -> bytes:
    """``count`` compressed text chunks of ``inflated`` bytes each (libpng inflates and keeps them all)."""
    blob = zlib.compress(fill * inflated, 9)
    if kind == b"zTXt":
        payload = b"Comment\x00\x00" + blob
    elif kind == b"iTXt":
        payload = b"Comment\x00\x01\x00en\x00Comment\x00" + blob
    else:  # iCCP
        payload = b"profile\x00\x00" + blob
    return png_text_page(before=[_chunk(kind, payload)] * count)


def apng_big_frames(frames: int = 30, side: int = 4000) -> bytes:
    """An APNG with a flat ``side``² gray default image (also its first frame) and ``frames`` more
    flat full-size fdAT frames, each after a zTXt chunk of 4 MB of inflated NUL bytes."""
    row = b"\x00" + b"\xff" * side
    data = _deflate_repeated([(row * 256, side // 256), (row * (side % 256), 1)])
    ztxt = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (4 << 20), 9))

    def fctl(seq: int) -> bytes:
        return _chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, side, side, 0, 0, 1, 10, 0, 0))

    head = [_chunk(b"acTL", struct.pack(">II", frames + 1, 0)), fctl(0)]
    tail: list[bytes] = []
    for n in range(frames):
        tail += [fctl(1 + 2 * n), ztxt, _chunk(b"fdAT", struct.pack(">I", 2 + 2 * n) + data)]
    return _png_raw(side, side, 8, 0, data, before=head, after=tail)


def png_many_chunks(count: int) -> bytes:
    """The text page with ``count`` tiny private ancillary chunks before its image data."""
    return png_text_page(before=[_chunk(b"prVt", b"")] * count)


def png_rows_then_more(width: int, height: int, extra_mb: int, *, interlace: int = 0) -> bytes:
    """A gray PNG whose zlib stream goes on after the last row: ``extra_mb`` MB of deflated zeros
    (about 1000x as much inflated), without ever ending the stream."""
    if interlace:
        size = 0
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            pw, ph = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            size += ph * (1 + pw) if pw and ph else 0
        rows = b"\x00" * size
    else:
        rows = (b"\x00" + b"\x80" * width) * height
    zeros = _deflate_repeated([(bytes(1 << 24), 1)], end=False)[2:]  # 16 MB of zeros: ~16 KB deflated
    idat = _deflate_repeated([(rows, 1)], end=False) + zeros * max(1, extra_mb * (1 << 20) // len(zeros))
    return _png_raw(width, height, 8, 0, idat, interlace=interlace)


def png_second_stream_after_rows() -> bytes:
    """A complete zlib stream, then junk (a second stream) in the same IDAT: libpng stops at the end."""
    rows = (b"\x00" + b"\xff" * 200) * 60
    return _png_raw(200, 60, 8, 0, zlib.compress(rows) + zlib.compress(bytes(1 << 22), 9))


def png_short_stream() -> bytes:
    """Image data that ends (properly) before the last row."""
    rows = (b"\x00" + b"\xff" * 200) * 30
    return _png_raw(200, 60, 8, 0, zlib.compress(rows))


def png_unknown_critical_chunk() -> bytes:
    return png_text_page(before=[_chunk(b"ABCD", b"1234")])


def jpeg_base(progressive: bool = False, gray: bool = True) -> bytes:
    img = np.full((16, 16), 200, np.uint8) if gray else np.full((16, 16, 3), 200, np.uint8)
    return _jpeg(img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else [])


def _jpeg_sof(data: bytes) -> tuple[int, int]:
    """(start, end) of the frame header of a JPEG written by an encoder (well formed)."""
    pos = 2
    while True:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return pos, pos + 2 + length
        pos += 2 + length


def _sized_sof(sof: bytes, width: int, height: int, marker: int | None = None) -> bytes:
    out = bytearray(sof)
    out[5:9] = struct.pack(">HH", height, width)
    if marker is not None:
        out[1] = marker
    return bytes(out)


def jpeg_smuggled(width: int, height: int, trick: str = "ff00", progressive: bool = False) -> bytes:
    """A 16x16 JPEG whose frame header is replaced by a ``width x height`` one that a naive marker
    walker does not see: it reads a decoy 16x16 frame header that libjpeg finds inside a comment
    (``ff00``: a stuffed FF 00 pair at segment level, read as a marker with a length) or inside an
    APP1 segment after a stray byte (``stray``)."""
    base = jpeg_base(progressive)
    s, e = _jpeg_sof(base)
    small, huge = base[s:e], _sized_sof(base[s:e], width, height)
    if trick == "ff00":
        hidden = b"\xff\x00" + struct.pack(">H", 6) + b"\xff\xfe" + struct.pack(">H", 2 + len(small)) + small
    elif trick == "stray":
        hidden = b"\x00" + b"\xff\xe1" + struct.pack(">H", 2 + len(small)) + small
    elif trick == "fill":  # fill bytes and standalone markers before the frame header
        hidden = b"\xff\xff\xff\xd3\xff\x01\xff\xff"
    else:
        raise ValueError(trick)
    return base[:s] + hidden + huge + base[e:]


def jpeg_decoy_hidden(width: int, height: int) -> bytes:
    """The reverse: the real frame header is 16x16, a ``width x height`` one hides in an APP1 segment
    after a stray byte (libjpeg skips both: a valid, small image)."""
    base = jpeg_base()
    s, e = _jpeg_sof(base)
    huge = _sized_sof(base[s:e], width, height)
    return base[:s] + b"\x00" + b"\xff\xe1" + struct.pack(">H", 2 + len(huge)) + huge + base[s:]


def jpeg_two_sofs(first: tuple[int, int], second: tuple[int, int], marker: int = 0xC0) -> bytes:
    base = jpeg_base()
    s, e = _jpeg_sof(base)
    return base[:s] + _sized_sof(base[s:e], *first) + _sized_sof(base[s:e], *second, marker=marker) + base[e:]


def jpeg_sof_between_scans(width: int, height: int) -> bytes:
    """A progressive JPEG with a second (huge) frame header between two of its scans."""
    base = jpeg_base(progressive=True)
    s, e = _jpeg_sof(base)
    second_scan = base.index(b"\xff\xda", base.index(b"\xff\xda") + 2)
    return base[:second_scan] + _sized_sof(base[s:e], width, height, 0xC2) + base[second_scan:]


def jpeg_dnl(height_in_sof: int, dnl_height: int) -> bytes:
    """A JPEG with a DNL (define number of lines) segment after its scan and ``height_in_sof`` lines
    in the frame header (0: "defined by DNL", which libjpeg does not support)."""
    base = jpeg_base()
    s, e = _jpeg_sof(base)
    sof = bytearray(base[s:e])
    sof[5:7] = struct.pack(">H", height_in_sof)
    body = base[:s] + bytes(sof) + base[e:-2]
    return body + b"\xff\xdc\x00\x04" + struct.pack(">H", dnl_height) + b"\xff\xd9"


def jpeg_with_marker(marker: int, payload: bytes = b"ab") -> bytes:
    """A valid JPEG with a marker segment ``marker`` (+ length + payload) inserted before its frame header."""
    base = jpeg_base()
    s, _ = _jpeg_sof(base)
    return base[:s] + bytes([0xFF, marker]) + struct.pack(">H", 2 + len(payload)) + payload + base[s:]


def jpeg_stuffed_pair_before_sof() -> bytes:
    """A stray FF 00 pair and a few junk bytes between segments: libjpeg skips them (a warning)."""
    base = jpeg_base(gray=False)
    s, _ = _jpeg_sof(base)
    return base[:s] + b"\xff\x00\x12\x34" + base[s:]


def tiff_ifd(entries: list[tuple[int, int, int, int | bytes]], data: bytes = b"") -> bytes:
    """A little-endian TIFF: header, ``data`` at offset 8, then one IFD. A bytes value is stored
    after the IFD (its offset is filled in); an int is stored inline."""
    ifd_at = 8 + len(data) + (len(data) & 1)
    n = len(entries)
    extra_at = ifd_at + 2 + 12 * n + 4
    ifd, extra = struct.pack("<H", n), b""
    for tag, typ, count, value in entries:
        if isinstance(value, bytes) and len(value) <= 4:
            ifd += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")
        elif isinstance(value, bytes):
            ifd += struct.pack("<HHII", tag, typ, count, extra_at + len(extra))
            extra += value + b"\x00" * (len(value) & 1)
        elif typ == 3:
            ifd += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_at) + data + b"\x00" * (len(data) & 1) + ifd + extra


def tiff_flat(width: int, height: int, samples: int, bits: int, sample_format: int = 1,
              rows_per_strip: int = 16) -> bytes:
    """A deflate-compressed flat TIFF; every strip points at the same compressed strip."""
    strip_raw = bytes(width * rows_per_strip * samples * bits // 8)
    blob = zlib.compress(strip_raw, 9)
    strips = (height + rows_per_strip - 1) // rows_per_strip
    # the last strip may be short: libtiff reads only what it needs from a full-size strip
    offsets = struct.pack(f"<{strips}I", *([8] * strips))
    counts = struct.pack(f"<{strips}I", *([len(blob)] * strips))
    entries: list[tuple[int, int, int, int | bytes]] = [
        (256, 4, 1, width), (257, 4, 1, height),
        (258, 3, samples, struct.pack(f"<{samples}H", *([bits] * samples))),
        (259, 3, 1, 8), (262, 3, 1, 2 if samples >= 3 else 1),
        (273, 4, strips, offsets if strips > 1 else 8), (277, 3, 1, samples), (278, 4, 1, rows_per_strip),
        (279, 4, strips, counts if strips > 1 else len(blob)), (284, 3, 1, 1),
    ]
    if samples in (2, 4):
        entries.append((338, 3, 1, 2))  # ExtraSamples: unassociated alpha
    entries.append((339, 3, samples, struct.pack(f"<{samples}H", *([sample_format] * samples))))
    return tiff_ifd(entries, blob)


def tiff_strips_disagree(width: int, height: int, strip_side: int) -> bytes:
    """The IFD says ``width x height`` 8-bit gray; its one strip holds a deflated ``strip_side``² image."""
    blob = zlib.compress(bytes(strip_side * strip_side), 9)
    return tiff_ifd([(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 8), (262, 3, 1, 1),
                     (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, len(blob))], blob)


def tiff_duplicate_width() -> bytes:
    """Two ImageWidth entries: libtiff uses the first (60000, as a SLONG), a careless reader the second."""
    blob = zlib.compress(bytes(16 * 16), 9)
    return tiff_ifd([(256, 9, 1, 60_000), (256, 3, 1, 16), (257, 3, 1, 16), (258, 3, 1, 8), (259, 3, 1, 8),
                     (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 16), (279, 4, 1, len(blob))], blob)


def tiff_huge_tiles() -> bytes:
    """A 64x64 TIFF cut into one 65536x65536 tile (a reader may allocate a tile-sized buffer)."""
    blob = zlib.compress(bytes(1 << 16), 9)
    return tiff_ifd([(256, 3, 1, 64), (257, 3, 1, 64), (258, 3, 1, 8), (259, 3, 1, 8), (262, 3, 1, 1),
                     (277, 3, 1, 1), (322, 4, 1, 65536), (323, 4, 1, 65536), (324, 4, 1, 8), (325, 4, 1, len(blob))],
                    blob)


def tiff_jpeg_strip(width: int, height: int) -> bytes:
    """A 16x16 JPEG-compressed TIFF whose strip is a JPEG that claims ``width x height``."""
    base = jpeg_base()
    s, e = _jpeg_sof(base)
    strip = base[:s] + _sized_sof(base[s:e], width, height) + base[e:]
    return tiff_ifd([(256, 3, 1, 16), (257, 3, 1, 16), (258, 3, 1, 8), (259, 3, 1, 7), (262, 3, 1, 1),
                     (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 16), (279, 4, 1, len(strip))], strip)


def _riff(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)


def _vp8x(width: int, height: int, flags: int = 0) -> bytes:
    return _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                       + (height - 1).to_bytes(3, "little"))


def _webp_frame(lossless: bool = False) -> bytes:
    """The VP8 / VP8L chunk of a small real WebP (16x16)."""
    q = 101 if lossless else 80
    data = _png_to("webp", np.full((16, 16, 3), 200, np.uint8), [cv2.IMWRITE_WEBP_QUALITY, q])
    return data[12:]


def webp_canvas_vs_frame(canvas: tuple[int, int], frame: tuple[int, int] | None, lossless: bool = False) -> bytes:
    """A VP8X WebP whose canvas is ``canvas``; its VP8/VP8L frame header is patched to ``frame``."""
    chunk = bytearray(_webp_frame(lossless))
    if frame is not None:
        fw, fh = frame
        if lossless:
            bits = int.from_bytes(chunk[9:13], "little") & ~((1 << 28) - 1)
            chunk[9:13] = (bits | (fw - 1) | ((fh - 1) << 14)).to_bytes(4, "little")
        else:
            chunk[14:18] = struct.pack("<HH", fw, fh)
    return _riff(_vp8x(*canvas), bytes(chunk))


def webp_plain_frame(frame: tuple[int, int]) -> bytes:
    """A simple (no VP8X) lossy WebP whose frame header is patched to ``frame``."""
    chunk = bytearray(_webp_frame())
    chunk[14:18] = struct.pack("<HH", *frame)
    return _riff(bytes(chunk))


def bmp_top_down(height: int | None = None) -> bytes:
    """A top-down BMP (negative height); ``height`` overrides the (negative) value written."""
    data = bytearray(_png_to("bmp", text_page()))
    h = struct.unpack("<i", data[22:26])[0]
    data[22:26] = struct.pack("<i", -h if height is None else height)
    if height is None:  # flip the rows so the page still reads upright
        off, row = struct.unpack("<I", data[10:14])[0], (3 * 480 + 3) // 4 * 4
        rows = [bytes(data[off + i * row: off + (i + 1) * row]) for i in range(h)]
        data[off:off + h * row] = b"".join(reversed(rows))
    return bytes(data)


def gif_frame_bigger_than_screen(frame: tuple[int, int]) -> bytes:
    """A 16x16 GIF whose first image descriptor claims ``frame`` (the LZW data is for 16x16)."""
    data = bytearray(_pil("L", (16, 16), "GIF", 128))
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while data[pos] == 0x21:  # extensions
        pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
    assert data[pos] == 0x2C
    data[pos + 5:pos + 9] = struct.pack("<HH", *frame)
    return bytes(data)


def issue_cases(case: Callable[..., Case]) -> list[Case]:
    """Inputs that got past the header checks ("hostile inputs that still get through") and the
    neighbours an attacker would try next, one class (``kind``) per defect."""
    ztxt_nul = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (4 << 20), 9))
    exif_chunk = _chunk(b"eXIf", b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 274, 3, 1, 6, 0)
                        + bytes(4) + b"x" * 10_000)
    page = text_page()
    rows = zlib.decompress(_png_idat(_png(page)))
    idat = zlib.compress(rows)
    half = len(idat) // 2
    idat_split_by_text = _png_raw(480, 160, 8, 2, idat[:half], after=[ztxt_nul, _chunk(b"IDAT", idat[half:])])
    jpeg = jpeg_base()
    s, e = _jpeg_sof(jpeg)
    adam7 = png_layout_size(3000, 2000, 64, True)
    return [
        # 1. JPEG size smuggling: the frame header libjpeg uses is not the one a naive walker reads
        case("jpeg_smuggled_ff00_20000x20000.jpg", "jpeg markers", jpeg_smuggled(20_000, 20_000), "image_too_large"),
        case("jpeg_smuggled_ff00_32767x32767.jpg", "jpeg markers", jpeg_smuggled(32_767, 32_767), "image_too_large"),
        case("jpeg_smuggled_ff00_progressive.jpg", "jpeg markers",
             jpeg_smuggled(20_000, 20_000, progressive=True), "image_too_large"),
        case("jpeg_smuggled_app1_after_stray_byte.jpg", "jpeg markers", jpeg_smuggled(20_000, 20_000, "stray"),
             "image_too_large"),
        case("jpeg_sof5_20000x20000.jpg", "jpeg markers", jpeg[:s] + _sized_sof(jpeg[s:e], 20_000, 20_000, 0xC5)
             + jpeg[e:], "image_too_large"),
        case("jpeg_decoy_sof_in_app1.jpg", "jpeg markers", jpeg_decoy_hidden(20_000, 20_000), "ok"),
        case("jpeg_fill_bytes_rst_tem.jpg", "jpeg markers", jpeg_smuggled(16, 16, "fill"), "ok"),
        case("jpeg_stuffed_pair_between_segments.jpg", "jpeg markers", jpeg_stuffed_pair_before_sof(), "ok"),
        case("jpeg_two_sofs_small_then_huge.jpg", "jpeg markers", jpeg_two_sofs((16, 16), (20_000, 20_000)),
             "undecodable_image"),
        case("jpeg_two_sofs_huge_then_small.jpg", "jpeg markers", jpeg_two_sofs((20_000, 20_000), (16, 16)),
             "undecodable_image", "image_too_large"),
        case("jpeg_sof2_between_scans.jpg", "jpeg markers", jpeg_sof_between_scans(20_000, 20_000),
             "undecodable_image"),
        case("jpeg_dnl_height_0.jpg", "jpeg markers", jpeg_dnl(0, 20_000), "image_too_small", "undecodable_image"),
        case("jpeg_dnl_after_scan.jpg", "jpeg markers", jpeg_dnl(16, 16), "ok"),
        case("jpeg_marker_ff02.jpg", "jpeg markers", jpeg_with_marker(0x02), "undecodable_image"),
        case("jpeg_marker_jpg_ffc8.jpg", "jpeg markers", jpeg_with_marker(0xC8), "undecodable_image"),
        case("jpeg_segment_length_0.jpg", "jpeg markers", jpeg[:s] + b"\xff\xe1\x00\x00" + jpeg[s:],
             "undecodable_image"),
        case("jpeg_second_soi.jpg", "jpeg markers", jpeg[:s] + b"\xff\xd8" + jpeg[s:], "undecodable_image"),
        # 2. PNG ancillary chunks: libpng inflates and keeps every text chunk
        case("png_ztxt_550x8mb.png", "png chunks", ztxt_bomb(550), "ok"),
        case("png_itxt_400x8mb.png", "png chunks", ztxt_bomb(400, kind=b"iTXt"), "ok"),
        case("png_ztxt_400x8mb_nul.png", "png chunks", ztxt_bomb(400, fill=b"\x00"), "ok"),
        case("png_iccp_200x8mb.png", "png chunks", ztxt_bomb(200, kind=b"iCCP", fill=b"\x00"), "ok"),
        case("png_ztxt_after_idat.png", "png chunks", png_text_page(after=[ztxt_nul] * 200), "ok"),
        case("png_exif_400_chunks.png", "png chunks", png_text_page(before=[exif_chunk] * 400), "ok"),
        case("apng_30_frames_4000_ztxt.png", "png chunks", apng_big_frames(), "ok"),
        case("png_60000_private_chunks.png", "png chunks", png_many_chunks(60_000), "ok"),
        case("png_70000_private_chunks.png", "png chunks", png_many_chunks(70_000), "image_too_large"),
        case("png_unknown_critical_chunk.png", "png chunks", png_unknown_critical_chunk(), "undecodable_image"),
        case("png_bad_chunk_type.png", "png chunks", png_text_page(before=[_chunk(b"a1b2", b"x")]),
             "undecodable_image"),
        case("png_idat_split_by_ztxt.png", "png chunks", idat_split_by_text, "undecodable_image"),
        case("png_idat_1_byte_chunks.png", "png chunks", _png_raw(480, 160, 8, 0, zlib.compress(
            (b"\x00" + b"\xff" * 480) * 160), idat_split=1), "ok"),
        # 3. zlib data after the last row: libpng inflates all of it
        case("png_rows_then_4mb_deflate.png", "png zlib", png_rows_then_more(64, 64, 4), "undecodable_image"),
        case("png_rows_then_4mb_deflate_adam7.png", "png zlib", png_rows_then_more(64, 64, 4, interlace=1),
             "undecodable_image"),
        case("png_2000x1000_rows_then_1mb.png", "png zlib", png_rows_then_more(2000, 1000, 1), "undecodable_image"),
        case("png_second_stream_after_rows.png", "png zlib", png_second_stream_after_rows(), "ok"),
        case("png_stream_ends_early.png", "png zlib", png_short_stream(), "undecodable_image"),
        case("png_adam7_rgba16_3000x2000_flat.png", "png zlib", _png_raw(3000, 2000, 16, 6, _deflate_repeated(
            [(bytes(1 << 20), adam7 >> 20), (bytes(adam7 & 0xFFFFF), 1)]), interlace=1), "ok"),
        # 4. memory inside the limits: 16-bit, float and alpha images
        case("png_rgba_6324x6324_flat.png", "decode memory", png_flat(6324, 6324, b"\x10\x20\x30\x80", 6), "ok"),
        case("png_rgba16_6324x6324_flat.png", "decode memory",
             png_flat(6324, 6324, b"\x10\x00" * 3 + b"\x80\x00", 6, 16), "image_too_large"),
        case("png_rgba16_20000x2000_flat.png", "decode memory",
             png_flat(20_000, 2000, b"\x10\x00" * 3 + b"\x80\x00", 6, 16), "image_too_large"),
        case("png_rgba16_4000x4000_flat.png", "decode memory",
             png_flat(4000, 4000, b"\xf0\x00" * 3 + b"\x80\x00", 6, 16), "ok"),
        case("png_la16_6000x2000_flat.png", "decode memory", png_flat(6000, 2000, b"\x20\x00\xff\xff", 4, 16), "ok"),
        case("tiff_float32_rgba_6324x6324.tif", "decode memory", tiff_flat(6324, 6324, 4, 32, 3), "image_too_large"),
        case("tiff_float32_rgba_3000x3000.tif", "decode memory", tiff_flat(3000, 3000, 4, 32, 3), "ok"),
        case("tiff_float64_gray_4000x4000.tif", "decode memory", tiff_flat(4000, 4000, 1, 64, 3), "ok"),
        # neighbours in other formats: a header that disagrees with the data
        case("tiff_duplicate_width_slong.tif", "header lies", tiff_duplicate_width(), "image_too_large"),
        case("tiff_ifd_16x16_strip_4000x4000.tif", "header lies", tiff_strips_disagree(16, 16, 4000), "ok"),
        case("tiff_ifd_6000x6000_strip_16x16.tif", "header lies", tiff_strips_disagree(6000, 6000, 16),
             "ok", "undecodable_image"),
        case("tiff_tile_65536.tif", "header lies", tiff_huge_tiles(), "undecodable_image"),
        case("tiff_jpeg_strip_20000x20000.tif", "header lies", tiff_jpeg_strip(20_000, 20_000), "undecodable_image"),
        case("webp_vp8x_16_vp8_16000.webp", "header lies", webp_canvas_vs_frame((16, 16), (16_000, 16_000)),
             "undecodable_image"),
        case("webp_vp8x_6000_vp8_16.webp", "header lies", webp_canvas_vs_frame((6000, 6000), None),
             "undecodable_image"),
        case("webp_vp8x_16_vp8l_16000.webp", "header lies",
             webp_canvas_vs_frame((16, 16), (16_000, 16_000), lossless=True), "undecodable_image"),
        case("webp_vp8_16000x16000.webp", "header lies", webp_plain_frame((16_000, 16_000)), "image_too_large"),
        case("bmp_top_down.bmp", "header lies", bmp_top_down(), "ok"),
        case("bmp_height_int_min.bmp", "header lies", bmp_top_down(-2**31), "image_too_large"),
        case("gif_frame_20000_on_16_screen.gif", "header lies", gif_frame_bigger_than_screen((20_000, 20_000)),
             "undecodable_image"),
        case("gif_frame_3000_on_16_screen.gif", "header lies", gif_frame_bigger_than_screen((3000, 3000)),
             "undecodable_image"),
    ]


def png_layout_size(width: int, height: int, bits_per_pixel: int, interlace: bool) -> int:
    """Bytes of filtered rows (each + a filter byte), per Adam7 pass when interlaced."""
    def rows(w: int, h: int) -> int:
        return h * (1 + (w * bits_per_pixel + 7) // 8) if w and h else 0

    if not interlace:
        return rows(width, height)
    return sum(rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy)
               for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                                      (1, 0, 2, 2), (0, 1, 1, 2)))


def build_corpus(seed: int = 1234) -> list[Case]:
    """Every hostile input, in a fixed order (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    page = text_page()
    good_png = _png(page)
    good_jpg = _jpeg(page)
    good_gif = _pil("L", (96, 64), "GIF", 255)
    good_webp = _png_to("webp", page)
    good_bmp = _png_to("bmp", page)
    good_tif = _png_to("tiff", page)

    def case(name: str, kind: str, data: bytes, *expected: str) -> Case:
        return Case(name, kind, data, frozenset(expected))

    cases: list[Case] = [
        # -- not an image at all
        case("empty.jpg", "empty", b"", "empty_image"),
        case("text_named.jpg", "not an image", "just some text, 你好\n".encode() * 20, "unsupported_image_type"),
        case("pdf_named.jpg", "not an image",
             b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
             "unsupported_image_type", "undecodable_document"),  # the image reader / the document reader
        case("html_named.png", "not an image", b"<html><script>alert(1)</script></html>", "unsupported_image_type"),
        case("zip_named.png", "not an image", b"PK\x03\x04" + bytes(200), "unsupported_image_type"),
        case("random_bytes.bin", "not an image", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
             "unsupported_image_type"),
        case("one_byte.png", "not an image", b"\x89", "unsupported_image_type"),
        # -- right magic, wrong or missing body
        case("png_magic_only.png", "truncated", b"\x89PNG\r\n\x1a\n", "undecodable_image"),
        case("png_truncated_half.png", "truncated", good_png[: len(good_png) // 2], "undecodable_image"),
        case("png_truncated_ihdr.png", "truncated", good_png[:20], "undecodable_image"),
        case("jpeg_truncated_half.jpg", "truncated", good_jpg[: len(good_jpg) // 2], "undecodable_image"),
        case("jpeg_truncated_header.jpg", "truncated", good_jpg[:40], "undecodable_image"),
        case("jpeg_soi_eoi_only.jpg", "truncated", b"\xff\xd8\xff\xd9", "undecodable_image"),
        case("gif_truncated.gif", "truncated", good_gif[: len(good_gif) // 2], "undecodable_image"),
        case("webp_truncated.webp", "truncated", good_webp[: len(good_webp) // 2], "undecodable_image"),
        case("bmp_truncated.bmp", "truncated", good_bmp[:100], "undecodable_image"),
        case("tiff_truncated.tif", "truncated", good_tif[:64], "undecodable_image"),
        case("jpeg_magic_png_body.jpg", "wrong magic", b"\xff\xd8\xff" + good_png[3:], "undecodable_image"),
        case("png_magic_jpeg_body.png", "wrong magic", b"\x89PNG\r\n\x1a\n" + good_jpg[8:], "undecodable_image"),
        case("jpeg_random_after_magic.jpg", "wrong magic",
             b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(), "undecodable_image"),
        case("tiff_ifd_out_of_file.tif", "wrong magic", b"II*\x00" + struct.pack("<I", 10_000_000), "undecodable_image"),
        # -- decompression bombs (tiny file, huge declared size)
        case("png_bomb_100000x100000.png", "bomb", png_bomb(100_000, 100_000), "image_too_large"),
        case("png_bomb_19000x19000.png", "bomb", png_bomb(19_000, 19_000), "image_too_large"),
        case("jpeg_bomb_65000x65000.jpg", "bomb", jpeg_with_size(65_000, 65_000), "image_too_large"),
        case("gif_bomb_65535x65535.gif", "bomb", gif_with_screen(65_535, 65_535), "image_too_large"),
        case("bmp_bomb_50000x50000.bmp", "bomb", bmp_with_size(50_000, 50_000), "image_too_large"),
        case("tiff_bomb_60000x60000.tif", "bomb", tiff_with_size(60_000, 60_000), "image_too_large"),
        case("webp_bomb_16384x16384.webp", "bomb", webp_vp8x_canvas(16_384, 16_384), "image_too_large"),
        case("png_idat_length_4gb.png", "bomb", png_with_chunk_length(b"IDAT", 0xFF000E8A), "undecodable_image"),
        case("png_idat_length_2gb.png", "bomb", png_with_chunk_length(b"IDAT", 0x7FFFFFFF), "undecodable_image"),
        case("png_text_length_4gb.png", "bomb", png_with_chunk_length(b"tEXt", 0xFFF00000), "undecodable_image"),
        case("png_zlib_4000x4000.png", "bomb", png_zlib_bomb_inside_limits(), "ok"),
        # -- extreme sizes
        case("png_1x1.png", "extreme size", _png(np.zeros((1, 1), np.uint8)), "image_too_small"),
        case("png_7x200.png", "extreme size", _png(np.full((7, 200), 255, np.uint8)), "image_too_small"),
        case("png_100000x10.png", "extreme size", _png(np.full((10, 100_000), 255, np.uint8)), "image_too_large"),
        case("png_10x100000.png", "extreme size", _png(np.full((100_000, 10), 255, np.uint8)), "image_too_large"),
        case("png_20000x8.png", "extreme size", _png(np.full((8, 20_000), 255, np.uint8)), "ok"),
        case("png_8x20000.png", "extreme size", _png(np.full((20_000, 8), 255, np.uint8)), "ok"),
        case("png_8x8.png", "extreme size", _png(np.zeros((8, 8), np.uint8)), "ok"),
        case("oversized_bytes.png", "extreme size", good_png + bytes(20 * 1024 * 1024 + 1), "image_too_large"),
        # -- odd but valid encodings
        case("png_16bit_gray.png", "odd encoding", _png(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257), "ok"),
        case("png_16bit_rgb.png", "odd encoding", _png(page.astype(np.uint16) * 257), "ok"),
        case("tiff_16bit.tif", "odd encoding", _png_to("tiff", page.astype(np.uint16) * 257), "ok"),
        case("tiff_float32.tif", "odd encoding", _png_to("tiff", page.astype(np.float32) / 255.0), "ok"),
        case("jpeg_cmyk.jpg", "odd encoding", _pil("CMYK", (200, 80), "JPEG", (0, 0, 0, 0)), "ok"),
        case("jpeg_gray_progressive.jpg", "odd encoding",
             _jpeg(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]), "ok"),
        case("png_palette.png", "odd encoding", _pil("P", (200, 80), "PNG", 1), "ok"),
        case("png_palette_transparency.png", "odd encoding", _pil("P", (200, 80), "PNG", 1, transparency=1), "ok"),
        case("png_1bit.png", "odd encoding", _pil("1", (200, 80), "PNG", 1), "ok"),
        case("png_uncompressed.png", "odd encoding", _pil("RGB", (200, 80), "PNG", (255, 255, 255), compress_level=0), "ok"),
        case("png_alpha_only.png", "odd encoding", rgba_alpha_only(), "ok"),
        case("png_la_fully_transparent.png", "odd encoding", _pil("LA", (120, 60), "PNG", (0, 0)), "ok"),
        case("gif_animated.gif", "odd encoding", animated("GIF"), "ok"),
        case("gif_two_4000x4000_frames.gif", "bomb", gif_two_big_frames(), "ok"),
        case("jpeg_1000_scans.jpg", "bomb", jpeg_scan_bomb(), "image_too_large"),
        case("jpeg_60_scans.jpg", "bomb", jpeg_scan_bomb(50, 600), "ok"),
        case("webp_animated.webp", "odd encoding", animated("WEBP"), "ok", "undecodable_image"),
        case("tiff_multipage.tif", "odd encoding", multipage_tiff(), "ok"),
        # Read as an image (its first page) it is fine; read as a document its 8000x8000 page is too big.
        case("tiff_multipage_huge_second_page.tif", "odd encoding", multipage_tiff((8000, 8000)), "ok", "page_too_large"),
        case("bmp_plain.bmp", "odd encoding", good_bmp, "ok"),
        # -- metadata
        case("jpeg_huge_exif.jpg", "metadata", jpeg_with_huge_exif(), "ok"),
        case("png_exif_1mb_garbage.png", "metadata", png_with_exif(rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()), "ok"),
        case("png_exif_self_loop.png", "metadata", png_with_exif(exif_self_loop()), "ok"),
        case("png_text_chunk_1mb.png", "metadata", png_with_big_text_chunk(), "ok"),
        # -- content
        case("noise_rgb_480x360.png", "content", _png(rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)), "ok"),
        case("noise_gray_1200x900.jpg", "content", _jpeg(rng.integers(0, 256, (900, 1200), dtype=np.uint8)), "ok"),
        case("noise_salt_400x300.png", "content", _png(((rng.random((300, 400)) < 0.03) * 255).astype(np.uint8)), "ok"),
        case("blank_white_a4.png", "content", _png(np.full((1123, 794, 3), 255, np.uint8)), "ok"),
        case("blank_black.jpg", "content", _jpeg(np.zeros((600, 800, 3), np.uint8)), "ok"),
        case("fine_checkerboard.png", "content",
             _png((((np.arange(900)[:, None] // 2 + np.arange(1200)[None, :] // 2) % 2) * 255).astype(np.uint8)), "ok"),
        case("dense_hlines.png", "content",
             _png(np.repeat(((np.arange(1000) // 3) % 2 * 255).astype(np.uint8)[:, None], 1000, axis=1)), "ok"),
        case("text_page_valid.png", "content", good_png, "ok"),
    ]
    cases += issue_cases(case)
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def build_heavy_cases(seed: int = 99) -> list[Case]:
    """Large noise pages: the worst case for the line finder (run by the slow tests only)."""
    rng = np.random.default_rng(seed)
    ok = frozenset({"ok"})
    return [
        Case("noise_gray_2400x1800.jpg", "content", _jpeg(rng.integers(0, 256, (1800, 2400), dtype=np.uint8)), ok),
        Case("noise_salt_1600x1200.png", "content", _png(((rng.random((1200, 1600)) < 0.02) * 255).astype(np.uint8)), ok),
        Case("noise_salt_6000x4000.png", "content", _png(((rng.random((4000, 6000)) < 0.01) * 255).astype(np.uint8)), ok),
    ]


CANARY: Callable[[], bytes] = lambda: _png(text_page())  # noqa: E731 - a valid image after each hostile one


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "hostile-corpus")
    out.mkdir(parents=True, exist_ok=True)
    for c in build_corpus():
        (out / c.name).write_bytes(c.data)
        print(f"{c.name:45s} {len(c.data):>10d} B  {c.kind:14s} {'/'.join(sorted(c.expected))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
