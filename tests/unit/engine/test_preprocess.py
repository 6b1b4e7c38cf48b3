"""Each preprocessing step on its own."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr_engine.preprocess import (
    adaptive_threshold,
    denoise,
    estimate_skew,
    normalize_contrast,
    preprocess_page,
    rotate_image,
    text_mask,
    to_gray,
    trim_to_ink_rows,
)
from ocr_engine.recognition.recognizer import resize_to_height


def lines_page(h: int = 400, w: int = 640, dark_on_light: bool = True) -> np.ndarray:
    bg, fg = (255, 0) if dark_on_light else (0, 255)
    img = np.full((h, w), bg, np.uint8)
    for i in range(6):
        cv2.putText(img, f"Line number {i} of some text", (30, 50 + 55 * i),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, fg, 2)
    return img


def test_to_gray_variants() -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[..., 2] = 255  # red
    assert to_gray(bgr).shape == (4, 6) and 70 < int(to_gray(bgr)[0, 0]) < 80
    assert to_gray(np.zeros((4, 6, 4), np.uint8)).shape == (4, 6)
    assert to_gray(np.zeros((4, 6, 1), np.uint8)).shape == (4, 6)
    assert to_gray(np.full((4, 6), 1000, np.uint16)).dtype == np.uint8
    with pytest.raises(ValueError):
        to_gray(np.zeros((2, 2, 2, 2), np.uint8))


@pytest.mark.parametrize("method", ["clahe", "equalize"])
def test_contrast_stretches_a_flat_image(method: str) -> None:
    low = lines_page() // 8 + 100  # contrast squeezed into 100..131
    out = normalize_contrast(low, method)
    assert out.shape == low.shape and float(out.std()) > 1.3 * float(low.std())


def test_contrast_none_is_identity() -> None:
    img = lines_page()
    assert normalize_contrast(img, "none") is img
    with pytest.raises(ValueError):
        normalize_contrast(img, "bogus")


@pytest.mark.parametrize("method", ["median", "gaussian", "nlmeans"])
def test_denoise_reduces_noise(method: str) -> None:
    clean = np.full((60, 60), 128, np.uint8)
    rng = np.random.default_rng(1)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    out = denoise(noisy, method, strength=5 if method != "nlmeans" else 20)
    assert np.abs(out.astype(int) - 128).mean() < 0.6 * np.abs(noisy.astype(int) - 128).mean()


def test_adaptive_threshold_is_binary_and_polarity_free() -> None:
    for dark in (True, False):
        out = adaptive_threshold(lines_page(dark_on_light=dark))
        assert set(np.unique(out).tolist()) <= {0, 255}
        assert (out == 255).mean() > 0.8  # background white in both cases


def test_text_mask_both_polarities_and_flat() -> None:
    a = text_mask(lines_page(dark_on_light=True))
    b = text_mask(lines_page(dark_on_light=False))
    assert a.mean() > 0 and abs(float(a.mean()) - float(b.mean())) < 0.2 * float(a.mean())
    assert text_mask(np.full((100, 100), 3, np.uint8)).max() == 0


@pytest.mark.parametrize("angle", [-6.0, -2.0, 1.5, 4.0])
def test_estimate_skew_finds_small_tilts(angle: float) -> None:
    tilted, _ = rotate_image(lines_page(), angle, border_value=255)
    assert estimate_skew(tilted) == pytest.approx(-angle, abs=0.6)


@pytest.mark.parametrize("angle", [-44.0, -27.0, -12.0, 13.0, 22.0, 38.0])
def test_estimate_skew_finds_large_tilts_by_a_coarse_search(angle: float) -> None:
    """Beyond 10° the characters no longer merge into lines; the page turned in 15° steps does."""
    tilted, _ = rotate_image(lines_page(), angle, border_value=255)
    assert estimate_skew(tilted) == pytest.approx(-angle, abs=0.8)
    assert estimate_skew(tilted, max_angle=10.0) == 0.0  # the old limit leaves it alone


def test_estimate_skew_no_text() -> None:
    assert estimate_skew(np.full((100, 100), 255, np.uint8)) == 0.0


def test_rotate_image_keeps_everything_and_maps_points() -> None:
    img = np.zeros((100, 200), np.uint8)
    img[10, 20] = 255
    out, m = rotate_image(img, 30, border_value=0)
    assert out.shape[0] > 100 and out.shape[1] > 200
    x, y = m @ np.array([20.0, 10.0, 1.0])
    ys, xs = np.nonzero(out)
    assert abs(xs.mean() - x) < 1.5 and abs(ys.mean() - y) < 1.5


def test_preprocess_page_deskews_and_inverse_maps_back() -> None:
    tilted, _ = rotate_image(lines_page(), 3.0, border_value=255)
    page = preprocess_page(tilted, deskew=True)
    assert page.skew_deg == pytest.approx(-3.0, abs=0.6)
    assert estimate_skew(page.gray) == pytest.approx(0.0, abs=0.6)
    # A point of the deskewed page maps back into the original frame.
    back = page.to_original @ np.array([page.gray.shape[1] / 2, page.gray.shape[0] / 2, 1.0])
    assert back == pytest.approx([tilted.shape[1] / 2, tilted.shape[0] / 2], abs=1.0)


def test_preprocess_page_switches() -> None:
    img = lines_page()
    page = preprocess_page(img, deskew=False)
    assert page.skew_deg == 0.0 and np.array_equal(page.gray, img)
    assert np.array_equal(page.to_original, [[1, 0, 0], [0, 1, 0]])
    page2 = preprocess_page(img // 8 + 100, contrast="equalize", denoise_method="median", deskew=False)
    assert int(np.ptp(page2.gray)) > 100


def test_resize_to_height_keeps_aspect_and_clamps() -> None:
    assert resize_to_height(np.zeros((64, 300), np.uint8), 32, 8, 4000).shape == (32, 150)
    assert resize_to_height(np.zeros((16, 40), np.uint8), 32, 8, 4000).shape == (32, 80)
    assert resize_to_height(np.zeros((100, 10), np.uint8), 32, 8, 4000).shape == (32, 8)
    assert resize_to_height(np.zeros((32, 9000), np.uint8), 32, 8, 2000).shape == (32, 2000)


def test_estimate_skew_ignores_disagreeing_edges() -> None:
    img = np.full((600, 800), 255, np.uint8)
    rng = np.random.default_rng(3)
    for i in range(12):  # bars at scattered angles, like edges in a photo
        angle = float(rng.uniform(0.5, 9.5))
        bar = np.full((40, 420), 255, np.uint8)
        bar[15:25, 10:410] = 0
        rot, _ = rotate_image(bar, angle, border_value=255)
        y, x = 20 + 45 * i % 520, int(rng.integers(0, 300))
        h, w = rot.shape
        img[y:y + h, x:x + w] = np.minimum(img[y:y + h, x:x + w], rot[: 600 - y, : 800 - x])
    assert estimate_skew(img) == 0.0


def _word(h: int = 40, w: int = 300, fg: int = 0, bg: int = 255) -> np.ndarray:
    img = np.full((h, w), bg, np.uint8)
    cv2.putText(img, "Word 42", (10, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.0, fg, 2)
    return img


def _rows_of(part: np.ndarray, whole: np.ndarray) -> range:
    """The rows of ``whole`` that ``part`` (a slice of it) covers."""
    top = (part.__array_interface__["data"][0] - whole.__array_interface__["data"][0]) // whole.strides[0]
    return range(top, top + part.shape[0])


@pytest.mark.parametrize("look", ["dark on light", "light on dark", "faint and blurred"])
def test_trim_cuts_a_loose_crop_down_to_its_text(look: str) -> None:
    fg, bg = {"dark on light": (0, 255), "light on dark": (255, 0), "faint and blurred": (150, 170)}[look]
    word = _word(fg=fg, bg=bg)
    loose = np.full((400, 300), bg, np.uint8)
    loose[180:220] = word
    if look == "faint and blurred":
        loose = cv2.GaussianBlur(loose, (7, 7), 2)
    out = trim_to_ink_rows(loose)
    text = np.flatnonzero((word != bg).any(axis=1)) + 180
    rows = _rows_of(out, loose)
    assert out.shape[1] == 300 and len(rows) <= 2 * len(text)
    assert rows.start < text[0] and text[-1] < rows.stop - 1  # all of the text, and a margin


def test_trim_leaves_tight_blank_and_textured_crops_alone() -> None:
    word = _word()
    assert trim_to_ink_rows(word) is word
    faint = cv2.GaussianBlur(_word(fg=150, bg=170), (7, 7), 2)
    assert trim_to_ink_rows(faint) is faint
    blank = np.full((300, 300), 255, np.uint8)
    assert trim_to_ink_rows(blank) is blank
    # Texture above and below the word is not blank margin.
    noisy = np.random.default_rng(0).integers(0, 256, (300, 300)).astype(np.uint8)
    noisy[130:170] = word
    assert trim_to_ink_rows(noisy) is noisy


def test_trim_keeps_a_lone_ascender_and_descender_of_a_long_line() -> None:
    page = np.full((240, 1200), 255, np.uint8)
    page[100:120, 20:1180:10] = 0            # the x-height band: many strokes
    page[80:120, 600:602] = 0                # one "l"
    page[120:132, 300:302] = 0               # one "p"
    out = trim_to_ink_rows(page)
    rows = _rows_of(out, page)
    assert len(rows) < 120 and rows.start < 80 and rows.stop > 132
