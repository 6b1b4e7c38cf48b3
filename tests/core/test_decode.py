"""Image decoding: formats, alpha, bit depths, orientation, limits and corrupt input."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest

from ocr_service import decode as decode_mod
from ocr_service.decode import DecodeLimits, decode_image, read_header
from ocr_service.errors import (
    EmptyImage,
    ImageTooLarge,
    ImageTooSmall,
    OcrError,
    UndecodableImage,
    UnsupportedImageType,
)

Image = pytest.importorskip("PIL.Image", reason="pillow (dev extra) builds the test images")


def sample_bgr(h: int = 40, w: int = 60) -> np.ndarray:
    """A white image with a black block in the top-left corner (shows orientation)."""
    img = np.full((h, w, 3), 255, np.uint8)
    img[:10, :15] = 0
    return img


def pil_bytes(im: Image.Image, fmt: str, **kw: object) -> bytes:
    bio = io.BytesIO()
    im.save(bio, fmt, **kw)
    return bio.getvalue()


@pytest.mark.parametrize(
    ("ext", "fmt", "params"),
    [
        (".jpg", "jpeg", []),
        (".png", "png", []),
        (".bmp", "bmp", []),
        (".tiff", "tiff", []),
        (".webp", "webp", [cv2.IMWRITE_WEBP_QUALITY, 90]),  # lossy: VP8
        (".webp", "webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # lossless: VP8L
    ],
)
def test_formats_decode_to_bgr(ext: str, fmt: str, params: list[int]) -> None:
    data = cv2.imencode(ext, sample_bgr(), params)[1].tobytes()
    hd = read_header(data)
    assert (hd.format, hd.width, hd.height) == (fmt, 60, 40)
    out = decode_image(data)
    assert out.format == fmt and out.image.shape == (40, 60, 3) and out.image.dtype == np.uint8
    assert out.image[2, 2].max() < 60 and out.image[30, 50].min() > 195


def test_gif_first_frame() -> None:
    im = Image.fromarray(sample_bgr()[:, :, 0]).convert("P")
    out = decode_image(pil_bytes(im, "GIF"))
    assert out.format == "gif" and out.image.shape == (40, 60, 3)


def test_webp_with_alpha_vp8x_composited_on_white() -> None:
    rgba = np.zeros((40, 60, 4), np.uint8)  # fully transparent black
    rgba[5:15, 5:25] = [0, 0, 0, 255]  # opaque black text
    data = pil_bytes(Image.fromarray(rgba, "RGBA"), "WEBP", lossless=True)
    hd = read_header(data)
    assert (hd.format, hd.width, hd.height) == ("webp", 60, 40)
    img = decode_image(data).image
    assert img[30, 50].tolist() == [255, 255, 255] and img[10, 10].max() < 30


def test_png_alpha_composited_on_white() -> None:
    bgra = np.zeros((40, 60, 4), np.uint8)
    bgra[5:15, 5:25, 3] = 255  # black, opaque
    bgra[20:30, 5:25] = [0, 0, 255, 128]  # half-transparent red
    img = decode_image(cv2.imencode(".png", bgra)[1].tobytes()).image
    assert img[30, 50].tolist() == [255, 255, 255]
    assert img[10, 10].tolist() == [0, 0, 0]
    assert img[25, 10].tolist() == pytest.approx([127, 127, 255], abs=2)


@pytest.mark.parametrize("level", [255, 230])
def test_light_content_on_transparent_goes_on_black(level: int) -> None:
    """White (or light) text on a transparent background would vanish on white."""
    bgra = np.zeros((40, 60, 4), np.uint8)
    bgra[:, :, :3] = 200  # colour under transparent pixels must not matter
    bgra[5:15, 5:25] = [level, level, level, 255]
    bgra[20:30, 5:25] = [255, 255, 255, 128]
    img = decode_image(cv2.imencode(".png", bgra)[1].tobytes()).image
    assert img[30, 50].tolist() == [0, 0, 0]
    assert img[10, 10].tolist() == [level] * 3
    assert img[25, 10].tolist() == pytest.approx([128] * 3, abs=2)


def test_dark_and_light_mixed_content_stays_on_white() -> None:
    bgra = np.zeros((40, 60, 4), np.uint8)
    bgra[5:15, 5:45] = [0, 0, 0, 255]  # mostly dark drawing with a light detail
    bgra[20:25, 5:15] = [255, 255, 255, 255]
    img = decode_image(cv2.imencode(".png", bgra)[1].tobytes()).image
    assert img[35, 55].tolist() == [255, 255, 255]


def test_gray_alpha_png() -> None:
    la = np.zeros((40, 60, 2), np.uint8)
    la[5:15, 5:25, 1] = 255
    img = decode_image(pil_bytes(Image.fromarray(la, "LA"), "PNG")).image
    assert img[30, 50].tolist() == [255] * 3 and img[10, 10].tolist() == [0] * 3


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_16_bit_scaled_to_8_bit(ext: str) -> None:
    img16 = np.full((20, 30), 65535, np.uint16)
    img16[:, :10] = 0
    img16[:, 10:20] = 32896  # 128 * 257
    out = decode_image(cv2.imencode(ext, img16)[1].tobytes()).image
    assert out[0, 0, 0] == 0 and out[0, 15, 0] == 128 and out[0, 25, 0] == 255


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_1_bit_images(fmt: str) -> None:
    arr = np.ones((20, 32), bool)
    arr[5:10, 5:20] = False
    out = decode_image(pil_bytes(Image.fromarray(arr).convert("1"), fmt)).image
    assert out.shape == (20, 32, 3)
    assert out[7, 10].tolist() == [0, 0, 0] and out[15, 25].tolist() == [255, 255, 255]


def test_float_tiff() -> None:
    f = np.full((20, 30), 1.0, np.float32)
    f[:, :10] = 0.0
    out = decode_image(cv2.imencode(".tiff", f)[1].tobytes()).image
    assert out[0, 0, 0] == 0 and out[0, 25, 0] == 255


def test_multipage_tiff_reads_first_page() -> None:
    first = Image.fromarray(np.zeros((20, 30), np.uint8))
    second = Image.fromarray(np.full((50, 40), 255, np.uint8))
    data = pil_bytes(first, "TIFF", save_all=True, append_images=[second])
    out = decode_image(data)
    assert out.image.shape == (20, 30, 3) and out.image.max() == 0


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(1, "tl"), (3, "br"), (6, "tr"), (8, "bl"), (2, "tr"), (4, "bl")],
)
def test_jpeg_exif_orientation(orientation: int, corner: str) -> None:
    im = Image.fromarray(sample_bgr(40, 60)[:, :, ::-1].copy())
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = decode_image(pil_bytes(im, "JPEG", exif=exif.tobytes(), quality=95)).image
    h, w = out.shape[:2]
    assert (h, w) == ((60, 40) if orientation in (5, 6, 7, 8) else (40, 60))
    dark = {"tl": out[2, 2], "tr": out[2, w - 3], "bl": out[h - 3, 2], "br": out[h - 3, w - 3]}
    assert dark[corner].max() < 60
    assert sum(int(v.max() < 60) for v in dark.values()) == 1


def test_tiff_orientation_tag() -> None:
    im = Image.fromarray(sample_bgr(40, 60)[:, :, 0])
    data = pil_bytes(im, "TIFF", tiffinfo={274: 6})
    assert read_header(data).orientation == 6
    out = decode_image(data).image
    assert out.shape[:2] == (60, 40) and out[2, 37].max() < 60


def fake_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width x height`` followed by a tiny IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_refused_from_header(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decode(*_: object) -> None:
        raise AssertionError("the decoder must not run for a bomb")

    monkeypatch.setattr(decode_mod.cv2, "imdecode", no_decode)
    with pytest.raises(ImageTooLarge, match="pixels"):
        decode_image(fake_png(60000, 60000))


def test_real_bomb_small_file_many_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    data = cv2.imencode(".png", np.zeros((2000, 2000), np.uint8))[1].tobytes()
    assert len(data) < 50_000  # 4 MP compressed to a few kB
    monkeypatch.setattr(decode_mod.cv2, "imdecode", lambda *_: pytest.fail("decoded a bomb"))
    with pytest.raises(ImageTooLarge) as info:
        decode_image(data, DecodeLimits(max_pixels=1_000_000))
    assert info.value.http_status == 413 and info.value.code == "image_too_large"


def test_too_many_bytes() -> None:
    data = cv2.imencode(".png", sample_bgr())[1].tobytes()
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode_image(data, DecodeLimits(max_bytes=100))


def test_too_long_side() -> None:
    with pytest.raises(ImageTooLarge):
        decode_image(fake_png(30000, 10))


def test_too_small() -> None:
    with pytest.raises(ImageTooSmall) as info:
        decode_image(cv2.imencode(".png", np.zeros((5, 50), np.uint8))[1].tobytes())
    assert info.value.http_status == 422


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp", ".tiff", ".webp"])
def test_truncated_files_are_undecodable(ext: str) -> None:
    data = cv2.imencode(ext, np.random.default_rng(0).integers(0, 255, (80, 90, 3), dtype=np.uint8))[1].tobytes()
    for cut in (len(data) * 7 // 10, 20):
        with pytest.raises(UndecodableImage):
            decode_image(data[:cut])


def test_jpeg_cut_inside_scan_is_detected() -> None:
    data = cv2.imencode(".jpg", sample_bgr(200, 200))[1].tobytes()
    with pytest.raises(UndecodableImage, match="truncated"):
        decode_image(data[:-30])


def test_unsupported_and_empty() -> None:
    with pytest.raises(UnsupportedImageType) as info:
        decode_image(b"%PDF-1.7 not an image at all")
    assert info.value.http_status == 415
    with pytest.raises(EmptyImage):
        decode_image(b"")


def test_every_refusal_is_an_ocr_error_with_code() -> None:
    for bad in (b"", b"nope", fake_png(60000, 60000), b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(OcrError) as info:
            decode_image(bad)
        assert info.value.code and info.value.message and 400 <= info.value.http_status < 500


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize(("orientation", "corner"), [(3, "br"), (6, "tr"), (8, "bl")])
def test_png_webp_exif_orientation(fmt: str, orientation: int, corner: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    kw = {"lossless": True} if fmt == "WEBP" else {}
    data = pil_bytes(Image.fromarray(sample_bgr(40, 60)), fmt, exif=exif.tobytes(), **kw)
    assert read_header(data).orientation == orientation
    out = decode_image(data).image
    h, w = out.shape[:2]
    assert (h, w) == ((40, 60) if orientation == 3 else (60, 40))
    dark = {"tl": out[2, 2], "tr": out[2, w - 3], "bl": out[h - 3, 2], "br": out[h - 3, w - 3]}
    assert dark[corner].max() < 60 and sum(int(v.max() < 60) for v in dark.values()) == 1


def test_truncated_jpeg_with_end_marker_inside_an_early_segment() -> None:
    """An EXIF-thumbnail-like FFD9 before the scan must not hide a truncated scan."""
    data = cv2.imencode(".jpg", sample_bgr(200, 200))[1].tobytes()
    payload = b"Exif\x00\x00" + b"\xff\xd8 thumbnail \xff\xd9"
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    with_app1 = data[:2] + app1 + data[2:]
    assert decode_image(with_app1).image.shape == (200, 200, 3)
    with pytest.raises(UndecodableImage, match="truncated"):
        decode_image(with_app1[: len(with_app1) * 2 // 3])


def bigtiff_header(width: int, height: int, orientation: int = 1) -> bytes:
    """A little-endian BigTIFF header with one IFD (width, height, orientation)."""
    entries = [(256, 16, 1, width), (257, 16, 1, height), (274, 3, 1, orientation)]
    ifd = struct.pack("<Q", len(entries)) + b"".join(
        struct.pack("<HHQQ", tag, typ, count, value) for tag, typ, count, value in entries
    ) + struct.pack("<Q", 0)
    return b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) + ifd


def test_bigtiff_header_is_read_and_bombs_refused() -> None:
    head = read_header(bigtiff_header(300, 200, 6))
    assert (head.format, head.width, head.height, head.orientation) == ("tiff", 300, 200, 6)
    with pytest.raises(ImageTooLarge):
        decode_image(bigtiff_header(100000, 100000))


def test_big_endian_tiff_header() -> None:
    im = Image.fromarray(np.zeros((20, 30), np.uint8))
    data = pil_bytes(im, "TIFF")
    assert data[:2] == b"II"
    # Same image written big-endian by hand: a minimal MM header with width/height as SHORTs.
    entries = [(256, 3, 1, 30), (257, 3, 1, 20)]
    ifd = struct.pack(">H", len(entries)) + b"".join(
        struct.pack(">HHIHH", tag, typ, count, value, 0) for tag, typ, count, value in entries
    ) + struct.pack(">I", 0)
    head = read_header(b"MM\x00*" + struct.pack(">I", 8) + ifd)
    assert (head.width, head.height) == (30, 20)


def test_gif_and_webp_headers_truncated() -> None:
    with pytest.raises(UndecodableImage):
        read_header(b"GIF89a\x10")
    with pytest.raises(UndecodableImage):
        read_header(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
