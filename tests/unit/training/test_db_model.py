"""The DB detector (models/db): output shapes, the DB loss learning a fixed batch, and the
training crops keeping lines and targets in register."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from db.data import collate, sample_crop
from db.model import DBForExport, DBNet, param_count
from db.train import balanced_bce, db_loss
from support.tiny_db import TINY, one_torch_thread  # noqa: F401  (an autouse fixture)


@pytest.mark.parametrize("hw", [(32, 32), (96, 160), (224, 96), (160, 288)])
def test_maps_have_the_input_size(hw):
    net = DBNet(TINY)
    x = torch.randn(1, 3, *hw)
    with torch.no_grad():
        prob = net.eval()(x)
        assert prob.shape == (1, 1, *hw) and 0 <= float(prob.min()) and float(prob.max()) <= 1
        assert torch.equal(DBForExport(net).eval()(x), prob)
        out = net.train()(torch.randn(2, 3, *hw))
    assert {k: tuple(v.shape) for k, v in out.items()} == {k: (2, 1, *hw) for k in ("prob", "prob_logit", "thresh", "binary")}


def test_default_model_size():
    assert 300_000 <= param_count(DBNet()) <= 1_000_000


def _fixed_batch():
    rng = np.random.default_rng(0)
    crops, polys = [], []
    for _ in range(2):
        img = np.full((96, 96, 3), 235, np.uint8)
        lines = []
        for y in (14, 44, 70):
            x0, x1 = int(rng.integers(4, 20)), int(rng.integers(60, 92))
            for x in range(x0, x1, 7):  # "characters": dark blobs along the line
                cv2.rectangle(img, (x, y), (x + 4, y + 12), (30, 30, 30), -1)
            lines.append(np.array([[x0 - 1, y - 2], [x1 + 3, y - 2], [x1 + 3, y + 14], [x0 - 1, y + 14]], float))
        crops.append(img)
        polys.append(lines)
    return collate(crops, polys)


def test_loss_decreases_on_a_fixed_batch():
    torch.manual_seed(0)
    batch = _fixed_batch()
    net = DBNet(TINY).train()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    losses = []
    for _ in range(30):
        loss, parts = db_loss(net(batch["image"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        assert set(parts) == {"bce", "l1", "dice"}
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3]), losses


def test_balanced_bce_mines_three_negatives_per_positive():
    gt = torch.zeros(1, 1, 100, 100)
    gt[..., :20, :20] = 1  # 400 positives
    mask = torch.ones_like(gt)
    logit = torch.full_like(gt, 3.0)  # every pixel says text: negatives cost log(1 + e^3)
    logit[..., 50:, :] = -5.0  # these negatives are easy and must not dilute the loss
    hard = float(torch.nn.functional.softplus(torch.tensor(3.0)))
    pos = float(torch.nn.functional.softplus(torch.tensor(-3.0)))
    expected = (400 * pos + 1200 * hard) / 1600
    assert abs(float(balanced_bce(logit, gt, mask)) - expected) < 1e-4


def test_crops_keep_lines_and_targets_in_register():
    img = np.full((600, 800, 3), 255, np.uint8)
    poly = np.array([[100, 300], [700, 300], [700, 340], [100, 340]], float)
    cv2.fillPoly(img, [poly.astype(np.int32)], (0, 0, 0))
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(8):
        crop, moved = sample_crop(img, [poly], rng, 256, rotate_p=0.5)
        assert crop.shape == (256, 256, 3)
        inside = collate([crop], [moved])["gt"][0, 0] > 0
        if inside.any():
            ink = torch.from_numpy(crop.mean(2) < 128)
            assert ink[inside].float().mean() > 0.97  # the shrunk region lies on the ink
            checked += 1
    assert checked >= 4
