"""Vertical text: columns found and ordered, told apart from horizontal pages, read as lines."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine.config import ConfigError, OcrConfig
from ocr_engine.detection import MorphologyDetector
from ocr_engine.detection.vertical import column_to_line, find_columns, line_x_to_column_y, looks_vertical
from ocr_engine.engine import OcrEngine
from ocr_eval.metrics import cer
from support.render import render_page, require_font

REAL_MODEL = Path(__file__).resolve().parents[3] / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.onnx"
COLUMNS = ["上海市浦东新区", "每瓶二十元起订", "适合所有肤质的", "产品信息参数表"]


def vertical_page(columns: list[str], size: int = 40, gap: float = 0.6, rules: bool = False) -> np.ndarray:
    """Columns drawn right to left, one character under the other (held-out font)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(require_font("gbsn")), size)
    pitch_x, pitch_y = int(size * (1 + gap)), int(size * 1.15)
    width = 40 + pitch_x * len(columns)
    img = Image.new("L", (width, 40 + pitch_y * max(map(len, columns))), 250)
    draw = ImageDraw.Draw(img)
    for c, text in enumerate(columns):
        x = width - 20 - pitch_x * (c + 1) + int(size * gap / 2)
        for r, ch in enumerate(text):
            draw.text((x, 20 + r * pitch_y), ch, font=font, fill=20)
        if rules:
            xr = x - int(size * gap / 2) + 2
            draw.line([(xr, 10), (xr, img.height - 10)], fill=60, width=2)
    return np.asarray(img).copy()


def test_columns_are_found_and_read_right_to_left() -> None:
    page = vertical_page(COLUMNS, rules=True)
    boxes = MorphologyDetector().detect(page)
    assert len(boxes) == len(COLUMNS) and all(b.vertical for b in boxes)
    centres = [b.points[:, 0].mean() for b in boxes]
    assert centres == sorted(centres, reverse=True)  # right to left
    for b, text in zip(boxes, COLUMNS):
        h = b.points[:, 1].max() - b.points[:, 1].min()
        assert h >= 0.9 * len(text) * 40 and b.width < 1.5 * 40


def test_horizontal_pages_stay_horizontal() -> None:
    texts = ["纯臻营养护发素 产品信息", "Invoice No. 2024-0117, total 356.00", "每瓶22元，1000瓶起订"]
    for gap in (1.0, 0.3):
        page = render_page(texts, require_font("gbsn"), size=28, line_gap=gap)
        boxes = MorphologyDetector().detect(page.image)
        assert len(boxes) == 3 and not any(b.vertical for b in boxes)
    # spaced-out marks stacked in columns are not CJK columns either
    marks = np.full((300, 400), 250, np.uint8)
    for y in range(20, 280, 60):
        for x in range(20, 380, 40):
            cv2.rectangle(marks, (x, y), (x + 8, y + 40), 20, -1)
    assert not any(b.vertical for b in MorphologyDetector().detect(marks))


def test_direction_can_be_forced() -> None:
    page = vertical_page(COLUMNS)
    assert not any(b.vertical for b in MorphologyDetector(direction="horizontal").detect(page))
    one = vertical_page(["上海市浦东新区"], gap=0.2)
    assert [b.vertical for b in MorphologyDetector(direction="vertical").detect(one)] == [True]
    assert OcrConfig.from_env({"OCR_TEXT_DIRECTION": "Vertical"}).text_direction == "vertical"
    with pytest.raises(ConfigError):
        OcrConfig(text_direction="diagonal")


def test_looks_vertical_needs_square_cells_and_tight_columns() -> None:
    page = vertical_page(COLUMNS)
    cols = find_columns(page)
    assert len(cols) == 4
    assert looks_vertical(page, [(0, 0, page.shape[1], 40)], cols)
    assert not looks_vertical(page, [], [])


def test_a_column_becomes_a_line_of_its_characters() -> None:
    page = vertical_page(["二十三日旦"], rules=True)
    box = MorphologyDetector(direction="vertical").detect(page)[0]
    x0, y0 = box.points.min(axis=0).astype(int)
    x1, y1 = box.points.max(axis=0).astype(int)
    line, cells = column_to_line(page[y0:y1, x0:x1])
    assert len(cells) == 5  # 二 and 三 (strokes with gaps) and 旦 stay whole
    assert line.shape[1] > line.shape[0] * 4
    ys = [line_x_to_column_y((c.x0 + c.x1) / 2, cells) for c in cells]
    assert ys == sorted(ys) and all(c.y0 <= y <= c.y1 for c, y in zip(cells, ys))


def test_touching_characters_are_cut_apart() -> None:
    col = np.full((200, 44), 250, np.uint8)
    for y in range(10, 190, 45):  # four square "characters", each touching the next
        cv2.rectangle(col, (4, y), (40, y + 44), 20, 3)
        cv2.line(col, (22, y), (22, y + 45), 20, 3)
    line, cells = column_to_line(col)
    assert len(cells) == 4


def test_the_engine_reads_a_vertical_page() -> None:
    if not REAL_MODEL.is_file():
        pytest.skip("model not built yet")
    engine = OcrEngine.from_config(OcrConfig(model_path=REAL_MODEL))
    page = vertical_page(COLUMNS, rules=True)
    res = engine.run(cv2.imencode(".png", page)[1].tobytes())
    assert len(res.lines) == len(COLUMNS)
    got = [l.text for l in res.lines]
    assert sum(cer(t, g) for t, g in zip(COLUMNS, got)) / len(COLUMNS) <= 0.25, got
    for line in res.lines:  # characters run down the column
        ys = [c.y for c in line.chars]
        assert ys == sorted(ys)
        xs = np.array(line.box)[:, 0]
        assert all(xs.min() <= c.x <= xs.max() for c in line.chars)


def test_hostile_columns_give_bounded_lines() -> None:
    rng = np.random.default_rng(0)
    stripes = np.full((20000, 30), 255, np.uint8)
    stripes[::3] = 0
    noise = (rng.random((20000, 30)) * 255).astype(np.uint8)
    for col in (stripes, noise):
        line, cells = column_to_line(col)
        assert line.shape[0] <= 2 * col.shape[1] and line.size <= 4 * col.size


def test_the_engine_takes_a_direction_per_image(toy_model_path: Path) -> None:
    from ocr_engine.errors import InvalidInput

    engine = OcrEngine.from_config(OcrConfig(model_path=toy_model_path))
    page = cv2.imencode(".png", vertical_page(COLUMNS))[1].tobytes()
    assert engine.detector_for("horizontal").direction == "horizontal"
    assert engine.detector_for(None) is engine.detector
    with pytest.raises(InvalidInput, match="direction"):
        engine.run(page, direction="diagonal")
    engine.run(page, direction="horizontal")  # runs; the toy model reads nothing useful
