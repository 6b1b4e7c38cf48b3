"""How much a PDF's streams would inflate, read from the raw bytes before PDFium sees them.

PDFium inflates a stream whole when it needs it (an object stream as the file opens, a
content stream as a page loads, an image as it is drawn), and ends the process when an
allocation fails: a 1.5 MB stream that inflates to 1.5 GB aborts the interpreter. So every
stream of the file is measured first, whatever the cross-reference table says (every
``stream`` keyword is a candidate, as PDFium's own repair finds objects by scanning), and a
document is refused when one stream or all of them together would inflate past the limits.

Measured, never kept: Flate (zlib) streams are inflated in 1 MiB steps and counted; LZW and
run-length streams are counted from their codes; ASCII hex and ASCII85 layers (which only
shrink) are undone first so the layer under them is measured. The filters are taken from
the stream's dictionary (names with ``#xx`` escapes read as PDFium reads them), and a stream
that starts like a zlib stream is measured whatever its dictionary says. Images are held to
the pixel limit by their own header (JPEG frame, JPEG 2000 ``SIZ``), which PDFium decodes.

Example:
    >>> import zlib
    >>> bomb = b"<< /Filter /FlateDecode >>\\nstream\\n" + zlib.compress(bytes(50_000_000), 9) + b"\\nendstream"
    >>> scan_streams(bomb, StreamLimits(max_stream_bytes=10_000_000))
    Traceback (most recent call last):
    ...
    ocr_engine.errors.DocumentTooLarge: a stream of the PDF (at byte 34) inflates to more than the limit of 10000000 bytes
"""

from __future__ import annotations

import binascii
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from ocr_engine.errors import DocumentTooLarge

_OBJ = re.compile(rb"\bobj\b")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()%{}]+)")
_FILTER_NAME = re.compile(rb"/([^\s/\[\]<>()%{}]+)")
_ALIASES = {b"Fl": b"FlateDecode", b"LZW": b"LZWDecode", b"RL": b"RunLengthDecode", b"AHx": b"ASCIIHexDecode",
            b"A85": b"ASCII85Decode", b"DCT": b"DCTDecode"}
_NOT_A85 = bytes(c for c in range(256) if not (0x21 <= c <= 0x75 or c == 0x7A))
_NOT_HEX = bytes(c for c in range(256) if chr(c) not in "0123456789abcdefABCDEF")
_LOOK_BACK = 8192  # bytes before a stream keyword searched for its dictionary
_STEP = 1 << 20
# A dictionary of an image or an embedded font file: held to ``max_image_bytes``.
_FONT_OR_IMAGE = re.compile(rb"/Subtype\s*/(?:Image|Type1C|CIDFontType0C|OpenType)\b|/Length[123]\b")
# Filters whose input may be the output of a Flate layer before them.
_LAYERS = frozenset({b"ASCIIHexDecode", b"ASCII85Decode", b"FlateDecode", b"LZWDecode", b"RunLengthDecode"})
# Bytes of LZW and run-length data one scan reads (decoded in Python: about 1 s per MB).
_SLOW_BUDGET = 4 * 1024 * 1024


@dataclass(frozen=True)
class StreamLimits:
    """What the streams of one PDF may inflate to.

    Attributes:
        max_stream_bytes: One stream, inflated: a page's content, an object stream... (PDFium
            takes about 250 bytes per drawing object, a content stream 8 bytes per object: 16 MiB
            of content is some 500 MB).
        max_image_bytes: One image or embedded font file, inflated.
        max_total_bytes: All streams together, inflated (bounds the time of the scan too).
        max_image_pixels: Width x height of a JPEG or JPEG 2000 image, from its own header.
        max_streams: Stream keywords in the file.
    """

    max_stream_bytes: int = 16 * 1024 * 1024
    max_image_bytes: int = 400_000_000
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_image_pixels: int = 100_000_000
    max_streams: int = 300_000


def scan_streams(data: bytes, limits: StreamLimits) -> None:
    """Refuse ``data`` (a PDF's bytes) if its streams inflate past ``limits``.

    Raises:
        DocumentTooLarge: A stream, or all of them, over the limits; too many streams; an image
            whose header states more pixels than allowed.
    """
    scan = _Scan(data, limits)
    n, at = 0, data.find(b"stream")
    while at >= 0:
        if data[max(0, at - 3):at] != b"end":
            n += 1
            if n > limits.max_streams:
                raise DocumentTooLarge(f"the PDF has more streams than the limit of {limits.max_streams}")
            start = _data_start(data, at + 6)
            if start >= 0:
                scan.stream(start, _dictionary(data, at))
        at = data.find(b"stream", at + 6)


class _Scan:
    """The running totals of one scan: bytes inflated, and bytes read by the slow (Python) decoders."""

    def __init__(self, data: bytes, limits: StreamLimits) -> None:
        self.data = data
        self.limits = limits
        self.total = 0
        self.slow = 0

    def stream(self, start: int, head: bytes) -> None:
        limits = self.limits
        cap = limits.max_image_bytes if _FONT_OR_IMAGE.search(head) else limits.max_stream_bytes
        self.at = start
        size = self._measure(self.data, start, _filters(head), min(cap, limits.max_total_bytes - self.total) + 1)
        if size > cap:
            raise DocumentTooLarge(f"a stream of the PDF (at byte {start}) inflates to more than the limit "
                                   f"of {cap} bytes")
        self.total += size
        if self.total > limits.max_total_bytes:
            raise DocumentTooLarge(f"the streams of the PDF inflate to more than the limit of "
                                   f"{limits.max_total_bytes} bytes")

    def _measure(self, buf: bytes, start: int, filters: list[bytes], cap: int) -> int:
        """Bytes the stream at ``buf[start:]`` decodes to, counted up to ``cap`` (more: some number over it)."""
        if not filters or filters[0] not in (b"ASCIIHexDecode", b"ASCII85Decode"):
            sniffed = _sniff(buf[start:start + 12])
            if sniffed is not None and sniffed not in filters[:1]:
                filters = [sniffed, *filters]
        for i, name in enumerate(filters):
            layered = i + 1 < len(filters) and filters[i + 1] in _LAYERS
            if name == b"ASCIIHexDecode":
                buf, start = _unhex(buf, start), 0
            elif name == b"ASCII85Decode":
                buf, start = _un85(buf, start), 0
            elif name == b"FlateDecode":
                if not layered:
                    return _inflated_size(buf, start, cap)
                buf, start = _inflate(buf, start, cap), 0
                if len(buf) > cap:
                    return len(buf)
            elif name in (b"LZWDecode", b"RunLengthDecode"):
                size, read = (_lzw_size if name == b"LZWDecode" else _run_length_size)(buf, start, cap)
                self.slow += read
                if self.slow > _SLOW_BUDGET:
                    raise DocumentTooLarge(f"the PDF has more LZW and run-length data than the limit of "
                                           f"{_SLOW_BUDGET} bytes")
                return size
            elif name in (b"DCTDecode", b"JPXDecode"):
                size = (_jpeg_size if name == b"DCTDecode" else _jpx_size)(buf[start:start + (1 << 20)])
                _check_pixels(size, self.limits, self.at)
                return 0
            else:
                return 0  # CCITT, JBIG2, Crypt...: sized by the image dictionary PDFium checks
        if buf is self.data:  # unfiltered: its bytes as they stand, up to its ``endstream``
            end = buf.find(b"endstream", start)
            return (end if end >= 0 else len(buf)) - start
        return len(buf) - start


def _data_start(data: bytes, after_keyword: int) -> int:
    """Where a stream's data starts: after the end of the keyword's line (PDFium skips to the
    next line); ``-1`` when no line ends soon after it (not a stream keyword)."""
    for i in range(after_keyword, min(after_keyword + 256, len(data))):
        c = data[i]
        if c == 0x0A:
            return i + 1
        if c == 0x0D:
            return i + 2 if data[i + 1:i + 2] == b"\n" else i + 1
    return -1


def _dictionary(data: bytes, keyword: int) -> bytes:
    """The text between the last ``obj`` before the keyword and the keyword, names unescaped."""
    window = data[max(0, keyword - _LOOK_BACK):keyword]
    objs = list(_OBJ.finditer(window))
    if objs:
        window = window[objs[-1].end():]
    return _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), window)


def _filters(head: bytes) -> list[bytes]:
    """The stream's filters, in the order they are undone (full names)."""
    m = _FILTER.search(head)
    if m is None:
        return []
    names = _FILTER_NAME.findall(m.group(1))
    return [_ALIASES.get(name, name) for name in names]


def _sniff(head: bytes) -> bytes | None:
    """A filter told by the stream's first bytes: zlib, JPEG or JPEG 2000."""
    if len(head) >= 2 and head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0:
        return b"FlateDecode"
    if head[:3] == b"\xff\xd8\xff":
        return b"DCTDecode"
    if head[:4] == b"\xff\x4f\xff\x51" or head[4:12] == b"jP  \r\n\x87\n":
        return b"JPXDecode"
    return None


def _inflated_size(buf: bytes, start: int, cap: int) -> int:
    """Bytes the zlib stream at ``buf[start:]`` inflates to, counted and dropped; stops past
    ``cap``, at its end or at an error (PDFium keeps what inflated before a corrupt block)."""
    d = zlib.decompressobj()
    view = memoryview(buf)
    total, pos = 0, start
    pending: bytes | memoryview = b""
    while total <= cap and not d.eof:
        if not pending:
            if pos >= len(buf):
                break
            pending, pos = view[pos:pos + _STEP], pos + _STEP
        try:
            total += len(d.decompress(pending, _STEP))
        except zlib.error:
            break
        pending = d.unconsumed_tail
    return total


def _inflate(buf: bytes, start: int, cap: int) -> bytes:
    """The inflated bytes of the zlib stream at ``buf[start:]``, at most ``cap + 1``."""
    d = zlib.decompressobj()
    try:
        return d.decompress(memoryview(buf)[start:], cap + 1)
    except zlib.error:
        return b""


def _unhex(buf: bytes, start: int) -> bytes:
    end = buf.find(b">", start)
    digits = buf[start:end if end >= 0 else len(buf)].translate(None, _NOT_HEX)
    return binascii.unhexlify(digits + b"0" * (len(digits) % 2))


def _un85(buf: bytes, start: int) -> bytes:
    """ASCII85 data (up to ``~>``) decoded with numpy: Python's ``base64.a85decode`` reads
    about 3 MB/s, this some 100 MB/s. Bad groups decode to something: only sizes matter here."""
    end = buf.find(b"~>", start)
    body = buf[start:end if end >= 0 else len(buf)].translate(None, _NOT_A85).replace(b"z", b"!!!!!")
    pad = -len(body) % 5
    digits = np.frombuffer(body + b"u" * pad, np.uint8).reshape(-1, 5).astype(np.uint64) - 33
    values = (((digits[:, 0] * 85 + digits[:, 1]) * 85 + digits[:, 2]) * 85 + digits[:, 3]) * 85 + digits[:, 4]
    out = (values & 0xFFFFFFFF).astype(">u4").tobytes()
    return out[:len(out) - pad] if pad else out


def _lzw_size(buf: bytes, start: int, cap: int) -> tuple[int, int]:
    """Bytes the LZW stream at ``buf[start:]`` (PDF's: MSB first, 9-12 bit codes, early change)
    decodes to, and bytes read: it ends at its end code, a code it cannot decode, or past ``cap``."""
    lengths = [1] * 258
    total, bits, nbits, code_bits, prev = 0, 0, 0, 9, -1
    for pos in range(start, len(buf)):
        bits, nbits = ((bits << 8) | buf[pos]) & 0xFFFFFF, nbits + 8
        while nbits >= code_bits:
            nbits -= code_bits
            code = (bits >> nbits) & ((1 << code_bits) - 1)
            if code == 256:
                lengths, code_bits, prev = [1] * 258, 9, -1
                continue
            if code == 257:
                return total, pos - start
            if code < len(lengths):
                size = lengths[code]
            elif code == len(lengths) and prev >= 0:
                size = lengths[prev] + 1
            else:
                return total, pos - start
            if prev >= 0 and len(lengths) < 4096:
                lengths.append(lengths[prev] + 1)
            total += size
            if total > cap:
                return total, pos - start
            prev = code
            if len(lengths) + 1 >= 1 << code_bits and code_bits < 12:
                code_bits += 1
    return total, len(buf) - start


def _run_length_size(buf: bytes, start: int, cap: int) -> tuple[int, int]:
    """Bytes the run-length stream at ``buf[start:]`` decodes to, and bytes read."""
    total, pos, end = 0, start, len(buf)
    while pos < end and total <= cap:
        n = buf[pos]
        if n == 128:
            break
        if n < 128:
            total, pos = total + n + 1, pos + n + 2
        else:
            total, pos = total + 257 - n, pos + 2
    return total, pos - start


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height in the first JPEG frame header (0, 0 if none before the first scan)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (0xDA, 0xD9):
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 9 <= len(data):
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    return 0, 0


def _jpx_size(data: bytes) -> tuple[int, int]:
    """Width and height in a JPEG 2000 codestream's ``SIZ`` marker (0, 0 if not found)."""
    at = data.find(b"\xff\x4f\xff\x51")
    if at < 0 or at + 24 > len(data):
        return 0, 0
    xsiz, ysiz, xo, yo = struct.unpack_from(">IIII", data, at + 8)
    return max(0, xsiz - xo), max(0, ysiz - yo)


def _check_pixels(size: tuple[int, int], limits: StreamLimits, at: int) -> None:
    w, h = size
    if w * h > limits.max_image_pixels:
        raise DocumentTooLarge(f"an image of the PDF (at byte {at}) is {w}x{h} = {w * h} pixels; "
                               f"the limit is {limits.max_image_pixels}")
