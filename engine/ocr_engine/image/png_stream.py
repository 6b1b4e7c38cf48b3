"""PNG chunks: the layout check, and the file OpenCV is given (critical chunks only, bounded data).

libpng reads, inflates and keeps every ancillary chunk, and inflates image data past the
last row to reach the end of the zlib stream; both cost gigabytes or minutes from a few
megabytes. So before the decoder sees a PNG:

* :func:`png_layout` walks its chunks: every length must fit in the file, chunk types must
  be letters, at most :data:`MAX_PNG_CHUNKS` chunks, no unknown critical chunk (libpng
  refuses those anyway), image data in consecutive IDAT chunks;
* :func:`check_png_image_data` inflates the image data (in steps, output thrown away) and
  refuses it when it goes on past the size the header implies;
* :func:`png_for_decoder` keeps only IHDR, PLTE, tRNS, IDAT and IEND.

Dropping the other ancillary chunks leaves the pixels as they were: OpenCV's PNG reader
applies no gamma (``gAMA``, ``cHRM``, ``sRGB``, ``iCCP``), no significant-bits shift
(``sBIT``) and no background (``bKGD``); the EXIF orientation is read from the original
``eXIf`` (by :mod:`ocr_engine.image.headers`); APNG frames (``acTL``/``fcTL``/``fdAT``) are not used (the first image is the IDAT
one). Only ``tRNS`` (transparency) changes what OpenCV returns.

Example:
    >>> import zlib
    >>> def chunk(kind, body):
    ...     return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    >>> ihdr = chunk(b"IHDR", (8).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0]))
    >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + ihdr + chunk(b"tEXt", b"a\\x00b") + chunk(b"IDAT", zlib.compress(bytes(72))) + chunk(b"IEND", b"")
    >>> [kind for kind, _, _ in png_layout(png).chunks]
    [b'IHDR', b'tEXt', b'IDAT', b'IEND']
    >>> clean = png_for_decoder(png)
    >>> len(png) - len(clean), b"tEXt" in clean
    (15, False)
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ocr_engine.errors import ImageTooLarge, UndecodableImage

# libpng's default writer splits image data into 8 KB IDAT chunks: a 20 MB file has ~2,600.
MAX_PNG_CHUNKS = 1 << 16
# Image data may inflate a little past the last row (libpng only warns) but not more.
PNG_DATA_SLACK = 1 << 20
_KEEP = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_CHEAP_EXTRA = 64 << 20  # libpng inflates that much more in ~0.1 s: not worth checking for
_DEFLATE_MAX_RATIO = 1032  # at most 258 bytes out of 2 bits in (a length-258 match, distance 1)
_IN_STEP = 1 << 15  # compressed bytes handed to zlib at a time
_OUT_STEP = 1 << 16  # inflated bytes taken at a time (small buffers are reused: 2x faster than 2 MB)


@dataclass(frozen=True)
class PngLayout:
    """A PNG's header fields and chunks.

    Attributes:
        chunks: ``(type, start, end)`` of each chunk up to IEND (``start``: its length field,
            ``end``: after its CRC).
        idat: ``(start, end)`` of each IDAT payload.
    """

    width: int
    height: int
    bit_depth: int
    color_type: int
    interlace: int
    chunks: tuple[tuple[bytes, int, int], ...]
    idat: tuple[tuple[int, int], ...]
    has_trns: bool

    @property
    def image_data_size(self) -> int:
        """Bytes the image data inflates to: each row (of each Adam7 pass) + its filter byte."""
        bits = _CHANNELS[self.color_type] * self.bit_depth

        def rows(w: int, h: int) -> int:
            return h * (1 + (w * bits + 7) // 8) if w and h else 0

        if not self.interlace:
            return rows(self.width, self.height)
        return sum(rows((self.width - x0 + dx - 1) // dx, (self.height - y0 + dy - 1) // dy)
                   for x0, y0, dx, dy in _ADAM7)


def png_layout(data: bytes) -> PngLayout:
    """Walk the chunks of a PNG (signature already checked) up to IEND.

    Raises:
        UndecodableImage: No IHDR first, a bad IHDR, a chunk running past the end of the
            file, an invalid chunk type, an unknown critical chunk, image data split by other
            chunks, or no IEND.
        ImageTooLarge: More than :data:`MAX_PNG_CHUNKS` chunks.
    """
    n = len(data)
    if data[12:16] != b"IHDR" or n < 33:
        raise UndecodableImage("png has no IHDR chunk")
    width, height, bit_depth, color_type, compression, filtering, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    if (int.from_bytes(data[8:12], "big") != 13 or bit_depth not in _BIT_DEPTHS.get(color_type, ())
            or compression or filtering or interlace > 1):
        raise UndecodableImage("png header (IHDR) is corrupt")
    chunks: list[tuple[bytes, int, int]] = []
    idat: list[tuple[int, int]] = []
    after_idat, has_trns = False, False
    pos = 8
    while pos + 8 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > n - pos - 12:
            raise UndecodableImage("png is truncated or corrupt (a chunk runs past the end of the file)")
        if len(chunks) >= MAX_PNG_CHUNKS:
            raise ImageTooLarge(f"png has more than {MAX_PNG_CHUNKS} chunks")
        if not kind.isalpha():
            raise UndecodableImage(f"png has an invalid chunk type {kind!r}")
        end = pos + 12 + length
        chunks.append((kind, pos, end))
        if kind == b"IDAT":
            if after_idat:
                raise UndecodableImage("png image data (IDAT) is split by other chunks")
            idat.append((pos + 8, pos + 8 + length))
        elif idat:
            after_idat = True
        if kind == b"IEND":
            if not idat:
                raise UndecodableImage("png has no image data (IDAT)")
            return PngLayout(width, height, bit_depth, color_type, interlace, tuple(chunks), tuple(idat),
                             has_trns)
        if kind == b"IHDR" and pos != 8:
            raise UndecodableImage("png has a second IHDR chunk")
        if kind[0] & 0x20 == 0 and kind not in _KEEP:
            raise UndecodableImage(f"png has an unknown critical chunk {kind.decode()!r}")
        has_trns = has_trns or kind == b"tRNS"
        pos = end
    raise UndecodableImage("png is truncated (no IEND chunk)")


def _inflated_size(data: bytes, ranges: tuple[tuple[int, int], ...], limit: int) -> int:
    """Bytes the zlib stream in ``ranges`` of ``data`` inflates to, counting stopped past ``limit``."""
    inflater = zlib.decompressobj()
    produced = 0
    view = memoryview(data)
    for start, end in ranges:
        for at in range(start, end, _IN_STEP):
            piece: bytes | memoryview = view[at:min(at + _IN_STEP, end)]
            while piece:
                out = inflater.decompress(piece, _OUT_STEP)
                produced += len(out)
                if produced > limit or inflater.eof or not out and len(inflater.unconsumed_tail) == len(piece):
                    return produced  # too much, the end, or stuck (left to libpng)
                piece = inflater.unconsumed_tail
    while True:  # output zlib may still hold after the last input
        out = inflater.decompress(b"", _OUT_STEP)
        produced += len(out)
        if not out or produced > limit:
            return produced


def check_png_image_data(data: bytes, layout: PngLayout) -> None:
    """Refuse image data that inflates past what the header implies (+ :data:`PNG_DATA_SLACK`).

    libpng inflates the whole zlib stream, also past the last row: 4 MB of deflated zeros
    after the rows cost it 10 s, 19 MB 47 s. Here the stream is inflated in steps, the
    output thrown away, and the walk stops as soon as too much came out (a 2000x3000 RGB
    page: 50-100 ms here, where OpenCV takes 100-140 ms to decode it). A stream that ends
    early or is corrupt is left to libpng (it stops there too, and refuses or not as before);
    the check is skipped where even deflate's best ratio (1032:1) leaves less than 64 MB to
    inflate past the limit.

    Raises:
        UndecodableImage: The image data goes on past the last row.
    """
    limit = layout.image_data_size + PNG_DATA_SLACK
    compressed = sum(end - start for start, end in layout.idat)
    if compressed * _DEFLATE_MAX_RATIO <= limit + _CHEAP_EXTRA:
        return  # even at deflate's best ratio, too little data to go on for long
    try:
        produced = _inflated_size(data, layout.idat, limit)
    except zlib.error:
        return
    if produced > limit:
        raise UndecodableImage(
            f"png image data inflates past its last row (more than {limit} bytes for a "
            f"{layout.width}x{layout.height} image)"
        )


def png_for_decoder(data: bytes, layout: PngLayout | None = None) -> bytes:
    """The PNG with only its critical chunks and ``tRNS``, after :func:`check_png_image_data`.

    Returns ``data`` itself when there is nothing to drop; else one copy of the kept chunks.

    Raises:
        UndecodableImage, ImageTooLarge: See :func:`png_layout`, :func:`check_png_image_data`.
    """
    layout = layout or png_layout(data)
    check_png_image_data(data, layout)
    keep: list[tuple[int, int]] = [(0, 8)]
    dropped = False
    for kind, start, end in layout.chunks:
        if kind not in _KEEP:
            dropped = True
        elif keep[-1][1] == start:
            keep[-1] = (keep[-1][0], end)
        else:
            keep.append((start, end))
    if not dropped:
        return data
    view = memoryview(data)
    return b"".join(view[start:end] for start, end in keep)
