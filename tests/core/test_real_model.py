"""The recogniser end to end with the project's trained model, on lines rendered with
fonts the model never saw in training. Skipped until models/weights/crnn_zh_en.onnx exists."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from render import render_line, require_font

from ocr_service.evaluation.metrics import cer, normalize
from ocr_service.recognition import Recognizer

REPO = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("OCR_TEST_MODEL", REPO / "models" / "weights" / "crnn_zh_en.onnx"))

pytestmark = pytest.mark.skipif(not MODEL.is_file(), reason=f"trained model not present: {MODEL}")

LINES = [
    "识别中文和英文",
    "上海市浦东新区世纪大道100号",
    "Hello World 2024",
    "Total: 356.00 元",
    "纯天然植物精华",
    "Invoice number 7731",
    "今天天气很好",
    "The quick brown fox",
]


@pytest.fixture(scope="module")
def rec() -> Recognizer:
    return Recognizer(MODEL, intra_op_threads=1)


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    font = require_font("gbsn")
    return [render_line(t, font, size=34, margin=8) for t in LINES]


def test_contract(rec: Recognizer, crops: list[np.ndarray]) -> None:
    assert rec.meta.input_height > 0 and len(rec.meta.charset) > 100
    assert len(set(rec.meta.charset)) == len(rec.meta.charset)
    res = rec.recognize_one(crops[0])
    assert 0.0 <= res.confidence <= 1.0
    assert all(0 <= c.x <= crops[0].shape[1] for c in res.chars)


@pytest.mark.slow  # a quality bar for the shipped model; run with -m slow
def test_rendered_lines_are_read(rec: Recognizer, crops: list[np.ndarray]) -> None:
    preds = [r.text for r in rec.recognize(crops)]
    rates = [cer(t, p) for t, p in zip(LINES, preds)]
    assert float(np.mean(rates)) <= 0.25, list(zip(LINES, preds))


def test_batched_equals_single(rec: Recognizer, crops: list[np.ndarray]) -> None:
    batched = [r.text for r in rec.recognize(crops)]
    assert batched == [rec.recognize_one(c).text for c in crops]


def test_upside_down_lines_are_read(crops: list[np.ndarray]) -> None:
    plain = Recognizer(MODEL, intra_op_threads=1)
    smart = Recognizer(MODEL, intra_op_threads=1, rotate_below=0.9)
    upright = [r.text for r in plain.recognize(crops)]
    good = [i for i, (t, p) in enumerate(zip(LINES, upright)) if normalize(t) == normalize(p)]
    if len(good) < 3:
        pytest.skip("the model reads too few upright test lines to judge the 180-degree case")
    turned = smart.recognize([cv2.rotate(crops[i], cv2.ROTATE_180) for i in good])
    ok = [r.rotated_180 and r.text == upright[i] for i, r in zip(good, turned)]
    assert sum(ok) >= 0.8 * len(good), [(upright[i], r.text, r.rotated_180) for i, r in zip(good, turned)]
