"""DB export (models/db/export.py): torch-vs-onnxruntime parity, the contract's metadata, the
engine's DbSession finding the lines of an easy image after a short overfit, and a few steps of
``db.train`` (checkpoints, --init) on toy scenes feeding ``db.export``."""

from __future__ import annotations

import cv2
import numpy as np
import onnx
import pytest
import torch

import db.data
from db import export as db_export
from db import train as db_train
from db.data import collate
from db.evaluate import match_count
from db.model import MEAN, STD, DBNet
from ocr_engine.detection.learned import DbSession, LearnedDetector
from support.tiny_db import TINY, one_torch_thread  # noqa: F401  (an autouse fixture)


def easy_scene(seed: int = 0, h: int = 192, w: int = 320) -> tuple[np.ndarray, list[np.ndarray]]:
    """Dark "character" blobs in well-separated lines on a light page, and the lines' boxes."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 230, np.uint8)
    polys = []
    for y in range(16, h - 30, 44):
        x0 = int(rng.integers(10, 40))
        x1 = int(rng.integers(w // 2, w - 20))
        ch = int(rng.integers(14, 20))
        for x in range(x0, x1 - ch // 2, ch + 3):
            cv2.rectangle(img, (x, y), (x + ch - 2, y + ch), (40, 40, 40), -1)
        polys.append(np.array([[x0 - 2, y - 3], [x1 + 2, y - 3], [x1 + 2, y + ch + 3], [x0 - 2, y + ch + 3]], float))
    return img, polys


def test_export_parity_and_metadata(tmp_path):
    model = DBNet(TINY).eval()
    path = tmp_path / "db_zh_en.onnx"
    meta = db_export.model_metadata("0.0.1", {"thresh": 0.25, "box_thresh": 0.55, "unclip": 2.2}, {"training": "{}"})
    db_export.export_onnx(model, path, meta)
    assert db_export.parity(model, path) < 1e-4
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 17
    got = {e.key: e.value for e in proto.metadata_props}
    assert got["model_name"] == "db_zh_en" and got["model_version"] == "0.0.1"
    assert got["db_thresh"] == "0.25" and got["db_box_thresh"] == "0.55" and got["db_unclip"] == "2.2"
    assert [float(v) for v in got["db_mean"].split(",")] == list(MEAN)
    assert [float(v) for v in got["db_std"].split(",")] == list(STD)
    assert got["licence"] and got["source"]
    session = DbSession(path)
    assert session.name == "db_zh_en" and session.settings.unclip == 2.2 and session.settings.mean == MEAN
    prob = session.probabilities(np.zeros((1, 3, 64, 96), np.float32))
    assert prob.shape == (64, 96)


def test_refuses_the_engine_weights_folder(tmp_path):
    with pytest.raises(SystemExit, match="refusing"):
        db_export.main([str(tmp_path / "none.pt"), "--out", str(db_export.ENGINE_WEIGHTS)])


def test_exported_overfit_model_finds_the_lines_in_the_engine(tmp_path):
    torch.manual_seed(0)
    image, polys = easy_scene()
    batch = collate([image, image[:, ::-1].copy()], [polys, [p * [-1, 1] + [image.shape[1] - 1, 0] for p in polys]])
    model = DBNet(TINY).train()
    opt = torch.optim.Adam(model.parameters(), 5e-3)
    for _ in range(60):
        loss, _ = db_train.db_loss(model(batch["image"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    path = tmp_path / "db_zh_en.onnx"
    db_export.export_onnx(model, path, db_export.model_metadata("0.0.1", {"thresh": 0.3, "box_thresh": 0.5,
                                                                           "unclip": 2.0}))
    detector = LearnedDetector(DbSession(path), direction="horizontal")
    found = [b.points for b in detector.detect_image(image)]
    assert len(found) == len(polys) and match_count(polys, found) == len(polys)


def test_train_a_few_steps_then_init_and_export(tmp_path, monkeypatch):
    monkeypatch.setattr(db.data, "render_train_scene", lambda seed: easy_scene(seed, 160, 224))
    out = tmp_path / "run"
    common = ["--out", str(out), "--hours", "0.05", "--size", "64", "--batch-size", "2", "--workers", "0",
              "--cache", str(tmp_path / "scenes"), "--pool", "2", "--reuse", "2", "--val-scenes", "2",
              "--log-steps", "1", "--warmup", "1"]
    db_train.main([*common, "--max-steps", "2"])
    assert (out / "last.pt").is_file() and (out / "best.pt").is_file()
    assert len(list((tmp_path / "scenes").rglob("*.jpg"))) >= 4  # 2 validation + the training pool
    best = torch.load(out / "best.pt", weights_only=False)
    assert best["samples_seen"] == 4 and set(best["settings"]) == {"thresh", "box_thresh", "unclip"}
    assert "optimizer" not in best and "optimizer" in torch.load(out / "last.pt", weights_only=False)
    db_train.main([*common, "--max-steps", "1", "--init", str(out / "best.pt")])
    last = torch.load(out / "last.pt", weights_only=False)
    assert last["samples_seen"] == 6 and last["step"] == 1
    db_train.main([*common, "--max-steps", "1", "--resume", str(out / "last.pt")])
    last = torch.load(out / "last.pt", weights_only=False)
    assert last["samples_seen"] == 8 and last["step"] == 2 and last["ema"]["updates"] == 2
    log = (out / "train.log").read_text()
    assert "samples/s" in log and "val step" in log
    db_export.main([str(out / "last.pt"), "--out", str(tmp_path / "export"), "--version", "0.0.2"])
    session = DbSession(tmp_path / "export" / "db_zh_en.onnx")
    assert session.metadata["model_version"] == "0.0.2" and "samples_seen" in session.metadata["training"]


def test_model_card_from_an_evaluation_json(tmp_path):
    from db.card import card

    path = tmp_path / "db_zh_en.onnx"
    info = '{"samples_seen": 1234, "scenes_seen": 99, "train_hours": 1.5, "validation": {"recall": 0.91, ' \
           '"precision": 0.88, "hmean": 0.89, "lines": 652, "scenes": 50}}'
    db_export.export_onnx(DBNet(TINY), path, db_export.model_metadata("0.1.0", None, {"training": info}))
    text = card({"model": str(path), "split": "bench", "scenes": 30, "lines": 400, "recall": 0.9, "precision": 0.8,
                 "hmean": 0.847, "ms_per_image": 41.0, "ms_960x720": 52.5})
    assert "db_zh_en 0.1.0" in text and "1,234 crops of 99 scenes" in text and "1.50 h" in text
    assert "recall 91.0 %, precision 88.0 %" in text and "| 90.0 % | 80.0 % | 84.7 % | 41.0 |" in text
    assert "52.5" in text and f"{path.stat().st_size:,} bytes" in text
