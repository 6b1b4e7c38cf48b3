"""Line-confidence calibration: the fit, ECE, the file, and the engine reporting it (toy model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine import orientation
from ocr_engine.config import CALIBRATION_FILE, WEIGHTS_DIR, OcrConfig
from ocr_engine.engine import OcrEngine, recognizer_for
from ocr_engine.errors import ConfigError, ModelError
from ocr_engine.recognition.calibration import (
    Calibration,
    calibration_for,
    expected_calibration_error,
    fit_calibration,
    reliability_table,
    surprisal,
)
from support.toy_model import draw_line, page_of_lines


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def toy_calibration(a: float, b: float, eps: float = 0.5, version: str = "0.0.1") -> Calibration:
    return Calibration(a, b, eps, "toy_ctc", version)


@pytest.fixture()
def calibrated_model(toy_model_path: Path, tmp_path: Path) -> Path:
    """The toy model in a folder of its own, with a calibration fitted for it beside it."""
    model = tmp_path / "toy.onnx"
    shutil.copy(toy_model_path, model)
    toy_calibration(1.0, -2.0).save(tmp_path / CALIBRATION_FILE)
    return model


# ---------------------------------------------------------------- the fit and the measure
def test_surprisal_is_the_sum_of_minus_log_p() -> None:
    assert surprisal([0.5, 0.25]) == pytest.approx(np.log(2) + np.log(4))
    assert surprisal([0.0]) == pytest.approx(-np.log(1e-4))  # a 0 is taken as 1e-4, not infinite
    assert surprisal([]) == 0.0 and surprisal([1.0, 1.0]) == 0.0


def test_the_fit_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(7)
    truth = Calibration(1.5, -2.5, 0.3, "m", "1")
    s = np.concatenate([rng.exponential(0.3, 3000), rng.exponential(4.0, 3000)])
    right = rng.random(s.size) < truth.probabilities(s)
    fit = fit_calibration(s, right, model_name="m", model_version="1")
    grid = np.linspace(0.0, 15.0, 301)
    assert np.abs(fit.probabilities(grid) - truth.probabilities(grid)).max() < 0.04
    assert fit.b < 0 and (fit.model_name, fit.model_version) == ("m", "1")
    # fresh lines of the same kind: the fitted probabilities are calibrated, the raw-like score is not
    s2 = rng.exponential(2.0, 4000)
    right2 = rng.random(s2.size) < truth.probabilities(s2)
    assert expected_calibration_error(fit.probabilities(s2), right2) < 0.025
    assert expected_calibration_error(np.exp(-s2 / 20), right2) > 0.1


def test_the_fit_needs_both_outcomes() -> None:
    with pytest.raises(ValueError, match="both right and wrong"):
        fit_calibration([0.1, 2.0], [True, True], model_name="m", model_version="1")
    with pytest.raises(ValueError):
        fit_calibration([0.1], [True, False], model_name="m", model_version="1")


def test_ece_and_reliability_on_a_known_case() -> None:
    p = [0.05, 0.1, 0.5, 0.55, 0.95, 1.0]
    y = [False, False, True, False, True, True]
    # bins of width 1/15: 0.05 -> 0, 0.1 -> 1, 0.5 -> 7, 0.55 -> 8, 0.95 and 1.0 -> 14
    expected = (0.05 + 0.1 + 0.5 + 0.55 + 2 * abs(0.975 - 1.0)) / 6
    assert expected_calibration_error(p, y) == pytest.approx(expected)
    assert expected_calibration_error(p, y, bins=1) == pytest.approx(abs(np.mean(p) - 0.5))
    assert expected_calibration_error([], []) == 0.0
    table = reliability_table(p, y)
    assert [(round(b.lo * 15), b.n, b.accuracy) for b in table] == [(0, 1, 0.0), (1, 1, 0.0), (7, 1, 1.0),
                                                                      (8, 1, 0.0), (14, 2, 1.0)]
    assert table[-1].confidence == pytest.approx(0.975) and table[-1].hi == pytest.approx(1.0)


# ---------------------------------------------------------------- the file
def test_the_file_round_trips(tmp_path: Path) -> None:
    cal = Calibration(2.1, -3.9, 0.63, "crnn_zh_en", "0.6.1", {"lines": 1782})
    back = Calibration.load(cal.save(tmp_path / "c.json"))
    assert back == cal and back.info == {"lines": 1782}
    assert back.probability([0.9, 0.99]) == cal.probability([0.9, 0.99])
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["model_version"] == "0.6.1"


@pytest.mark.parametrize("text", ["not json", "[]", '{"kind": "other", "format": 1}',
                                  '{"kind": "line-surprisal-logistic", "format": 1, "a": 1, "b": -1, "eps": 0, '
                                  '"model_name": "m", "model_version": "1"}',
                                  '{"kind": "line-surprisal-logistic", "format": 2, "a": 1, "b": -1, "eps": 1, '
                                  '"model_name": "m", "model_version": "1"}'])
def test_a_bad_file_is_a_model_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "c.json").write_text(text, encoding="utf-8")
    with pytest.raises(ModelError, match="calibration"):
        Calibration.load(tmp_path / "c.json")


def test_a_file_for_another_model_version_is_not_used(tmp_path: Path) -> None:
    path = Calibration(2.0, -4.0, 0.6, "crnn_zh_en", "0.6.1").save(tmp_path / CALIBRATION_FILE)
    cal, note = calibration_for(path, "crnn_zh_en", "0.6.1")
    assert cal is not None and "calibrated" in note
    cal, note = calibration_for(path, "crnn_zh_en", "0.7.0")
    assert cal is None and note.startswith("raw confidence") and "0.6.1" in note and "0.7.0" in note
    assert calibration_for(path, "other", "0.6.1")[0] is None
    assert calibration_for(None, "crnn_zh_en", "0.6.1") == (None, "raw confidence: no calibration file beside the model")


def test_the_path_comes_from_the_config_or_beside_the_model(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    cfg = OcrConfig.from_env({"OCR_CALIBRATION_PATH": str(tmp_path / "mine.json")})
    assert cfg.calibration_path == tmp_path / "mine.json"
    with pytest.raises(ConfigError, match="OCR_CALIBRATION_PATH"):
        cfg.resolve_calibration_path(model)
    assert OcrConfig().resolve_calibration_path(model) is None
    (tmp_path / CALIBRATION_FILE).write_text("{}", encoding="utf-8")
    assert OcrConfig().resolve_calibration_path(model) == tmp_path / CALIBRATION_FILE
    (tmp_path / "mine.json").write_text("{}", encoding="utf-8")
    assert cfg.resolve_calibration_path(model) == tmp_path / "mine.json"


def test_the_shipped_calibration_is_for_the_shipped_model() -> None:
    path = WEIGHTS_DIR / CALIBRATION_FILE
    model = WEIGHTS_DIR / "crnn_zh_en.int8.onnx"
    if not (path.is_file() and model.is_file()):
        pytest.skip("the shipped model or its calibration is not installed")
    from ocr_engine.recognition.session import ModelSession

    meta = ModelSession(model).meta
    cal, note = calibration_for(path, meta.model_name, meta.model_version)
    assert cal is not None, note
    assert cal.b < 0  # more surprise, less chance of being right
    assert cal.info["ece_held_out_calibrated"] <= 0.03 and cal.info["ece_dev_calibrated"] <= 0.03
    # a line read with certainty is very likely right; one with two weak characters less likely than not
    assert cal.probability([0.999] * 30) > 0.9 > 0.5 > cal.probability([0.999] * 28 + [0.3, 0.4])


# ---------------------------------------------------------------- the engine
def test_the_engine_reports_calibrated_confidence(calibrated_model: Path, toy_model_path: Path) -> None:
    page = png(page_of_lines(["a.b.b", "b.a.ca", "a.a.b"]))
    raw_engine = OcrEngine(OcrConfig(model_path=toy_model_path))
    engine = OcrEngine(OcrConfig(model_path=calibrated_model))
    raw, res = raw_engine.run(page), engine.run(page)
    cal = toy_calibration(1.0, -2.0)
    assert engine.calibration == cal
    assert [l.text for l in res.lines] == [l.text for l in raw.lines] and len(res.lines) == 3
    for got, was in zip(res.lines, raw.lines):
        assert got.box == was.box and got.chars == was.chars  # characters keep the model's probabilities
        assert was.confidence == pytest.approx(np.mean([c.confidence for c in was.chars]), abs=1e-4)
        assert got.confidence == round(cal.probability([c.confidence for c in got.chars]), 4)
        assert got.confidence != was.confidence
    info = engine.model_info()
    assert info["confidence"] == "calibrated" and CALIBRATION_FILE in info["calibration"]
    assert raw_engine.model_info()["confidence"] == "raw"
    assert "no calibration file" in raw_engine.model_info()["calibration"]


def test_a_calibration_for_another_version_leaves_confidence_raw(toy_model_path: Path, tmp_path: Path) -> None:
    path = toy_calibration(1.0, -2.0, version="9.9.9").save(tmp_path / "c.json")
    engine = OcrEngine(OcrConfig(model_path=toy_model_path, calibration_path=path))
    res = engine.run(png(page_of_lines(["a.b.b"])))
    assert engine.calibration is None
    (line,) = res.lines
    assert line.confidence == pytest.approx(np.mean([c.confidence for c in line.chars]), abs=1e-4)
    info = engine.model_info()
    assert info["confidence"] == "raw" and "9.9.9" in info["calibration"] and "0.0.1" in info["calibration"]


def test_lines_are_kept_on_raw_confidence(toy_model_path: Path, tmp_path: Path) -> None:
    # every line calibrated to sigmoid(-5) = 0.0067, far under min_line_confidence and the short floor
    path = toy_calibration(-5.0, 0.0).save(tmp_path / "c.json")
    cfg = OcrConfig(model_path=toy_model_path, min_line_confidence=0.5)
    page = png(page_of_lines(["a.b.b", "b", "a.a.b"]))
    raw = OcrEngine(cfg).run(page)
    res = OcrEngine(cfg.replace(calibration_path=path)).run(page)
    assert [l.text for l in res.lines] == [l.text for l in raw.lines] == ["abb", "b", "aab"]
    assert {l.confidence for l in res.lines} == {0.0067}


def test_upside_down_lines_are_chosen_on_raw_confidence(toy_model_path: Path, tmp_path: Path) -> None:
    # An inverted calibration (more surprise, more "chance"): the weak upright reading of a line
    # turned over would win if the 180° choice were made on calibrated values.
    path = toy_calibration(0.0, 3.0).save(tmp_path / "c.json")
    line = png(cv2.rotate(draw_line("a.a.bbb"), cv2.ROTATE_180))
    cfg = OcrConfig(model_path=toy_model_path, detector="whole")
    inverted = cfg.replace(calibration_path=path)
    raw = OcrEngine(cfg, recognizer=recognizer_for(cfg, rotate_below=0.8)).run(line)
    res = OcrEngine(inverted, recognizer=recognizer_for(inverted, rotate_below=0.8)).run(line)
    assert raw.text == res.text == "aab"
    (found,) = res.lines
    assert found.box == raw.lines[0].box
    assert found.confidence == round(toy_calibration(0.0, 3.0).probability([c.confidence for c in found.chars]), 4)


def test_sideways_decisions_see_raw_confidence(calibrated_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[tuple[float, float]]] = []
    real_try, real_wins = orientation.try_sideways, orientation.sideways_wins
    winners: list[bool] = []

    def spy_try(result, **kw):  # type: ignore[no-untyped-def]
        seen.append([(l.confidence, float(np.mean([c.confidence for c in l.chars]))) for l in result.lines])
        real_try(result, **kw)
        return True  # read the page turned 90° each way, whatever the rule says

    def spy_wins(turned, upright, best):  # type: ignore[no-untyped-def]
        for r in (turned, upright, best):
            seen.append([(l.confidence, float(np.mean([c.confidence for c in l.chars]))) for l in r.lines])
        winners.append(real_wins(turned, upright, best))
        return winners[-1]

    monkeypatch.setattr(orientation, "try_sideways", spy_try)
    monkeypatch.setattr(orientation, "sideways_wins", spy_wins)
    # a page on its side: its lines read turned 90° win
    page = cv2.rotate(page_of_lines(["a.b.b.a.a", "b.a.b.a.b", "a.a.b.b.a"]), cv2.ROTATE_90_CLOCKWISE)
    res = OcrEngine(OcrConfig(model_path=calibrated_model)).run(png(page))
    assert len(seen) == 7 and all(seen) and winners  # one try, two turns of three readings each
    for lines in seen:
        for reported, mean_of_chars in lines:
            assert reported == pytest.approx(mean_of_chars, abs=1e-4)  # raw, not calibrated
    cal = toy_calibration(1.0, -2.0)
    assert res.lines and all(l.confidence == round(cal.probability([c.confidence for c in l.chars]), 4)
                             for l in res.lines)
