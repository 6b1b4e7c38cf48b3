"""The learned (DB) line finder: map -> boxes, the model contract, the per-image choice, the
engine's detector setting. A hand-built toy model (tests/support/toy_db.py) marks dark pixels
as text; the real model's own test is in tests/integration/test_learned_detector_model.py."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine.config import DETECTOR_FILES, OcrConfig
from ocr_engine.detection import TextBox
from ocr_engine.detection.choice import DetectorChoice, flat_share, looks_like_document
from ocr_engine.detection.learned import DbSession, DbSettings, LearnedDetector, db_boxes, db_input, in_reading_order
from ocr_engine.engine import OcrEngine, detectors_for
from ocr_engine.errors import ConfigError, InvalidInput, ModelError
from support.toy_db import build_toy_db
from support.toy_model import draw_line


@pytest.fixture(scope="module")
def toy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_toy_db(tmp_path_factory.mktemp("db") / "toy_db.onnx")


def _bar_map(shape, rect, value=0.9, angle=0.0):
    prob = np.zeros(shape, np.float32)
    (x, y, w, h) = rect
    pts = cv2.boxPoints(((x + w / 2, y + h / 2), (w, h), angle)).astype(np.int32)
    cv2.fillPoly(prob, [pts], value)
    return prob


def test_one_bar_is_one_line_grown_back_and_ordered_along_it():
    boxes = db_boxes(_bar_map((80, 200), (20, 30, 160, 10)), (160, 400))  # page twice the map
    assert len(boxes) == 1
    p = boxes[0].points
    assert not boxes[0].vertical
    assert p[0, 0] < p[1, 0] and p[0, 1] < p[3, 1]  # TL, TR, BR, BL
    # grown by area * 1.5 / perimeter (~7 px of the map) on every side, then scaled x2
    assert 20 < p[0, 0] < 40 and 320 < p[1, 0] < 380
    assert 40 < p[0, 1] < 60 and 90 < p[3, 1] < 110


def test_tilted_bar_keeps_its_angle():
    (box,) = db_boxes(_bar_map((200, 200), (30, 90, 140, 12), angle=-20), (200, 200))
    top = box.points[1] - box.points[0]
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(-20, abs=2)
    assert box.points[0, 0] < box.points[1, 0]


def test_tall_bar_is_a_column_top_edge_first():
    (box,) = db_boxes(_bar_map((200, 100), (40, 20, 14, 150)), (200, 100))
    assert box.vertical
    assert box.width < box.height and box.points[0, 1] < box.points[3, 1]
    line = box.as_turned_line()
    assert not line.vertical and line.width > line.height


def test_unsure_and_tiny_regions_are_dropped():
    prob = _bar_map((100, 200), (20, 20, 150, 10), value=0.5)  # below the box threshold
    prob[60:62, 20:170] = 0.95  # thinner than MIN_SIDE
    assert db_boxes(prob, (100, 200)) == []
    assert len(db_boxes(prob, (100, 200), DbSettings(box_thresh=0.4))) == 1


def test_input_is_scaled_to_multiples_of_32_and_normalised():
    x, sx, sy = db_input(np.full((1000, 700, 3), 255, np.uint8), DbSettings(), max_side=960)
    assert x.shape == (1, 3, 960, 672) and x.dtype == np.float32
    assert sx == pytest.approx(672 / 700) and sy == pytest.approx(0.96)
    assert x[0, :, 0, 0] == pytest.approx([(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225], rel=1e-5)
    assert db_input(np.zeros((10, 10), np.uint8), DbSettings())[0].shape == (1, 3, 32, 32)


def test_settings_come_from_the_model_metadata(tmp_path: Path):
    meta = {"db_thresh": "0.25", "db_box_thresh": "0.5", "db_unclip": "1.3", "db_mean": "0.5,0.5,0.5",
            "db_std": "0.5,0.5,0.5", "model_name": "toy"}
    session = DbSession(build_toy_db(tmp_path / "m.onnx", metadata=meta))
    assert session.settings == DbSettings((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 0.25, 0.5, 1.3)
    assert session.name == "toy"
    with pytest.raises(ModelError, match="three numbers"):
        DbSettings.from_metadata({"db_mean": "0.5,0.5"})
    with pytest.raises(ModelError):
        DbSettings.from_metadata({"db_thresh": "high"})


def test_contract_is_checked(tmp_path: Path):
    with pytest.raises(ModelError, match="not found"):
        DbSession(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="does not load"):
        DbSession(tmp_path / "junk.onnx")
    with pytest.raises(ModelError, match=r"\[N, 3, H, W\]"):
        DbSession(build_toy_db(tmp_path / "gray.onnx", channels=1))


def test_toy_model_finds_bars_in_reading_order(toy_db: Path):
    page = np.full((300, 400), 255, np.uint8)
    page[200:215, 30:370] = 0
    page[40:55, 30:370] = 0
    page[120:135, 30:200] = 0
    boxes = LearnedDetector(DbSession(toy_db)).detect(page)
    assert [round(float(b.points[:, 1].mean()) / 10) for b in boxes] == [5, 13, 21]
    assert LearnedDetector(DbSession(toy_db)).detect(np.full((3, 50), 0, np.uint8)) == []


def test_columns_read_right_to_left():
    cols = [TextBox.from_rect(x, 10, 12, 80, vertical=True) for x in (10, 50, 90)]
    assert [b.points[0, 0] for b in in_reading_order(cols)] == [90, 50, 10]
    rows = [TextBox.from_rect(10, y, 80, 12) for y in (50, 10)]
    assert [b.points[0, 1] for b in in_reading_order(rows)] == [10, 50]


def test_horizontal_direction_turns_columns_into_lines(toy_db: Path):
    page = np.full((300, 200), 255, np.uint8)
    page[30:270, 90:104] = 0
    auto = LearnedDetector(DbSession(toy_db))
    (col,) = auto.detect(page)
    assert col.vertical and auto.columns_may_be_lines
    horizontal = auto.with_direction("horizontal")
    (line,) = horizontal.detect(page)
    assert not line.vertical and line.width > line.height and not horizontal.columns_may_be_lines


def test_flat_background_tells_documents_from_photos():
    rng = np.random.default_rng(0)
    page = np.full((600, 400), 245, np.uint8)
    for y in range(40, 560, 30):
        page[y:y + 12, 30:370] = 20
    yy, xx = np.mgrid[0:600, 0:400]
    light = (60 + 0.2 * xx + 0.15 * yy)[..., None]  # a lighting gradient over the scene
    photo = np.clip(light + rng.normal(0, 12, (600, 400, 3)), 0, 255).astype(np.uint8)
    assert flat_share(page) > 0.6 and looks_like_document(page)
    assert flat_share(photo) < 0.3 and not looks_like_document(photo)

    class Named:
        def __init__(self, name):
            self.name = name

    choice = DetectorChoice(Named("doc"), Named("photo"))
    assert choice.pick(page).name == "doc" and choice.pick(photo).name == "photo"


def test_engine_offers_the_detectors_its_config_finds(toy_model_path: Path, toy_db: Path, tmp_path: Path):
    cfg = OcrConfig(model_path=toy_model_path, detector_model_path=toy_db)
    assert sorted(detectors_for(cfg)) == ["auto", "learned", "opencv"]
    missing = tmp_path / "empty"
    missing.mkdir()
    with pytest.raises(ConfigError, match="OCR_DETECTOR_MODEL_PATH does not exist"):
        OcrConfig(model_path=toy_model_path, detector_model_path=missing / "x.onnx").resolve_detector_model_path()
    with pytest.raises(ConfigError):
        OcrConfig(detector="sideways")
    env = OcrConfig.from_env({"OCR_DETECTOR": "Learned", "OCR_DETECTOR_MODEL_PATH": str(toy_db)})
    assert env.detector == "learned" and env.detector_model_path == toy_db
    assert DETECTOR_FILES[-1] == "ppocrv6_tiny_det.onnx"


def test_engine_reads_with_the_detector_asked_for(toy_model_path: Path, toy_db: Path):
    engine = OcrEngine(OcrConfig(model_path=toy_model_path, detector_model_path=toy_db, min_line_confidence=0.5))
    page = np.full((120, 400), 255, np.uint8)
    crop = draw_line("aaa...bbb...aaa", pad_frames=0)
    page[40:40 + crop.shape[0], 40:40 + crop.shape[1]] = crop
    opencv = engine.run_array(page)
    assert opencv.detector == "opencv" and [l.text for l in opencv.lines] == ["aba"]
    learned = engine.run_array(page, detector="learned")
    assert learned.detector == "learned" and learned.lines  # the toy map marks each dark mark
    assert all(30 <= p[0] <= 400 - 30 and 30 <= p[1] <= 80 for l in learned.lines for p in l.box)
    assert engine.run_array(page, detector="auto").detector == "opencv"  # a flat white page
    with pytest.raises(InvalidInput, match="detector must be one of"):
        engine.run_array(page, detector="whole")
    only_opencv = OcrEngine(OcrConfig(model_path=toy_model_path), detector=engine.detectors["opencv"])
    with pytest.raises(InvalidInput, match="not available"):
        only_opencv.run_array(page, detector="learned")
    assert engine.model_info()["detectors"] == ["auto", "learned", "opencv"]


def test_two_columns_of_lines_are_read_column_by_column():
    """A gutter narrower than the XY cut's own (1.5 line heights) still splits the columns."""
    left = [TextBox.from_rect(40, 40 + 30 * i, 300, 20) for i in range(12)]
    right = [TextBox.from_rect(360, 40 + 30 * i, 300, 20) for i in range(12)]
    rows = [b for pair in zip(left, right) for b in pair]  # as found: row by row
    ordered = in_reading_order(rows, (440, 700))
    assert [b.points[0, 0] for b in ordered] == [40.0] * 12 + [360.0] * 12
    assert [b.points[0, 0] for b in in_reading_order(rows)][:2] == [40.0, 360.0]  # without the page: rows
