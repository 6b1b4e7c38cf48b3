"""JPEG markers walked as libjpeg walks them: the frame size, and the count of scans.

The size must be the one libjpeg will use, so the walk follows libjpeg's rules, not the
format's ideal: fill bytes, stuffed ``FF 00`` pairs and stray bytes are skipped, markers
without parameters are ignored, there is one frame header, and a file libjpeg would refuse
on the way is refused here. Progressive files, whose every scan re-decodes the whole image,
are held to :data:`MAX_JPEG_SCANS` scans.

Example:
    >>> sof = b"\\xff\\xc0\\x00\\x0b\\x08\\x00\\x20\\x00\\x10\\x01\\x01\\x11\\x00"   # 16 x 32, gray
    >>> sos = b"\\xff\\xda\\x00\\x08\\x01\\x01\\x00\\x00\\x3f\\x00"
    >>> jpeg_info(b"\\xff\\xd8" + sof + sos + b"\\x00" * 4 + b"\\xff\\xd9")
    (16, 32, 8)
"""

from __future__ import annotations

import re
import struct

from ocr_engine.errors import ImageTooLarge, UndecodableImage

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


def jpeg_info(data: bytes) -> tuple[int, int, int]:
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
