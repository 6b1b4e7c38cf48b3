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

# HTTP status of each answer (mirrors ocr_service.errors; checked by the tests).
STATUS = {
    "ok": 200,
    "empty_image": 400,
    "invalid_input": 400,
    "image_too_large": 413,
    "unsupported_image_type": 415,
    "undecodable_image": 422,
    "image_too_small": 422,
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
             "unsupported_image_type"),
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
        case("tiff_multipage_huge_second_page.tif", "odd encoding", multipage_tiff((8000, 8000)), "ok"),
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
