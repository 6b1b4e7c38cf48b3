"""ocr_eval.calibrate: the split by document, the measures, and the command end to end (toy model)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine.config import OcrConfig
from ocr_engine.engine import OcrEngine
from ocr_engine.recognition.calibration import Calibration, expected_calibration_error
from ocr_eval.calibrate import LineSample, calibrate, document_of, main, split_by_document
from support.toy_model import draw_line


def sample(doc: str, i: int, lang: str = "en", s: float = 0.1, right: bool = True) -> LineSample:
    image = f"crops/{doc}/p0001_l{i:03d}.png"
    return LineSample(image, document_of(image), lang, "t", "t" if right else "x", float(np.exp(-s)), s, 3, right)


def test_the_split_keeps_documents_whole_and_is_deterministic() -> None:
    sizes = {"zh-a": 200, "zh-b": 120, "zh-c": 100, "zh-d": 9, "en-a": 200, "en-b": 100, "en-c": 100, "en-d": 60,
             "en-e": 14}
    samples = [sample(d, i, "zh" if d.startswith("zh") else "en") for d, n in sizes.items() for i in range(n)]
    fit, held = split_by_document(samples)
    assert sorted(fit + held) == list(range(len(samples)))
    fit_docs = {samples[i].document for i in fit}
    held_docs = {samples[i].document for i in held}
    assert not fit_docs & held_docs
    for lang in ("zh", "en"):  # each half has both languages, about half of each
        n_fit = sum(samples[i].lang == lang for i in fit)
        n_held = sum(samples[i].lang == lang for i in held)
        assert n_fit and n_held and abs(n_fit - n_held) <= 0.25 * (n_fit + n_held)
    shuffled = list(reversed(samples))
    fit2, held2 = split_by_document(shuffled)
    assert {shuffled[i].document for i in fit2} == fit_docs and {shuffled[i].document for i in held2} == held_docs


def test_calibrate_fits_on_one_half_and_measures_on_the_other() -> None:
    rng = np.random.default_rng(3)
    truth = Calibration(1.0, -2.0, 0.5, "m", "1")
    samples = []
    for d in range(12):
        for i in range(150):
            s = float(rng.exponential(1.5))
            samples.append(sample(f"doc{d:02d}", i, "zh" if d % 3 == 0 else "en", s,
                                  bool(rng.random() < truth.probabilities([s])[0])))
    shared = samples[:100]
    cal, report = calibrate(samples, shared, model_name="m", model_version="1", about={"model_file": "m.onnx"})
    assert (cal.model_name, cal.model_version) == ("m", "1")
    held = report["held_out"]
    fit_docs, held_docs = set(report["split"]["fit"]["documents"]), set(report["split"]["held_out"]["documents"])
    assert not fit_docs & held_docs and len(fit_docs | held_docs) == 12
    assert held["lines"] == report["split"]["held_out"]["lines"] and report["whole_dev"]["lines"] == len(samples)
    # the raw score (exp(-s): the chance all characters are right, taken at face value) is over-confident
    held_samples = [s for s in samples if s.document in held_docs]
    raw_ece = expected_calibration_error([s.raw for s in held_samples], [s.right for s in held_samples])
    assert held["ece_raw"] == pytest.approx(raw_ece) and raw_ece > 0.1
    assert held["ece_calibrated"] < 0.05 and report["whole_dev"]["ece_calibrated"] < 0.03
    assert sum(b["n"] for b in held["reliability_calibrated"]) == held["lines"]
    assert report["shared_eval"]["lines"] == 100
    assert cal.info["ece_dev_calibrated"] == report["whole_dev"]["ece_calibrated"]
    assert cal.info["model_file"] == "m.onnx"


@pytest.fixture()
def labels(tmp_path: Path) -> tuple[Path, Path]:
    """A dev set of toy lines from four documents, some labelled right, and a shared set."""
    rows = []
    # strong readings (a, b) labelled as read; weak ones (c: 0.58) labelled otherwise, and one
    # strong reading mislabelled in each document, so that every half has both outcomes
    lines = [("a.b.b", "abb"), ("b.a", "ba"), ("a.a.b", "aab"), ("b.b", "bb"), ("a.c.b", "aab"),
             ("c.c.a", "bba"), ("c", "b"), ("a.b", "ba")]
    for d in range(4):
        folder = tmp_path / "crops" / f"doc{d}"
        folder.mkdir(parents=True)
        for i, (frames, truth) in enumerate(lines):
            cv2.imwrite(str(folder / f"l{i}.png"), draw_line("".join(f * 3 for f in frames)))
            rows.append(f"crops/doc{d}/l{i}.png\t{truth}\t{'zh' if d < 2 else 'en'}")
    dev = tmp_path / "lines.tsv"
    dev.write_text("image\ttext\tlang\n" + "\n".join(rows) + "\n", encoding="utf-8")
    shared = tmp_path / "shared.tsv"
    shared.write_text("image\ttext\tlang\n" + "\n".join(rows[:8]) + "\n", encoding="utf-8")
    return dev, shared


def test_the_command_writes_a_calibration_the_engine_uses(labels: tuple[Path, Path], toy_model_path: Path,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev, shared = labels
    out, rep = tmp_path / "cal.json", tmp_path / "report.json"
    assert main(["--labels", str(dev), "--shared", str(shared), "--model", str(toy_model_path),
                 "--out", str(out), "--json", str(rep)]) == 0
    text = capsys.readouterr().out
    assert "held-out half" in text and "whole dev set" in text and "shared/eval" in text and "reliability" in text
    report = json.loads(rep.read_text(encoding="utf-8"))
    assert report["model"] == "toy_ctc 0.0.1" and report["whole_dev"]["lines"] == 32
    assert report["shared_eval"]["lines"] == 8 and report["written"] == str(out)
    assert report["split"]["fit"]["lines"] == report["split"]["held_out"]["lines"] == 16
    for key in ("held_out", "whole_dev", "shared_eval"):
        assert 0.0 <= report[key]["ece_calibrated"] <= 1.0 and 0.0 <= report[key]["ece_raw"] <= 1.0
    cal = Calibration.load(out)
    assert cal.fits("toy_ctc", "0.0.1") and cal.info["lines"] == 32
    assert cal.b < 0  # the weak readings are the wrong ones
    engine = OcrEngine(OcrConfig(model_path=toy_model_path, calibration_path=out, detector="whole"))
    assert engine.model_info()["confidence"] == "calibrated"


def test_measure_only_writes_nothing(labels: tuple[Path, Path], toy_model_path: Path, tmp_path: Path) -> None:
    dev, _ = labels
    assert main(["--labels", str(dev), "--shared", str(tmp_path / "absent.tsv"), "--model", str(toy_model_path),
                 "--no-write", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert "written" not in report and "shared_eval" not in report
    assert not list(toy_model_path.parent.glob("*.json"))
