"""Train the DB detector on crops of rendered scenes; resumable, runs for a wall-clock budget.

Fresh run (one nice'd thread when the CPU is shared)::

    nice -n 19 python -m db.train --out runs/db --hours 6 --threads 1

Keep improving a checkpoint (weights and counters; a fresh optimizer with a short warm-up)::

    nice -n 19 python -m db.train --init runs/db/best.pt --out runs/db --hours 2 --lr 1e-3

Resume an interrupted run exactly (optimizer state included)::

    nice -n 19 python -m db.train --resume runs/db/last.pt --out runs/db --hours 2

Loss (DB, weights as PaddleOCR's): ``5 * BCE`` on the probability map with hard-negative mining
(3 negatives per positive pixel), ``10 * L1`` on the threshold map inside the dilated lines,
``1 * dice`` on the approximate binary map. The learning rate follows a cosine over the
wall-clock budget after a linear warm-up. Crops come from :class:`db.data.CropBatches` in a
background worker (scenes cached under ``--cache``: fill it ahead with ``python -m db.data``).
Every ``--val-minutes`` the EMA weights are scored on ``--val-scenes`` fixed train-split scenes
(seeds kept out of training) as the engine would read them: box recall / precision at IoU 0.5
over a small grid of post-processing settings; ``best.pt`` keeps the best harmonic mean and its
settings (what ``db.export`` writes into the metadata). ``runs/<out>/`` receives ``last.pt``,
``best.pt`` and ``train.log``; writing a number into ``<out>/threads`` changes the torch threads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from crnn.train import ModelEMA, restore_ema, run_log, save, scheduled_lr, threads_from_file
from db.data import CropBatches, validation_scenes, worker_init
from db.evaluate import evaluate, settings_grid
from db.model import MEAN, STD, DBConfig, DBNet, param_count
from ocr_engine.detection.learned import DbSettings

# Post-processing settings before validation has chosen (and the base of its grid).
DEFAULT_SETTINGS = DbSettings(MEAN, STD, thresh=0.3, box_thresh=0.5, unclip=2.0)
NEG_RATIO = 3.0
MIN_NEGATIVES = 1024  # per batch, so that a batch without text still teaches background
WEIGHTS = {"bce": 5.0, "l1": 10.0, "dice": 1.0}


def balanced_bce(logit: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor, ratio: float = NEG_RATIO) -> torch.Tensor:
    """BCE over the positive pixels and the hardest ``ratio`` x as many negative ones."""
    pos, neg = gt * mask, (1 - gt) * mask
    n_pos = int(pos.sum().item())
    n_neg = min(int(neg.sum().item()), max(int(n_pos * ratio), MIN_NEGATIVES))
    loss = F.binary_cross_entropy_with_logits(logit, gt, reduction="none")
    total = (loss * pos).sum()
    if n_neg > 0:
        total = total + torch.topk((loss * neg).flatten(), n_neg, sorted=False).values.sum()
    return total / (n_pos + n_neg + 1e-6)


def dice_loss(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    inter = (pred * gt * mask).sum()
    union = (pred * mask).sum() + (gt * mask).sum() + 1e-6
    return 1 - 2 * inter / union


def masked_l1(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return ((pred - gt).abs() * mask).sum() / (mask.sum() + 1e-6)


def db_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """The DB loss of a training-mode output on a batch of :func:`db.data.collate`; and its parts."""
    parts = {
        "bce": balanced_bce(out["prob_logit"], batch["gt"], batch["mask"]),
        "l1": masked_l1(out["thresh"], batch["thresh"], batch["thresh_mask"]),
        "dice": dice_loss(out["binary"], batch["gt"], batch["mask"]),
    }
    loss = sum(WEIGHTS[k] * v for k, v in parts.items())
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def torch_prob_fn(model: DBNet):
    """``x [1, 3, H, W] numpy -> [H, W]`` probabilities of ``model`` (eval mode)."""

    @torch.no_grad()
    def fn(x):
        return model.eval()(torch.from_numpy(x))[0, 0].numpy()

    return fn


def validate(model: DBNet, scenes: list, base: DbSettings = DEFAULT_SETTINGS) -> dict:
    """Box scores of ``model`` on ``scenes`` at ``base`` and the best of :func:`settings_grid`
    (``best``: its settings and scores)."""
    was_training = model.training
    report = evaluate(torch_prob_fn(model), base, scenes, settings_grid(base))
    model.train(was_training)
    # Ties go to the larger growth: a recogniser reads a line cut a little loose better than one cut tight.
    report["best"] = max(report.pop("by_settings"), key=lambda r: (r["hmean"], r["recall"], r["unclip"]))
    return report


def load_model(path: str | Path) -> tuple[DBNet, dict]:
    """The model of a checkpoint (its ``model`` weights) and the checkpoint."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in ckpt["config"].items()}
    model = DBNet(DBConfig(**cfg))
    model.load_state_dict(ckpt["model"])
    return model, ckpt


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/db")
    p.add_argument("--hours", type=float, default=6.0, help="wall-clock budget of this run")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=5e-5)
    p.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--size", type=int, default=448, help="crop side (a multiple of 32)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1, help="background crop workers (0: in the training process)")
    p.add_argument("--cache", default="runs/db/scenes", help="scene cache ('' for none)")
    p.add_argument("--pool", type=int, default=64, help="scenes held in memory by the crop worker")
    p.add_argument("--reuse", type=int, default=8, help="crops per scene, on average")
    p.add_argument("--val-scenes", type=int, default=50)
    p.add_argument("--val-minutes", type=float, default=10.0)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--log-steps", type=int, default=20)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: budget only)")
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of the weights (0: no EMA)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", help="full checkpoint (with optimizer) to continue exactly")
    g.add_argument("--init", help="weights to start from (counters kept), with a fresh optimizer")
    args = p.parse_args(argv)
    if args.size % 32:
        raise SystemExit(f"--size {args.size}: not a multiple of 32")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)  # before any cv2 call: OpenCV's pool must not be resized later in a worker
    torch.manual_seed(0)

    state = {"step": 0, "samples_seen": 0, "scenes_seen": 0, "train_hours": 0.0, "best_hmean": -1.0,
             "val": None, "settings": None}
    ckpt = None
    if args.resume or args.init:
        model, ckpt = load_model(args.resume or args.init)
        for k in ("samples_seen", "scenes_seen", "train_hours", "val", "settings"):
            state[k] = ckpt.get(k, state[k])
        if args.resume:
            if "optimizer" not in ckpt:
                raise SystemExit(f"{args.resume}: no optimizer state to resume; use --init")
            state["step"] = ckpt.get("step", 0)
    else:
        model = DBNet()
    model = model.to(memory_format=torch.channels_last).train()
    ema = restore_ema(model, ckpt, args.ema, bool(args.resume))
    eval_model = ema.module if ema else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    if args.resume:
        optimizer.load_state_dict(ckpt["optimizer"])
    run_step0 = state["step"]

    emit = run_log(out)
    emit(f"start: {param_count(model) / 1e6:.3f}M params, config={model.config.to_dict()}, "
         f"samples_seen={state['samples_seen']}, scenes_seen={state['scenes_seen']}, hours={args.hours}, "
         f"lr={args.lr}, batch={args.batch_size}x{args.size}, threads={args.threads}, workers={args.workers}, "
         f"ema={ema.info() if ema else 'off'}")
    cache = args.cache or None
    t_val = time.time()
    val_scenes = validation_scenes(args.val_scenes, cache)
    emit(f"validation: {len(val_scenes)} scenes, {sum(len(s[1]) for s in val_scenes)} lines "
         f"({time.time() - t_val:.0f} s to load)")
    if ckpt is not None:
        # The bar a new best.pt must beat: the starting model on these validation scenes.
        val = validate(eval_model, val_scenes)
        state["best_hmean"] = val["best"]["hmean"]
        emit(f"starting model: {json.dumps(val['best'])}")

    batches = CropBatches(state["scenes_seen"], args.batch_size, args.size, pool=args.pool, reuse=args.reuse,
                          cache=cache, seed=state["samples_seen"])
    loader = DataLoader(batches, batch_size=None, num_workers=args.workers,
                        **({"prefetch_factor": 4, "persistent_workers": True, "multiprocessing_context": "spawn",
                            "worker_init_fn": worker_init}
                           if args.workers else {}))

    budget = args.hours * 3600
    t0 = time.time()
    hours0, samples0 = state["train_hours"], state["samples_seen"]
    scenes0 = state["scenes_seen"]
    last_val = last_save = last_log = t0
    sums: dict[str, float] = {}
    n_sum = 0
    samples_at_log = state["samples_seen"]
    wait = 0.0
    t_fetch = time.time()
    for batch in loader:
        wait += time.time() - t_fetch
        elapsed = time.time() - t0
        if elapsed >= budget or (args.max_steps and state["step"] - run_step0 >= args.max_steps):
            break
        lr = scheduled_lr(args.lr, args.min_lr, state["step"] - run_step0, args.warmup, elapsed, budget)
        for group in optimizer.param_groups:
            group["lr"] = lr

        images = batch["image"].contiguous(memory_format=torch.channels_last)
        loss, parts = db_loss(model(images), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if ema is not None:
            ema.update(model)

        state["step"] += 1
        state["samples_seen"] += images.shape[0]
        state["scenes_seen"] = scenes0 + args.pool + (state["samples_seen"] - samples0) // args.reuse
        state["train_hours"] = hours0 + (time.time() - t0) / 3600
        for k, v in {"loss": loss.item(), **parts}.items():
            sums[k] = sums.get(k, 0.0) + v
        n_sum += 1

        now = time.time()
        if state["step"] % args.log_steps == 0:
            rate = (state["samples_seen"] - samples_at_log) / (now - last_log)
            means = " ".join(f"{k} {v / n_sum:.4f}" for k, v in sums.items())
            emit(f"step {state['step']} samples {state['samples_seen']} {means} lr {lr:.2e} "
                 f"{rate:.2f} samples/s (waited for data {wait / (now - last_log):.0%}) elapsed {elapsed / 3600:.2f}h")
            sums, n_sum, wait = {}, 0, 0.0
            last_log, samples_at_log = now, state["samples_seen"]
            threads_from_file(out / "threads", emit)
        if now - last_val >= args.val_minutes * 60:
            _validate_and_keep_best(model, optimizer, val_scenes, state, out, emit, ema)
            last_val = time.time()
        if now - last_save >= args.save_minutes * 60:
            last_save = now
            save(out / "last.pt", model, optimizer, state, ema=ema, charset=None)
        t_fetch = time.time()

    _validate_and_keep_best(model, optimizer, val_scenes, state, out, emit, ema)
    save(out / "last.pt", model, optimizer, state, ema=ema, charset=None)
    emit(f"done: {json.dumps({k: v for k, v in state.items() if k != 'best_hmean'})}")


def _validate_and_keep_best(model, optimizer, scenes, state, out: Path, emit, ema: ModelEMA | None = None) -> None:
    """Scores the EMA weights when there is an EMA (else the model); keeps the best in ``best.pt``."""
    t = time.time()
    val = validate(ema.module if ema else model, scenes)
    state["val"] = val
    best = val["best"]
    emit(f"val step {state['step']} samples {state['samples_seen']}{' (ema)' if ema else ''} ({time.time() - t:.0f} s): "
         f"default recall {val['recall']:.4f} precision {val['precision']:.4f}; best settings thresh {best['thresh']} "
         f"unclip {best['unclip']}: recall {best['recall']:.4f} precision {best['precision']:.4f} "
         f"hmean {best['hmean']:.4f}")
    if best["hmean"] > state["best_hmean"]:
        state["best_hmean"] = best["hmean"]
        state["settings"] = {k: best[k] for k in ("thresh", "box_thresh", "unclip")}
        save(out / "best.pt", model, optimizer, state, with_optimizer=False, ema=ema, charset=None)
        emit("  new best")


if __name__ == "__main__":
    main()
