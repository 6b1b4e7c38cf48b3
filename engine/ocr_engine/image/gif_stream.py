"""GIF blocks: where the first image lies, and the file OpenCV is given (that image only).

Example:
    >>> screen = b"GIF89a" + (2).to_bytes(2, "little") * 2 + bytes(3)           # 2 x 2, no palette
    >>> image = b"\\x2c" + bytes(4) + (2).to_bytes(2, "little") * 2 + b"\\x00"   # at 0,0, 2 x 2
    >>> data = b"\\x02\\x02\\x44\\x01\\x00"                                        # LZW code size, one sub-block
    >>> gif = screen + image + data + image + data + b"\\x3b"                        # two frames
    >>> gif_first_image(gif), len(gif_first_frame(gif)) == len(screen + image + data) + 1
    (13, True)
"""

from __future__ import annotations

from ocr_engine.errors import UndecodableImage


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
