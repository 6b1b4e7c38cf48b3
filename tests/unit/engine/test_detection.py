"""The OpenCV line finder on rendered pages: count, order, boxes overlap the truth (reading order alone: test_layout)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr_engine.detection import MorphologyDetector, TextBox, WholeImageDetector, crop_box
from ocr_engine.preprocess import rotate_image
from support.render import render_line, render_page, require_font

ZH_EN = [
    "纯臻营养护发素 产品信息",
    "Invoice No. 2024-0117, total 356.00",
    "【品名】：代加工方式/OEM ODM",
    "the quick brown fox jumps over the lazy dog",
    "每瓶22元，1000瓶起订",
    "上海市浦东新区 Room 1203",
]


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def rect(box: TextBox) -> tuple[float, float, float, float]:
    p = box.points
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


def check_page(boxes: list[TextBox], truth: list[tuple[int, int, int, int]], min_iou: float = 0.5) -> None:
    assert len(boxes) == len(truth), [rect(b) for b in boxes]
    for b, t in zip(boxes, truth):  # same order as the truth: reading order
        assert iou(rect(b), t) >= min_iou, (rect(b), t)


@pytest.mark.parametrize("font", ["gbsn", "gkai"])
def test_multi_line_page_dark_on_light(font: str) -> None:
    page = render_page(ZH_EN, require_font(font), size=28)
    check_page(MorphologyDetector().detect(page.image), page.boxes)


def test_multi_line_page_light_on_dark() -> None:
    page = render_page(ZH_EN, require_font("gbsn"), size=26, fg=235, bg=30)
    check_page(MorphologyDetector().detect(page.image), page.boxes)


def test_tight_line_spacing_and_small_text() -> None:
    page = render_page(ZH_EN, require_font("gbsn"), size=16, line_gap=0.45)
    check_page(MorphologyDetector().detect(page.image), page.boxes)


def test_two_columns_read_row_by_row_with_indent() -> None:
    texts = ["第一行 left", "second row", "第三行"]
    page = render_page(texts, require_font("gbsn"), size=30, indent=[0, 200, 50])
    check_page(MorphologyDetector().detect(page.image), page.boxes)


def test_large_page_downscaled_for_detection() -> None:
    page = render_page(ZH_EN, require_font("gbsn"), size=60, width=2400)
    boxes = MorphologyDetector(max_side=800).detect(page.image)
    check_page(boxes, page.boxes)
    assert max(rect(b)[2] for b in boxes) > 1000  # boxes are in full-size coordinates


@pytest.mark.parametrize("text", ["韩国小馆", "Hello world, this is one line", "电话：15952301928", "ODM"])
def test_single_line_crop_is_one_line(text: str) -> None:
    crop = render_line(text, require_font("gkai"), size=36, margin=6)
    boxes = MorphologyDetector().detect(crop)
    assert len(boxes) == 1
    x0, y0, x1, y1 = rect(boxes[0])
    assert x1 - x0 > 0.8 * crop.shape[1] and y1 - y0 > 0.6 * crop.shape[0]


@pytest.mark.parametrize("light_on_dark", [False, True])
def test_big_bold_glyphs_are_one_line(light_on_dark: bool) -> None:
    """Strokes much wider than the stroke mask's reach show only as outlines at full size."""
    crop = render_line("我是中国人", require_font("gbsn"), size=220, margin=140)
    crop = cv2.erode(crop, np.ones((13, 13), np.uint8))  # bold: dark strokes 13 px wider
    if light_on_dark:
        crop = 255 - crop
    ink_y, ink_x = np.nonzero(crop < 128 if not light_on_dark else crop > 128)
    boxes = MorphologyDetector().detect(crop)
    assert len(boxes) == 1
    x0, y0, x1, y1 = rect(boxes[0])
    assert x0 <= ink_x.min() + 10 and x1 >= ink_x.max() - 10
    assert y0 <= ink_y.min() + 10 and y1 >= ink_y.max() - 10


def test_wide_word_gaps_stay_one_line() -> None:
    crop = render_line("Total    12.50    EUR", require_font("gbsn"), size=30)
    assert len(MorphologyDetector().detect(crop)) == 1


def test_empty_and_flat_images_give_no_lines() -> None:
    det = MorphologyDetector()
    assert det.detect(np.zeros((448, 756), np.uint8)) == []
    noisy = np.random.default_rng(0).integers(0, 8, (300, 400)).astype(np.uint8)  # dark JPEG-like noise
    assert det.detect(noisy) == []


def test_noise_pages_are_bounded() -> None:
    rng = np.random.default_rng(0)
    assert MorphologyDetector().detect(rng.integers(0, 256, (900, 1200)).astype(np.uint8)) == []
    salt = np.where(rng.random((900, 1200)) < 0.05, 0, 255).astype(np.uint8)
    assert len(MorphologyDetector(max_lines=50).detect(salt)) <= 50


def test_boxes_are_padded_inside_the_image() -> None:
    page = render_page(ZH_EN[:2], require_font("gbsn"), size=28)
    h, w = page.image.shape
    for b, t in zip(MorphologyDetector().detect(page.image), page.boxes):
        x0, y0, x1, y1 = rect(b)
        assert x0 <= t[0] and y0 <= t[1] and x1 >= t[2] and y1 >= t[3]
        assert x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h


def test_tilted_page_after_deskew_rotation() -> None:
    page = render_page(ZH_EN, require_font("gbsn"), size=28)
    tilted, _ = rotate_image(page.image, 4.0, border_value=250)
    straight, _ = rotate_image(tilted, -4.0, border_value=250)
    assert len(MorphologyDetector().detect(straight)) == len(ZH_EN)


def test_whole_image_detector_and_crop() -> None:
    img = np.arange(200, dtype=np.uint8).reshape(10, 20)
    (box,) = WholeImageDetector().detect(img)
    assert np.array_equal(crop_box(img, box), img)
    tilted = TextBox(np.array([[2.0, 2.0], [12.0, 3.0], [12.0, 8.0], [2.0, 7.0]]))
    assert crop_box(img, tilted).shape == (5, 10)


def test_screenshot_panels_buttons_and_boxes() -> None:
    """Light-on-dark title bar, dark-on-light rows, a framed input box and a coloured button."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(require_font("gbsn")), 26)
    img = np.full((400, 800, 3), 245, np.uint8)
    img[0:60] = (60, 40, 30)  # dark title bar
    img[300:360, 500:760] = (200, 120, 30)  # button
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    draw.rectangle((10, 220, 400, 280), outline=(0, 0, 0), width=2)  # input box frame
    items = [((20, 15), "设置 Settings", (255, 255, 255)), ((20, 100), "账户信息 Account info", (30, 30, 30)),
             ((30, 235), "输入框 input", (30, 30, 30)), ((520, 315), "保存 Save", (255, 255, 255))]
    truth = []
    for xy, text, colour in items:
        draw.text(xy, text, font=font, fill=colour)
        truth.append(draw.textbbox(xy, text, font=font))
    gray = np.asarray(pil.convert("L"))
    boxes = MorphologyDetector().detect(gray)
    check_page(boxes, truth)
    # the frames around the input and the button are not part of the lines
    assert rect(boxes[2])[1] > 222 and rect(boxes[3])[0] > 502


def test_rendered_two_column_page_is_read_column_by_column() -> None:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(require_font("gbsn")), 24)
    pil = Image.new("L", (1000, 520), 250)
    draw = ImageDraw.Draw(pil)
    truth = [draw.textbbox((40, 20), "双栏文档标题 Two column title", font=font)]
    draw.text((40, 20), "双栏文档标题 Two column title", font=font, fill=20)
    cols = []
    for col, x in enumerate((40, 540)):
        for i in range(6):
            text = f"第{col + 1}栏第{i + 1}行 column {col + 1} line {i + 1}"
            cols.append(draw.textbbox((x, 110 + 60 * i), text, font=font))
            draw.text((x, 110 + 60 * i), text, font=font, fill=20)
    check_page(MorphologyDetector().detect(np.asarray(pil)), truth + cols)


def test_fragments_next_to_a_line_join_it_and_lone_marks_stay() -> None:
    from ocr_engine.detection.morphology import _absorb_fragments

    line, below, above = (10, 40, 300, 20), (120, 61, 6, 6), (200, 34, 5, 4)
    lone = (500, 200, 6, 6)  # a mark far from any line is left to the recogniser
    out = _absorb_fragments([line, below, above, lone], char_h=20.0)
    assert out == [(10, 34, 300, 33), lone]
    # a piece beside (not above or below) a line, or as tall as it, is not a fragment
    side = (320, 45, 8, 8)
    assert _absorb_fragments([line, side], 20.0) == [line, side]
    assert _absorb_fragments([line, (100, 61, 15, 14)], 20.0) == [line, (100, 61, 15, 14)]


def test_descender_tails_cut_off_by_the_mask_are_no_lines_of_their_own() -> None:
    img = np.full((200, 700), 245, np.uint8)
    for y in (40, 100, 160):
        cv2.putText(img, "typography jogging quickly", (20, y), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 20, 2)
        for x in (60, 200, 380):  # loose tails under the line, as a scan's stroke mask leaves them
            cv2.rectangle(img, (x, y + 12), (x + 4, y + 16), 20, -1)
    boxes = MorphologyDetector().detect(img)
    assert len(boxes) == 3, [rect(b) for b in boxes]


def test_column_rules_are_not_text_lines() -> None:
    page = render_page(ZH_EN[:3], require_font("gbsn"), size=28, width=900)
    img = page.image.copy()
    h = img.shape[0]
    for x in (20, 880):  # thin vertical rules beside the text, the height of the page
        cv2.line(img, (x, 5), (x, h - 5), 30, 3)
    check_page(MorphologyDetector().detect(img), page.boxes)


def test_text_lines_beside_a_picture_are_not_swallowed_by_it() -> None:
    texts = ["Clean hands with soap and water", "or alcohol-based hand rub", "", "", "Thoroughly cook meat"]
    page = render_page(texts, require_font("gbsn"), size=26, width=900, left=200, line_gap=0.3)
    img = page.image.copy()
    y0, y1 = page.boxes[0][1] - 12, page.boxes[1][3] + 12
    cx, cy, r = 130, (y0 + y1) // 2, (y1 - y0) // 2
    for a in np.linspace(0, np.pi, 9)[:-1]:  # an icon: one drawing, taller than the two lines
        dx, dy = int(r * np.cos(a)), int(r * np.sin(a))
        cv2.line(img, (cx - dx, cy - dy), (cx + dx, cy + dy), 50, 5)
    cv2.circle(img, (cx, cy), r // 3, 90, -1)
    boxes = MorphologyDetector().detect(img)
    for text, truth in zip(texts, page.boxes):
        if text:
            assert max(iou(rect(b), truth) for b in boxes) >= 0.5, ([rect(b) for b in boxes], truth)


def test_a_figure_reaching_across_two_lines_joins_neither() -> None:
    """A small figure beside a paragraph, taller than one line but not two, reaching over
    the first line and half of the second: merged into either, it would make a line box
    about two lines tall (the real case: icons beside the lines of an infographic)."""
    texts = ["Avoid close contact with anyone with", "cold or flu-like symptoms", "", "Thoroughly cook meat"]
    page = render_page(texts, require_font("gbsn"), size=24, width=900, left=120, line_gap=0.25)
    img = page.image.copy()
    (_, top, _, _), (_, top2, _, bottom2) = page.boxes[0], page.boxes[1]
    bottom = top2 + int(0.6 * (bottom2 - top2))
    x = 120 - 20 - 22  # a gap of about one character before the text
    cv2.circle(img, (x + 11, top + 8), 8, 40, -1)                     # head
    cv2.rectangle(img, (x + 1, top + 14), (x + 21, bottom), 40, 3)    # body, joined to the head
    boxes = MorphologyDetector().detect(img)
    for text, truth in zip(texts, page.boxes):
        if text:
            best = max(boxes, key=lambda b: iou(rect(b), truth))
            assert iou(rect(best), truth) >= 0.5, ([rect(b) for b in boxes], truth)
            assert rect(best)[0] > x + 21, (rect(best), x)  # the figure is not in the line's box
