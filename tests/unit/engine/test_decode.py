"""Image decoding: formats, alpha, bit depths, orientation, limits and corrupt input."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest

from ocr_engine.errors import (
    EmptyImage,
    ImageTooLarge,
    ImageTooSmall,
    OcrError,
    UndecodableImage,
    UnsupportedImageType,
)
from ocr_engine.image import decode as decode_mod
from ocr_engine.image import normalize
from ocr_engine.image.decode import decode_image
from ocr_engine.image.headers import read_header
from ocr_engine.image.limits import DecodeLimits, check_limits

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
    assert info.value.code == "image_too_large"


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
    assert info.value.code == "image_too_small"


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
    assert info.value.code == "unsupported_image_type"
    with pytest.raises(EmptyImage):
        decode_image(b"")


def test_every_refusal_is_an_ocr_error_with_code() -> None:
    for bad in (b"", b"nope", fake_png(60000, 60000), b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(OcrError) as info:
            decode_image(bad)
        assert info.value.code and info.value.message


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


# ---------------------------------------------------------------- hostile headers (issue: "still get through")
def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of(ihdr: tuple[int, int, int, int, int], idat: bytes, before: bytes = b"", after: bytes = b"") -> bytes:
    """A PNG from (width, height, bit depth, colour type, interlace), image data and extra chunks."""
    w, h, depth, ctype, interlace = ihdr
    head = png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    return b"\x89PNG\r\n\x1a\n" + head + before + png_chunk(b"IDAT", idat) + after + png_chunk(b"IEND", b"")


def jpeg16() -> tuple[bytes, int, int]:
    """A 16x16 gray JPEG and the (start, end) of its frame header."""
    data = cv2.imencode(".jpg", np.full((16, 16), 200, np.uint8))[1].tobytes()
    s = data.index(b"\xff\xc0")
    return data, s, s + 2 + struct.unpack(">H", data[s + 2:s + 4])[0]


def sized_sof(sof: bytes, w: int, h: int) -> bytes:
    return sof[:5] + struct.pack(">HH", h, w) + sof[9:]


def smuggled_jpeg(w: int, h: int) -> bytes:
    """The reported attack: a stray FF 00 pair read as a marker with a length hides, from a naive
    walker, that the 16x16 frame header sits inside a comment; the real one is ``w x h``."""
    data, s, e = jpeg16()
    small = data[s:e]
    hidden = b"\xff\x00\x00\x06" + b"\xff\xfe" + struct.pack(">H", 2 + len(small)) + small
    return data[:s] + hidden + sized_sof(small, w, h) + data[e:]


def test_jpeg_size_smuggled_past_a_stuffed_pair_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_mod.cv2, "imdecode", lambda *_: pytest.fail("decoded a smuggled bomb"))
    assert (read_header(smuggled_jpeg(20000, 20000)).width, read_header(smuggled_jpeg(640, 480)).height) == (20000, 480)
    with pytest.raises(ImageTooLarge):
        decode_image(smuggled_jpeg(20000, 20000))


def test_jpeg_markers_are_read_as_libjpeg_reads_them() -> None:
    data, s, e = jpeg16()
    sof = data[s:e]
    fill = data[:s] + b"\xff\xff\xff\xd3\xff\x01\xff\xff" + data[s:]  # fill bytes, RST3, TEM
    stray = data[:s] + b"\x00\x12\xff\x00\x34" + data[s:]  # junk and a stuffed pair between segments
    decoy = data[:s] + b"\x00\xff\xe1" + struct.pack(">H", 2 + len(sof)) + sized_sof(sof, 20000, 20000) + data[s:]
    dnl = data[:-2] + b"\xff\xdc\x00\x04\x00\x10\xff\xd9"
    for ok in (fill, stray, decoy, dnl):
        assert (read_header(ok).width, read_header(ok).height) == (16, 16)
        assert cv2.imdecode(np.frombuffer(ok, np.uint8), cv2.IMREAD_COLOR).shape == (16, 16, 3)
        assert decode_image(ok).image.shape == (16, 16, 3)
    hidden = data[:s] + b"\x00\xff\xe1" + struct.pack(">H", 2 + len(sof)) + sof + sized_sof(sof, 20000, 20000) + data[e:]
    assert read_header(hidden).width == 20000
    refused = {
        "two frame headers": data[:e] + sized_sof(sof, 20000, 20000) + data[e:],
        "unknown marker": data[:s] + b"\xff\x02\x00\x04ab" + data[s:],
        "JPG marker": data[:s] + b"\xff\xc8\x00\x04ab" + data[s:],
        "second SOI": data[:s] + b"\xff\xd8" + data[s:],
        "scan first": data[:s] + data[data.index(b"\xff\xda"):],
    }
    for name, bad in refused.items():
        with pytest.raises(UndecodableImage):
            read_header(bad)
        assert cv2.imdecode(np.frombuffer(bad, np.uint8), cv2.IMREAD_COLOR) is None, name  # libjpeg refuses too
    with pytest.raises(UndecodableImage, match="length"):  # libjpeg would skip nothing and resync: refused here
        read_header(data[:s] + b"\xff\xe1\x00\x00" + data[s:])


def test_jpeg_size_from_the_header_matches_opencv() -> None:
    rng = np.random.default_rng(5)
    page = rng.integers(0, 256, (90, 130, 3), dtype=np.uint8)
    for params in ([], [cv2.IMWRITE_JPEG_PROGRESSIVE, 1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 1],
                   [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]):
        data = cv2.imencode(".jpg", page, params)[1].tobytes()
        head = read_header(data)
        assert (head.height, head.width) == cv2.imdecode(np.frombuffer(data, np.uint8), 1).shape[:2] == (90, 130)
    cmyk = pil_bytes(Image.new("CMYK", (70, 30), (0, 0, 0, 0)), "JPEG", progressive=True)
    assert (read_header(cmyk).width, read_header(cmyk).decode_bytes_per_pixel) == (70, 6 + 2 * 4)


def test_opencv_itself_refuses_a_smuggled_jpeg() -> None:
    """The second line: OpenCV's own limits, set by the package before cv2 loads, refuse the
    real (huge) size even when the header walker is bypassed. In a fresh interpreter: OpenCV
    reads OPENCV_IO_MAX_IMAGE_PIXELS once, when its library loads."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from ocr_engine.image import decode, limits\n"  # the package sets the limits, then cv2 loads
        "from ocr_engine.image.headers import ImageHeader\n"
        "import cv2, numpy as np\n"
        "data = sys.stdin.buffer.read()\n"
        "out = {'limit': limits.OPENCV_MAX_PIXELS, 'in_force': limits.OPENCV_LIMITS_IN_FORCE}\n"
        "try:\n"
        "    cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR); out['cv2'] = 'decoded'\n"
        "except cv2.error as err:\n"
        "    out['cv2'] = str(err)\n"
        "decode.read_header = lambda data: ImageHeader('jpeg', 16, 16, 1, 12)  # a walker that is fooled\n"
        "try:\n"
        "    decode.decode_image(data); out['decode'] = 'decoded'\n"
        "except Exception as err:\n"
        "    out['decode'] = getattr(err, 'code', repr(err))\n"
        "out['peak_kb'] = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
        "print(json.dumps(out))\n"
    )
    import json

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OPENCV_IO_")}
    proc = subprocess.run([sys.executable, "-c", code], input=smuggled_jpeg(20000, 20000), capture_output=True,
                          timeout=120, check=True, env=env)
    out = json.loads(proc.stdout.decode().splitlines()[-1])
    assert out["limit"] == DecodeLimits().max_pixels and out["in_force"]
    assert "CV_IO_MAX_IMAGE_PIXELS" in out["cv2"]
    assert out["decode"] == "image_too_large"
    assert out["peak_kb"] < 400 * 1024  # the 20000x20000 image (1.2 GB) was never allocated


def test_png_ancillary_chunks_do_not_reach_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_engine.image.png_stream import png_for_decoder, png_layout

    rows = (b"\x00" + bytes(range(90)) * 2) * 40  # 60x40 RGB
    text = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"x" * 7_000_000, 9))
    extra = (png_chunk(b"gAMA", struct.pack(">I", 100000)) + png_chunk(b"sBIT", b"\x02\x02\x02")
             + png_chunk(b"bKGD", b"\x00\x10\x00\x20\x00\x30") + png_chunk(b"iCCP", b"p\x00\x00" + zlib.compress(bytes(9000)))
             + text * 20 + png_chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x00"))
    plain = png_of((60, 40, 8, 2, 0), zlib.compress(rows))
    fancy = png_of((60, 40, 8, 2, 0), zlib.compress(rows), before=extra, after=text * 20)
    assert png_for_decoder(plain) is plain  # nothing to drop: no copy
    kinds = [kind for kind, _, _ in png_layout(png_for_decoder(fancy)).chunks]
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    seen: list[bytes] = []
    real = decode_mod.cv2.imdecode
    monkeypatch.setattr(decode_mod.cv2, "imdecode", lambda buf, flags: seen.append(buf.tobytes()) or real(buf, flags))
    t0 = __import__("time").perf_counter()
    out = decode_image(fancy).image
    assert __import__("time").perf_counter() - t0 < 2.0  # libpng inflated 40 x 7 MB of text: seconds
    assert b"zTXt" not in seen[0] and b"gAMA" not in seen[0]
    assert np.array_equal(out, real(np.frombuffer(plain, np.uint8), cv2.IMREAD_UNCHANGED))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "I;16"])
def test_dropping_ancillary_chunks_keeps_the_pixels(mode: str) -> None:
    """gAMA, cHRM, sRGB, iCCP, sBIT, bKGD, pHYs, text: OpenCV's PNG reader applies none of them."""
    from PIL import PngImagePlugin

    rng = np.random.default_rng(1)
    arr = rng.integers(0, 65535 if mode == "I;16" else 256, (30, 50, 4 if mode == "RGBA" else 3 if mode == "RGB" else 1))
    arr = arr.astype(np.uint16 if mode == "I;16" else np.uint8)
    im = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    im = im.convert("P") if mode == "P" else im
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 3000, zip=True)
    data = pil_bytes(im, "PNG", pnginfo=info, dpi=(300, 300), icc_profile=b"\x00" * 500,
                     **({"transparency": 3} if mode == "P" else {}))
    gama = png_chunk(b"gAMA", struct.pack(">I", 45455)) + png_chunk(b"cHRM", bytes(32)) + png_chunk(b"sBIT", b"\x03" * 3)
    data = data[:33] + gama + data[33:]
    from ocr_engine.image.png_stream import png_for_decoder

    clean = png_for_decoder(data)
    assert len(clean) < len(data)
    full = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.imdecode(np.frombuffer(clean, np.uint8), cv2.IMREAD_UNCHANGED), full)


def test_png_chunk_structure_is_checked() -> None:
    from ocr_engine.image import png_stream

    rows = zlib.compress((b"\x00" + b"\x80" * 20) * 20)
    with pytest.raises(UndecodableImage, match="critical"):
        decode_image(png_of((20, 20, 8, 0, 0), rows, before=png_chunk(b"ABCD", b"x")))
    with pytest.raises(UndecodableImage, match="chunk type"):
        decode_image(png_of((20, 20, 8, 0, 0), rows, before=png_chunk(b"a1b2", b"x")))
    split = png_of((20, 20, 8, 0, 0), rows[:10], after=png_chunk(b"tEXt", b"a\x00b") + png_chunk(b"IDAT", rows[10:]))
    with pytest.raises(UndecodableImage, match="split"):
        decode_image(split)
    many = png_chunk(b"prVt", b"") * (png_stream.MAX_PNG_CHUNKS + 1)
    with pytest.raises(ImageTooLarge, match="chunks"):
        decode_image(png_of((20, 20, 8, 0, 0), rows, before=many))
    with pytest.raises(UndecodableImage, match="IHDR"):
        decode_image(png_of((20, 20, 8, 3, 0), rows).replace(b"\x08\x03", b"\x10\x03", 1))  # 16-bit palette


def adam7_png(img: np.ndarray, depth: int, ctype: int) -> bytes:
    """An interlaced PNG of ``img`` (uint8 / uint16 samples, 1/2/4/8/16 bits), every row filter 0."""
    h, w = img.shape[:2]
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        sub = img[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in sub.reshape(sub.shape[0], -1):
            if depth == 16:
                line = row.astype(">u2").tobytes()
            elif depth == 8:
                line = row.astype(np.uint8).tobytes()
            else:
                line = np.packbits(np.unpackbits(row.reshape(-1, 1).astype(np.uint8), axis=1)[:, 8 - depth:]).tobytes()
            raw += b"\x00" + line
    return png_of((w, h, depth, ctype, 1), zlib.compress(raw))


@pytest.mark.parametrize(("depth", "ctype", "channels"), [(1, 0, 1), (2, 0, 1), (4, 0, 1), (8, 0, 1), (16, 0, 1),
                                                         (8, 2, 3), (16, 2, 3), (8, 4, 2), (16, 6, 4), (4, 3, 1)])
@pytest.mark.parametrize("size", [(1, 1), (3, 2), (13, 7), (33, 17)])
def test_png_image_data_size_matches_the_rows(depth: int, ctype: int, channels: int, size: tuple[int, int]) -> None:
    from ocr_engine.image.png_stream import png_layout

    w, h = size
    rng = np.random.default_rng(w * h + depth)
    img = rng.integers(0, 1 << depth, (h, w, channels), dtype=np.uint16 if depth == 16 else np.uint8)
    plte = png_chunk(b"PLTE", bytes(range(48))) if ctype == 3 else b""
    data = adam7_png(img, depth, ctype)
    data = data[:33] + plte + data[33:]
    layout = png_layout(data)
    assert layout.image_data_size == len(zlib.decompress(b"".join(data[s:e] for s, e in layout.idat)))
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if ctype == 0 and depth >= 8:  # the rows were built right: the pixels come back
        assert np.array_equal(decoded.reshape(h, w), img[:, :, 0])
    assert decode_image(data, DecodeLimits(min_side=1)).image.shape == (h, w, 3)


@pytest.mark.parametrize("interlace", [0, 1])
def test_png_data_past_the_last_row_is_refused_quickly(interlace: int) -> None:
    """libpng inflates it all: 4 MB of deflated zeros after the rows took it 10 s."""
    import time

    from ocr_engine.image.png_stream import png_layout

    head = png_of((64, 64, 8, 0, interlace), b"")
    size = png_layout(head).image_data_size
    rows, more = zlib.compressobj(9), zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = rows.compress(bytes(size)) + rows.flush(zlib.Z_FULL_FLUSH)
    stream += (more.compress(bytes(1 << 24)) + more.flush(zlib.Z_FULL_FLUSH)) * 64  # 1 GB more, never ends
    t0 = time.perf_counter()
    with pytest.raises(UndecodableImage, match="past its last row"):
        decode_image(png_of((64, 64, 8, 0, interlace), stream))
    assert time.perf_counter() - t0 < 1.0
    ends_early = png_of((64, 64, 8, 0, interlace), zlib.compress(bytes(size // 2)))
    with pytest.raises(UndecodableImage):  # libpng's answer, as before
        decode_image(ends_early)
    junk_after_end = png_of((64, 64, 8, 0, interlace), zlib.compress(bytes(size)) + zlib.compress(bytes(1 << 22)))
    assert decode_image(junk_after_end).image.shape == (64, 64, 3)  # libpng stops at the end of the stream


def reference_to_bgr8(img: np.ndarray) -> np.ndarray:
    """The conversion as it was (whole image, float32 compositing): the banded one must match it."""
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 2:
        img = cv2.merge([img[:, :, 0], img[:, :, 0], img[:, :, 0], img[:, :, 1]])
    if img.shape[2] == 4:
        alpha = img[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
        bgr = img[:, :, :3].astype(np.float32)
        bg = normalize.alpha_background(bgr, alpha)
        return (bgr * alpha + bg * (1.0 - alpha) + 0.5).astype(np.uint8)
    return img[:, :, :3]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("light", [False, True])
def test_banded_compositing_matches_the_float_formula(dtype: type, channels: int, light: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize, "_BAND_PIXELS", 999)  # many bands, one of them short
    rng = np.random.default_rng(channels)
    top = 65536 if dtype == np.uint16 else 256
    img = rng.integers(0, top, (123, 77, channels)).astype(dtype)
    if light:
        img[:, :, :-1] = img[:, :, :-1] // 4 + (top - top // 4)
    out = normalize.to_bgr8(img)
    assert np.array_equal(out, reference_to_bgr8(img))
    grid = np.stack(np.meshgrid(np.arange(256), np.arange(256)), -1).reshape(256, 256, 2).astype(np.uint8)
    every = np.dstack([grid[:, :, :1]] * 3 + [grid[:, :, 1:]])  # every colour level with every alpha
    assert np.array_equal(normalize.to_bgr8(every), reference_to_bgr8(every))


def test_pixel_limit_is_sized_by_bytes_per_pixel() -> None:
    row16 = b"\x00" + b"\x12\x34" * 4 * 6324
    rgba16 = png_of((6324, 6324, 16, 6, 0), zlib.compress(row16 * 2))  # header is enough to refuse
    head = read_header(rgba16)
    assert head.decode_bytes_per_pixel == 16
    with pytest.raises(ImageTooLarge, match="bytes per pixel"):
        decode_image(rgba16)
    assert read_header(png_of((6324, 6324, 8, 6, 0), b"")).decode_bytes_per_pixel == 8  # 40 Mpx RGBA8: allowed
    check_limits(b"", read_header(png_of((6324, 6324, 8, 6, 0), b"")), DecodeLimits())
    entries = [(256, 3, 1, 6324), (257, 3, 1, 6324), (258, 3, 4, 8 + 0), (277, 3, 1, 4), (262, 3, 1, 2), (339, 3, 4, 0)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHIHH", t, ty, c, v, 0) if c == 1 else
                                                      struct.pack("<HHII", t, ty, c, 100) for t, ty, c, v in entries)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    tiff = tiff.ljust(100, b"\x00") + struct.pack("<4H", 32, 32, 32, 32)  # BitsPerSample 32 x 4, out of line
    assert read_header(tiff).decode_bytes_per_pixel == 2 * 4 * 4
    with pytest.raises(ImageTooLarge, match="bytes per pixel"):
        decode_image(tiff)


def test_tiff_size_tags_count_from_their_first_entry() -> None:
    """libtiff ignores later duplicates of a tag (a reader taking the last one saw 16 x 16)."""
    entries = [(256, 9, 1, 60000), (256, 3, 1, 16), (257, 3, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", t, ty, c, v) for t, ty, c, v in entries)
    head = read_header(b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0))
    assert (head.width, head.height) == (60000, 16)


def test_webp_canvas_must_match_its_frame_and_gif_image_its_screen() -> None:
    from ocr_engine.image.gif_stream import gif_first_image

    still = cv2.imencode(".webp", sample_bgr(), [cv2.IMWRITE_WEBP_QUALITY, 80])[1].tobytes()
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (5999).to_bytes(3, "little") * 2
    lying = b"RIFF" + struct.pack("<I", 4 + len(vp8x) + len(still) - 12) + b"WEBP" + vp8x + still[12:]
    with pytest.raises(UndecodableImage, match="canvas"):
        read_header(lying)
    gif = bytearray(pil_bytes(Image.fromarray(sample_bgr()[:, :, 0]).convert("P"), "GIF"))
    at = gif_first_image(bytes(gif))
    gif[at + 5:at + 9] = struct.pack("<HH", 3000, 3000)
    with pytest.raises(UndecodableImage, match="outside"):
        read_header(bytes(gif))


def test_bmp_top_down_is_read_upright() -> None:
    data = bytearray(cv2.imencode(".bmp", sample_bgr())[1].tobytes())
    h = struct.unpack("<i", data[22:26])[0]
    data[22:26] = struct.pack("<i", -h)
    out = decode_image(bytes(data)).image
    assert out.shape == (40, 60, 3) and out[-3, 2].max() < 60 and out[2, 2].min() > 195  # rows now top-down


def test_opencv_limits_hold_whichever_module_is_imported_first() -> None:
    """The limits are set by the package's __init__, so the pipeline (which imports cv2 before
    decode) and the CLI get them too."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_IO_")}
    for first in ("ocr_engine.engine", "ocr_engine.cli", "ocr_service.handlers.http_api"):
        code = (f"import json, os, {first}\n"
                "from ocr_engine.image import limits as o\n"
                "print(json.dumps([o.OPENCV_LIMITS_IN_FORCE, os.environ['OPENCV_IO_MAX_IMAGE_PIXELS']]))\n")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              env=env, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        in_force, pixels = json.loads(proc.stdout.strip().splitlines()[-1])
        assert in_force is True and int(pixels) == 40_000_000, (first, in_force, pixels)
