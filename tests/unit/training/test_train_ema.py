"""EMA weights of crnn.train: the update, and checkpoints that resume, init and export from it."""

from __future__ import annotations

import torch
from torch import nn

from crnn.charset import NUM_CLASSES
from crnn.model import CRNN, CRNNConfig
from crnn.train import ModelEMA, checkpoint, load_model, restore_ema, save

TINY = CRNNConfig(num_classes=NUM_CLASSES, channels=(4, 4, 4, 4, 4, 8), lstm_hidden=4)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_ema_update_math_params_and_buffers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = ModelEMA(net, 0.9)
    before = {k: v.clone() for k, v in ema.module.state_dict().items()}
    net.train()(torch.randn(8, 3))  # moves the batch-norm statistics
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    ema.update(net)
    now = net.state_dict()
    for k, v in ema.module.state_dict().items():
        if v.dtype.is_floating_point:
            assert torch.allclose(v, 0.9 * before[k] + 0.1 * now[k], atol=1e-6), k
            assert v.dtype == torch.float32
        else:
            assert torch.equal(v, now[k]), k  # num_batches_tracked is copied
    assert ema.updates == 1 and not any(p.requires_grad for p in ema.module.parameters())
    # The EMA is a copy: changing it leaves the model alone.
    assert not torch.equal(ema.module[0].weight, net[0].weight)


def test_ema_warmup_rate_only_for_models_from_scratch():
    net = nn.Linear(1, 1)
    assert ModelEMA(net, 0.999).rate(1) == 0.999
    warm = ModelEMA(net, 0.999, warmup=True)
    assert warm.rate(1) == 2 / 11 and warm.rate(10**6) == 0.999


def _trained_tiny():
    torch.manual_seed(1)
    model = CRNN(config=TINY).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ema = ModelEMA(model, 0.5)
    for _ in range(3):
        loss = model(torch.randn(2, 1, 32, 32)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update(model)
    return model, opt, ema


def test_checkpoint_round_trip_resumes_exactly_and_inits_from_the_ema(tmp_path):
    model, opt, ema = _trained_tiny()
    state = {"step": 3, "samples_seen": 6, "train_hours": 0.0, "val": None}
    save(tmp_path / "last.pt", model, opt, state, ema=ema)
    save(tmp_path / "best.pt", model, opt, state, with_optimizer=False, ema=ema)
    assert not _same(model.state_dict(), ema.module.state_dict())

    # --resume: the trained weights back in the model, the EMA and its count in the EMA.
    resumed, ckpt = load_model(tmp_path / "last.pt")
    resumed = resumed.to(memory_format=torch.channels_last).train()
    ema2 = restore_ema(resumed, ckpt, 0.5, resume=True)
    assert _same(resumed.state_dict(), model.state_dict())
    assert _same(ema2.module.state_dict(), ema.module.state_dict())
    assert ema2.updates == 3 and not ema2.warmup
    opt2 = torch.optim.AdamW(resumed.parameters(), lr=1e-2)
    opt2.load_state_dict(ckpt["optimizer"])
    x = torch.randn(2, 1, 32, 32)
    for m, o, e in ((model, opt, ema), (resumed, opt2, ema2)):
        torch.manual_seed(7)
        loss = m(x).square().mean()
        o.zero_grad()
        loss.backward()
        o.step()
        e.update(m)
    assert _same(resumed.state_dict(), model.state_dict())
    assert _same(ema2.module.state_dict(), ema.module.state_dict())

    # best.pt (what crnn.export reads, through load_model's "model"): the EMA weights only.
    best = torch.load(tmp_path / "best.pt", weights_only=False)
    assert "model_raw" not in best and "optimizer" not in best and best["ema"]["decay"] == 0.5
    exported, _ = load_model(tmp_path / "best.pt")
    last_ema = torch.load(tmp_path / "last.pt", weights_only=False)["model"]
    assert _same(exported.state_dict(), last_ema)

    # --init: the EMA starts from the checkpoint's (EMA) weights, without warm-up.
    init, ckpt = load_model(tmp_path / "best.pt")
    ema3 = restore_ema(init, ckpt, 0.999, resume=False)
    assert _same(ema3.module.state_dict(), init.state_dict()) and ema3.updates == 0 and not ema3.warmup


def test_old_checkpoints_and_no_ema(tmp_path):
    model, opt, _ = _trained_tiny()
    old = checkpoint(model, opt, {"step": 3})  # written without an EMA: as before this change
    assert "model_raw" not in old and "ema" not in old and _same(old["model"], model.state_dict())
    torch.save(old, tmp_path / "old.pt")
    resumed, ckpt = load_model(tmp_path / "old.pt")
    ema = restore_ema(resumed, ckpt, 0.999, resume=True)
    assert _same(ema.module.state_dict(), model.state_dict()) and ema.updates == 0
    assert restore_ema(resumed, ckpt, 0.0, resume=True) is None
    assert restore_ema(CRNN(config=TINY), None, 0.999, resume=False).warmup
