"""OcrEngine end to end with the toy model: boxes, characters, 180°, errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine.cli import main as cli_main
from ocr_engine.config import OcrConfig
from ocr_engine.engine import MIN_SHORT_CONFIDENCE, OcrEngine, recognizer_for
from ocr_engine.errors import ImageTooLarge, UnsupportedImageType
from ocr_engine.preprocess import rotate_image
from ocr_engine.schema import OcrResult
from support.toy_model import draw_line, page_of_lines


@pytest.fixture(scope="module")
def engine(toy_model_path: Path) -> OcrEngine:
    return OcrEngine.from_config(OcrConfig(model_path=toy_model_path, min_line_confidence=0.5))


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def test_page_lines_in_order_with_boxes(engine: OcrEngine) -> None:
    res = engine.run(png(page_of_lines(["a.a.bbb", "bb.a", "a.b.a.b"])))
    assert [l.text for l in res.lines] == ["aab", "ba", "abab"]
    assert res.text == "aab\nba\nabab"
    assert res.height == 204
    for i, line in enumerate(res.lines):
        ys = [p[1] for p in line.box]
        assert min(ys) <= 30 + 48 * i + 2 and max(ys) >= 30 + 48 * i + 30
        xs = [c.x for c in line.chars]
        assert xs == sorted(xs) and 40 <= xs[0] < 60
    assert set(res.timings_ms) >= {"decode", "preprocess", "detect", "recognize", "total"}
    assert res.model.name == "toy_ctc"


def test_characters_land_on_their_marks(engine: OcrEngine) -> None:
    res = engine.run(png(page_of_lines(["a...b"])))
    a, b = res.lines[0].chars
    assert a.x == pytest.approx(40 + 6, abs=5) and b.x == pytest.approx(40 + 4 * 12 + 6, abs=5)
    assert a.y == pytest.approx(46, abs=5)


def test_upside_down_line_is_read(toy_model_path: Path) -> None:
    cfg = OcrConfig(model_path=toy_model_path, detector="whole")
    eng = OcrEngine(cfg, recognizer=recognizer_for(cfg, rotate_below=0.8))
    line = draw_line("a.a.bbb")
    res = eng.run(png(cv2.rotate(line, cv2.ROTATE_180)))
    assert res.text == "aab"
    (found,) = res.lines
    # The reading direction runs right to left in the image: the box starts at the right.
    assert found.box[0] == [line.shape[1], line.shape[0]] and found.box[2] == [0.0, 0.0]
    xs = [c.x for c in found.chars]
    assert xs == sorted(xs, reverse=True)


def test_tilted_page_boxes_map_back(engine: OcrEngine) -> None:
    page = page_of_lines(["b.a.a.a.a.a.a.a.b", "b.b.b.b.b.b.b.b.b", "b.a.a.a.a.a.a.b"])
    tilted, m = rotate_image(page, 3.0, border_value=255)
    res = engine.run(png(tilted))
    assert len(res.lines) == 3
    # the first line's left end, rotated into the tilted frame, lies inside its box
    x, y = m @ np.array([42.0, 46.0, 1.0])
    box = np.array(res.lines[0].box, np.float32)
    assert cv2.pointPolygonTest(box, (float(x), float(y)), False) >= 0


def test_blank_and_black_pages_have_no_lines(engine: OcrEngine) -> None:
    assert engine.run(png(np.zeros((448, 756), np.uint8))).lines == []
    assert engine.run(png(np.full((300, 300), 255, np.uint8))).lines == []


def test_run_array_accepts_bgr(engine: OcrEngine) -> None:
    bgr = cv2.cvtColor(page_of_lines(["ab"]), cv2.COLOR_GRAY2BGR)
    assert engine.run_array(bgr).text == "ab"


def test_errors_are_typed(engine: OcrEngine, toy_model_path: Path) -> None:
    with pytest.raises(UnsupportedImageType):
        engine.run(b"not an image")
    small = OcrEngine.from_config(OcrConfig(model_path=toy_model_path).replace(
        limits=OcrConfig().limits.__class__(max_pixels=100)))
    with pytest.raises(ImageTooLarge):
        small.run(png(page_of_lines(["a"])))


def test_result_round_trips(engine: OcrEngine) -> None:
    res = engine.run(png(page_of_lines(["a.b"])))
    assert OcrResult.from_json(res.to_json()) == res


def test_model_info(engine: OcrEngine) -> None:
    info = engine.model_info()
    assert info["name"] == "toy_ctc" and info["detector"] == "opencv"


def test_whole_image_detector(toy_model_path: Path) -> None:
    eng = OcrEngine.from_config(OcrConfig(model_path=toy_model_path, detector="whole"))
    res = eng.run(png(draw_line("a.b.b")))
    assert res.text == "abb" and res.lines[0].box[0] == [0.0, 0.0]


def test_cli_text_and_json(tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.png").write_bytes(png(page_of_lines(["a.b"])))
    (tmp_path / "b.png").write_bytes(png(page_of_lines(["bb.a"])))
    (tmp_path / "notes.txt").write_text("ignored")
    assert cli_main(["--model", str(toy_model_path), str(tmp_path / "a.png")]) == 0
    assert capsys.readouterr().out == "ab\n"
    assert cli_main(["--json", "--model", str(toy_model_path), str(tmp_path)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["ab", "ba"] and rows[0]["file"].endswith("a.png")


def test_cli_bad_file_sets_exit_status(tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    assert cli_main(["--model", str(toy_model_path), str(bad)]) == 1
    assert "bad.jpg" in capsys.readouterr().err


def test_cli_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--model", str(tmp_path / "none.onnx"), "x.png"]) == 2
    assert "not found" in capsys.readouterr().err


def test_upside_down_page_keeps_reading_order(toy_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_engine.recognition import LineResult

    eng = OcrEngine.from_config(OcrConfig(model_path=toy_model_path))
    page = page_of_lines(["a.b", "bb.a", "b.a.b"])
    calls: list[int] = []

    def fake(crops: list[np.ndarray], one_page: bool = False) -> list[LineResult]:
        calls.append(len(crops))
        if len(calls) == 1:
            # as found: every line reads turned 180° (the detector finds them top-down, the
            # page's last line first)
            return [LineResult(t, 0.95, (), rotated_180=True) for t in ("first", "second", "third")]
        # the page turned the right way up: its lines read upright, top-down
        return [LineResult(t, 0.97, ()) for t in ("third", "second", "first")]

    monkeypatch.setattr(eng.recognizer, "recognize", fake)
    res = eng.run_array(cv2.rotate(page, cv2.ROTATE_180))
    assert [l.text for l in res.lines] == ["third", "second", "first"]
    assert calls == [3, 3] and "upside_down" in res.timings_ms  # read again the right way up
    # boxes mapped back into the image as given: the first line read is at its bottom
    assert res.lines[0].box[0][1] > res.lines[-1].box[0][1]


def test_run_array_composites_alpha_and_scales_16_bit(engine: OcrEngine) -> None:
    page = page_of_lines(["a.b"])
    bgra = np.zeros((*page.shape, 4), np.uint8)  # transparent black...
    bgra[..., 3] = 255 - page  # ...with opaque ink where the page is dark
    assert engine.run_array(bgra).text == "ab"
    assert engine.run_array(page.astype(np.uint16) * 257).text == "ab"


def test_short_and_punctuation_only_readings_need_more_to_be_kept(engine: OcrEngine) -> None:
    from ocr_engine.recognition import LineResult

    def keep(text: str, conf: float) -> bool:
        return engine._keep(LineResult(text, conf, ()))

    # min_line_confidence 0.5 (fixture) and MIN_SHORT_CONFIDENCE 0.7
    assert MIN_SHORT_CONFIDENCE == 0.7
    assert keep("abc", 0.55) and not keep("abc", 0.45)
    assert not keep("a", 0.6) and not keep("中文", 0.65) and keep("西", 0.9) and keep("3 1", 0.72)
    assert not keep("（ ）", 0.99) and not keep("——", 0.99) and not keep("   ", 1.0)


def test_a_bad_direction_is_invalid_input(engine: OcrEngine) -> None:
    from ocr_engine.errors import InvalidInput

    with pytest.raises(InvalidInput, match="direction must be one of auto, horizontal, vertical, got 'up'"):
        engine.run(png(page_of_lines(["a.b"])), direction="up")
    assert engine.run(png(page_of_lines(["a.b"])), direction="horizontal").text == "ab"


def test_the_engine_is_built_from_the_config_and_the_named_constants(toy_model_path: Path, tmp_path: Path) -> None:
    from ocr_engine.config import LM_FILE
    from ocr_engine.engine import DETECT_MAX_SIDE
    from ocr_engine.orientation import ROTATE_BELOW
    from ocr_engine.recognition.recognizer import DENSE_BELOW

    eng = OcrEngine(OcrConfig(model_path=toy_model_path, text_direction="vertical"))
    assert (eng.detector.max_side, eng.detector.direction) == (DETECT_MAX_SIDE, "vertical")
    assert (eng.recognizer.rotate_below, eng.recognizer.dense_below) == (ROTATE_BELOW, DENSE_BELOW)
    assert eng.recognizer.lm is None and eng.model_info()["language_model"] is False  # no LM beside the toy
    tuned = recognizer_for(OcrConfig(model_path=toy_model_path, threads=2), rotate_below=0.0, max_batch=3)
    assert (tuned.rotate_below, tuned.max_batch, tuned.dense_below) == (0.0, 3, DENSE_BELOW)
    (tmp_path / LM_FILE).write_bytes(b"not read when the LM is off")
    off = OcrConfig(model_path=toy_model_path, lm_path=tmp_path / LM_FILE, lm=False)
    assert recognizer_for(off).lm is None
