"""The pages of a multi-page TIFF: the chain of image file directories (IFDs), and one page
decoded at a time.

The chain is walked with the bounds-checked reader of :mod:`~ocr_engine.image.headers`
(classic TIFF and BigTIFF); a chain that comes back to a directory already seen is refused,
and the walk stops as soon as it has more pages than asked for. A page is decoded as the
first page of a TIFF whose header points at that page's directory (the file's bytes, copied
once per document, with the first-IFD offset rewritten): the page's size, bit depth and
decode memory are then read and checked exactly as a single TIFF upload's are, before
OpenCV decodes it, and no earlier page is parsed again.

Example:
    >>> import cv2, numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "two.tiff")
    >>> cv2.imwritemulti(path, [np.zeros((20, 30), np.uint8), np.full((40, 10), 255, np.uint8)])
    True
    >>> data = open(path, "rb").read()
    >>> len(ifd_offsets(data))
    2
    >>> [page.shape for page in TiffPages(data).decode_pages([1, 2])]
    [(20, 30, 3), (40, 10, 3)]
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

import cv2  # its size limits are already set: ocr_engine/__init__ imports image.limits first
import numpy as np

from ocr_engine.errors import (
    ImageTooLarge,
    ImageTooSmall,
    PageTooLarge,
    TooManyPages,
    UndecodableDocument,
    UndecodableImage,
)
from ocr_engine.image.headers import _Reader, read_header
from ocr_engine.image.limits import DecodeLimits, check_limits
from ocr_engine.image.normalize import as_uint8, to_bgr8


def _layout(data: bytes | bytearray) -> tuple[str, bool]:
    """Byte order (struct prefix) and whether the file is a BigTIFF."""
    if data[:4] in (b"II*\x00", b"II+\x00"):
        return "<", data[2] == 0x2B
    if data[:4] in (b"MM\x00*", b"MM\x00+"):
        return ">", data[3] == 0x2B
    raise UndecodableDocument("not a TIFF: no TIFF header")


def ifd_offsets(data: bytes | bytearray, max_pages: int | None = None) -> list[int]:
    """Offsets of the page directories of a TIFF, in page order.

    The chain ends at a zero offset, or at an offset past the end of the file (libtiff stops
    there too); a first directory past the end gives no pages (the single-image decoder
    reports that file as corrupt). At most ``max_pages`` offsets are returned when given:
    one more page than that stops the walk.

    Raises:
        UndecodableDocument: The chain loops.
        TooManyPages: More than ``max_pages`` pages.

    Example:
        >>> loop = b"II*\\x00" + struct.pack("<I", 8) + struct.pack("<H", 0) + struct.pack("<I", 8)
        >>> ifd_offsets(loop)
        Traceback (most recent call last):
        ...
        ocr_engine.errors.UndecodableDocument: tiff page chain loops: page 2 is page 1 again
    """
    e, big = _layout(data)
    count_spec, count_size, entry_size, next_spec = ("Q", 8, 20, "Q") if big else ("H", 2, 12, "I")
    r = _Reader(data, "tiff")  # type: ignore[arg-type]  # reads bytes-like data
    if len(data) < (16 if big else 8):
        return []
    (ifd,) = r.unpack(e + next_spec, 8 if big else 4)
    offsets: list[int] = []
    seen: dict[int, int] = {}
    while ifd and ifd + count_size <= len(data):
        if ifd in seen:
            raise UndecodableDocument(
                f"tiff page chain loops: page {len(offsets) + 1} is page {seen[ifd] + 1} again")
        if max_pages is not None and len(offsets) >= max_pages:
            raise TooManyPages(f"tiff has more than {max_pages} pages; the limit is {max_pages}")
        seen[ifd] = len(offsets)
        offsets.append(ifd)
        (count,) = r.unpack(e + count_spec, ifd)
        at = ifd + count_size + count * entry_size
        if at + struct.calcsize(e + next_spec) > len(data):
            break  # the directory itself is truncated: decoding that page says so
        (ifd,) = r.unpack(e + next_spec, at)
    return offsets


class TiffPages:
    """Decode the pages of a TIFF one at a time (see the module docstring).

    Args:
        data: The TIFF.
        limits: Limits every page is held to (its ``max_bytes`` is compared with the whole
            file); the default :class:`DecodeLimits` otherwise. A page under ``min_side`` is
            read all the same (it has no text to find): one odd page does not refuse a document.
        max_pages: Refuse a TIFF with more pages than this.
    """

    def __init__(self, data: bytes, limits: DecodeLimits | None = None, max_pages: int | None = None) -> None:
        self.limits = limits or DecodeLimits()
        self.offsets = ifd_offsets(data, max_pages)
        if not self.offsets:
            raise UndecodableDocument("tiff has no readable page directory")
        self._endian, self._big = _layout(data)
        self._data = data
        self._buf: bytearray | None = None

    def __len__(self) -> int:
        return len(self.offsets)

    def check_pages(self, numbers: Iterable[int]) -> None:
        """Check the declared size of pages ``numbers`` (1-based) against the limits, decoding nothing.

        Raises:
            PageTooLarge: A page over the pixel, side or decode-memory limits.
            UndecodableDocument: A page whose directory is corrupt or states no size.
        """
        for number in numbers:
            self._point_at(self._buffer(), number)

    def decode_pages(self, numbers: Iterable[int]) -> Iterator[np.ndarray]:
        """Decode pages ``numbers`` (1-based), in that order, each checked first: BGR ``uint8`` arrays.

        Raises:
            PageTooLarge, UndecodableDocument: A page over the limits, or one that fails to decode.
        """
        buf = self._buffer()
        for number in numbers:
            self._point_at(buf, number)
            try:
                img = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_UNCHANGED)
            except cv2.error as err:
                if "CV_IO_MAX_IMAGE" in str(err):  # OpenCV's own limits (see ocr_engine.image.limits)
                    raise PageTooLarge(f"tiff page {number} is larger than its directory says and over "
                                       "the decoder's limit") from err
                raise UndecodableDocument(f"tiff page {number} cannot be decoded: {err.msg}") from err
            if img is None or img.size == 0:
                raise UndecodableDocument(f"tiff page {number} is corrupt or truncated")
            yield np.ascontiguousarray(to_bgr8(as_uint8(img)))  # the 16-bit / float array is freed here
            del img

    def _buffer(self) -> bytearray:
        """The file's bytes, copied once: each page is read through it with its header rewritten."""
        if self._buf is None:
            self._buf = bytearray(self._data)
        return self._buf

    def _point_at(self, buf: bytearray, number: int) -> None:
        """Make ``buf`` (a copy of the file) a TIFF whose first page is page ``number``, and check
        that page's header against the limits."""
        if not 1 <= number <= len(self.offsets):
            raise UndecodableDocument(f"tiff has no page {number}")
        at, spec = (8, "Q") if self._big else (4, "I")
        struct.pack_into(self._endian + spec, buf, at, self.offsets[number - 1])
        try:
            header = read_header(buf)  # type: ignore[arg-type]  # reads bytes-like data
            check_limits(buf, header, self.limits)  # type: ignore[arg-type]
        except ImageTooLarge as err:
            raise PageTooLarge(f"tiff page {number}: {err.message}") from err
        except ImageTooSmall:
            pass  # checked last: every larger limit has passed
        except UndecodableImage as err:
            raise UndecodableDocument(f"tiff page {number}: {err.message}") from err
