"""Train the CRNN on synthetic lines with CTC; resumable, runs for a wall-clock budget.

Fresh run::

    python -m crnn.train --out runs/crnn --hours 2.5

Keep improving the committed model (weights only; a fresh optimizer with a short warm-up)::

    nice -n 19 python -m crnn.train --init models/weights/crnn_zh_en.pt --out runs/crnn --hours 2.5 --lr 5e-4

Resume an interrupted run exactly (optimizer state included)::

    python -m crnn.train --resume runs/crnn/last.pt --out runs/crnn --hours 2.5

The learning rate follows a cosine over the wall-clock budget (``--hours``), after a linear
warm-up. ``runs/<out>/`` receives ``last.pt`` (full state), ``best.pt`` (best synthetic
validation CER) and ``train.log``. Writing a number into ``<out>/threads`` changes the
number of torch threads on the fly (useful when other work shares the CPU).

``--real-fraction`` (default 0.25 when ``data/realprint/train`` exists, else 0) makes that share
of every batch real-print train lines (:mod:`crnn.reallines`); the dev split and
``shared/eval`` are refused. ``--scene-fraction`` (default 0) adds lines cut from the rendered
photo scenes' train split (:mod:`crnn.scenelines`: signs, tickets, labels, posters; the
photo benchmark's own split shares no line text with it). ``--ema`` (default 0.999, 0: off) keeps an exponential moving
average of the weights in float32 beside the model: validation and ``best.pt`` use it, and a
checkpoint's ``model`` holds it (what ``--init`` and ``crnn.export`` read), ``model_raw`` the
trained weights and ``ema`` its decay and update count (what ``--resume`` continues from).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from crnn.charset import CHARSET, NUM_CLASSES, decode_greedy
from crnn.data import SyntheticBatches, collate
from crnn.model import CRNN, CRNNConfig
from crnn.reallines import REALPRINT_TRAIN, check_training_path
from crnn.synth import VALIDATION_SEED_BASE, LineGenerator
from ocr_eval.metrics import edit_distance


def greedy_texts(logits: torch.Tensor) -> list[str]:
    """Best-path decode of ``[N, T, C]`` scores."""
    return [decode_greedy(row.tolist()) for row in logits.argmax(-1)]


@torch.no_grad()
def validate(model: CRNN, val_batches: list) -> dict:
    """Exact-line accuracy and CER on the fixed synthetic validation set."""
    was_training = model.training
    model.eval()
    correct = errors = chars = n = 0
    for images, _, _, labels in val_batches:
        for pred, truth in zip(greedy_texts(model(images)), labels):
            correct += pred == truth
            errors += edit_distance(pred, truth)
            chars += len(truth)
            n += 1
    model.train(was_training)
    return {"line_acc": correct / n, "cer": errors / max(chars, 1), "lines": n}


def make_validation(n: int, batch_size: int) -> list:
    gen = LineGenerator()
    samples = sorted((gen.sample(VALIDATION_SEED_BASE + i) for i in range(n)), key=lambda s: s.image.shape[1])
    return [collate([s.image for s in samples[i : i + batch_size]], [s.label for s in samples[i : i + batch_size]])
            for i in range(0, n, batch_size)]


class ModelEMA:
    """Exponential moving average of a model's weights (float32 copies beside the model).

    After each optimizer step, ``update`` moves every float parameter and buffer (batch-norm
    statistics included) of :attr:`module` towards the model's: ``ema = d * ema + (1 - d) * w``,
    with ``d = decay``, or ``min(decay, (1 + n) / (10 + n))`` at update ``n`` when ``warmup``
    (a model trained from scratch: its first weights are not worth keeping). Integer buffers
    are copied.

    Example:
        >>> net = torch.nn.Linear(1, 1, bias=False)
        >>> _ = net.weight.data.fill_(1.0)
        >>> ema = ModelEMA(net, 0.9)
        >>> _ = net.weight.data.fill_(2.0)
        >>> ema.update(net)
        >>> round(float(ema.module.weight), 4)
        1.1
    """

    def __init__(self, model: torch.nn.Module, decay: float, updates: int = 0, warmup: bool = False):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.updates, self.warmup = decay, updates, warmup

    def rate(self, n: int) -> float:
        """The decay used at update number ``n`` (1-based)."""
        return min(self.decay, (1 + n) / (10 + n)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = self.rate(self.updates)
        ema_f, cur_f = [], []
        for e, c in zip(self.module.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                ema_f.append(e)
                cur_f.append(c.detach().to(e.dtype))
            else:
                e.copy_(c)
        torch._foreach_lerp_(ema_f, cur_f, 1.0 - d)

    def info(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "warmup": self.warmup}


def checkpoint(model: CRNN, optimizer, state: dict, ema: ModelEMA | None = None, with_optimizer: bool = True,
               *, charset: list[str] | None = CHARSET) -> dict:
    """The checkpoint dict: ``model`` holds the weights to use (the EMA's when there is one).

    With an EMA and ``with_optimizer`` (``last.pt``), ``model_raw`` holds the trained weights so
    that ``--resume`` continues exactly; ``best.pt`` keeps only ``model``. Any model with a
    ``config.to_dict()`` is saved so (the DB detector's trainer too, with ``charset=None``: it
    has no charset).
    """
    ckpt = {"config": model.config.to_dict(), "model": (ema.module if ema else model).state_dict(), **state}
    if charset is not None:
        ckpt["charset"] = charset
    if ema is not None:
        ckpt["ema"] = ema.info()
    if with_optimizer:
        ckpt["optimizer"] = optimizer.state_dict()
        if ema is not None:
            ckpt["model_raw"] = model.state_dict()
    return ckpt


def save(path: Path, model: CRNN, optimizer, state: dict, with_optimizer: bool = True,
         ema: ModelEMA | None = None, *, charset: list[str] | None = CHARSET) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(checkpoint(model, optimizer, state, ema, with_optimizer, charset=charset), tmp)
    os.replace(tmp, path)


def restore_ema(model: torch.nn.Module, ckpt: dict | None, decay: float, resume: bool) -> ModelEMA | None:
    """The EMA for a run: none when ``decay`` is 0; on ``--resume`` of a checkpoint with an EMA,
    the model gets ``model_raw`` and the EMA ``model`` and its update count; otherwise the EMA
    starts from the model's weights (warming up only for a model trained from scratch)."""
    if ckpt is not None and resume and "model_raw" in ckpt:
        model.load_state_dict(ckpt["model_raw"])
    if not decay:
        return None
    if ckpt is None:
        return ModelEMA(model, decay, warmup=True)
    if resume and "model_raw" in ckpt:
        info = ckpt.get("ema", {})
        ema = ModelEMA(model, decay, updates=info.get("updates", 0), warmup=info.get("warmup", False))
        ema.module.load_state_dict(ckpt["model"])
        return ema
    return ModelEMA(model, decay)


def run_log(out: Path) -> Callable[[str], None]:
    """The run's ``emit``: a message stamped with the time, printed and appended to
    ``out/train.log`` (line-buffered, so a stopped run keeps what it said)."""
    log = open(out / "train.log", "a", buffering=1)

    def emit(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log.write(line + "\n")

    return emit


def scheduled_lr(lr: float, min_lr: float, step_in_run: int, warmup: int, elapsed: float, budget: float) -> float:
    """The learning rate: a linear warm-up over ``warmup`` steps times a cosine from ``lr``
    to ``min_lr`` over the wall-clock ``budget`` (seconds).

    Example:
        >>> scheduled_lr(1e-3, 0.0, 0, 10, 0.0, 100.0), scheduled_lr(1e-3, 1e-4, 50, 10, 100.0, 100.0)
        (0.0001, 0.0001)
    """
    warm = min(1.0, (step_in_run + 1) / warmup)
    cos = 0.5 * (1 + math.cos(math.pi * min(elapsed / budget, 1.0)))
    return (min_lr + (lr - min_lr) * cos) * warm


def threads_from_file(path: Path, emit: Callable[[str], None]) -> None:
    """Set torch's thread count to the number written in ``path``, when there is one and it differs."""
    if path.exists():
        try:
            n = int(path.read_text().strip())
            if n != torch.get_num_threads():
                torch.set_num_threads(n)
                emit(f"threads -> {n}")
        except ValueError:
            pass


# Logit bias of classes added to a trained model: far below every trained class, so the model
# does not emit them until training has taught it to (their weights start at zero).
NEW_CLASS_BIAS_MARGIN = 4.0


def extend_classes(state: dict[str, torch.Tensor], num_classes: int) -> dict[str, torch.Tensor]:
    """A state dict whose classifier has ``num_classes`` outputs, the new ones appended.

    Example:
        >>> s = extend_classes({"fc.weight": torch.ones(3, 2), "fc.bias": torch.zeros(3)}, 5)
        >>> s["fc.weight"].shape, s["fc.bias"].tolist()
        (torch.Size([5, 2]), [0.0, 0.0, 0.0, -4.0, -4.0])
    """
    weight, bias = state["fc.weight"], state["fc.bias"]
    extra = num_classes - weight.shape[0]
    out = dict(state)
    out["fc.weight"] = torch.cat([weight, weight.new_zeros(extra, weight.shape[1])])
    out["fc.bias"] = torch.cat([bias, bias.new_full((extra,), float(bias.min()) - NEW_CLASS_BIAS_MARGIN)])
    return out


def load_model(path: str | Path) -> tuple[CRNN, dict]:
    """Rebuild a model from a checkpoint (ours) for this code's charset.

    A checkpoint of an earlier charset (a prefix of :data:`crnn.charset.CHARSET`: characters are
    only ever appended) gets the new classes (see :func:`extend_classes`); ``ckpt["extended_from"]``
    then holds its class count. Any other charset is refused.
    """
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    old = ckpt["charset"]
    if old != CHARSET[: len(old)]:
        raise ValueError(f"{path}: checkpoint charset differs from crnn.charset ({len(old)} vs {len(CHARSET)})")
    cfg = dict(ckpt["config"])
    cfg["channels"] = tuple(cfg["channels"])
    state = ckpt["model"]
    if len(old) < len(CHARSET):
        state = extend_classes(state, NUM_CLASSES)
        cfg["num_classes"] = NUM_CLASSES
        ckpt = {**ckpt, "extended_from": len(old) + 1, "charset": CHARSET}
        ckpt.pop("optimizer", None)  # its moments are for the old classifier
    model = CRNN(config=CRNNConfig(**cfg))
    model.load_state_dict(state)
    return model, ckpt


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/crnn")
    p.add_argument("--hours", type=float, default=2.5, help="wall-clock budget of this run")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=int, default=300, help="warm-up steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-lines", type=int, default=512)
    p.add_argument("--val-minutes", type=float, default=15.0)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--log-steps", type=int, default=50)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: budget only)")
    p.add_argument("--real-fraction", type=float, default=None,
                   help="share of each batch from real-print train lines (default 0.25 if --real-dir exists, else 0)")
    p.add_argument("--real-dir", default=None, help=f"real-print train split (default {REALPRINT_TRAIN})")
    p.add_argument("--scene-fraction", type=float, default=0.0,
                   help="share of each batch from lines cut from rendered photo scenes (crnn.scenelines)")
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of the weights (0: no EMA)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", help="full checkpoint (with optimizer) to continue exactly")
    g.add_argument("--init", help="weights to start from, with a fresh optimizer")
    args = p.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    real_dir = Path(args.real_dir) if args.real_dir else REALPRINT_TRAIN
    check_training_path(real_dir)
    real_fraction = args.real_fraction
    if real_fraction is None:
        real_fraction = 0.25 if (real_dir / "lines.tsv").is_file() else 0.0
    if real_fraction and not (real_dir / "lines.tsv").is_file():
        raise SystemExit(f"--real-fraction {real_fraction}: no {real_dir / 'lines.tsv'}")

    state = {"step": 0, "samples_seen": 0, "train_hours": 0.0, "best_cer": math.inf, "val": None}
    ckpt = None
    if args.resume or args.init:
        model, ckpt = load_model(args.resume or args.init)
        for k in ("samples_seen", "train_hours", "val"):
            state[k] = ckpt.get(k, state[k])
    else:
        model = CRNN(NUM_CLASSES)
    state["real_fraction"] = real_fraction
    state["scene_fraction"] = args.scene_fraction
    model = model.to(memory_format=torch.channels_last).train()
    ema = restore_ema(model, ckpt, args.ema, bool(args.resume))
    eval_model = ema.module if ema else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    if args.resume:
        if "optimizer" not in ckpt:
            raise SystemExit(f"{args.resume}: no optimizer state to resume (an earlier charset?); use --init")
        optimizer.load_state_dict(ckpt["optimizer"])
        state["step"] = ckpt.get("step", 0)
    run_step0 = state["step"]

    emit = run_log(out)
    emit(f"start: {sum(p.numel() for p in model.parameters())/1e6:.2f}M params, classes={NUM_CLASSES}, "
         f"samples_seen={state['samples_seen']}, hours={args.hours}, lr={args.lr}, threads={args.threads}, "
         f"real_fraction={real_fraction} ({real_dir if real_fraction else '-'}), scene_fraction={args.scene_fraction}, "
         f"ema={ema.info() if ema else 'off'}")
    if (args.resume or args.init) and ckpt.get("extended_from"):
        emit(f"the starting model had {ckpt['extended_from']} classes: the new ones start untrained")
    val_batches = make_validation(args.val_lines, 64)
    if args.resume or args.init:
        # The bar a new best.pt must beat is the starting model on today's validation lines: the
        # CER stored with it may come from other lines (the generator changes between sessions).
        state["best_cer"] = validate(eval_model, val_batches)["cer"]
        emit(f"starting model on these validation lines: cer {state['best_cer']:.4f}")
    batches = SyntheticBatches(start=state["samples_seen"], batch_size=args.batch_size,
                               real_fraction=real_fraction, real_root=str(real_dir),
                               scene_fraction=args.scene_fraction)
    loader = DataLoader(batches, batch_size=None, num_workers=1, prefetch_factor=8, persistent_workers=True)

    budget = args.hours * 3600
    t0 = time.time()
    hours0 = state["train_hours"]
    last_val = last_save = last_log = t0
    loss_sum = loss_n = 0.0
    samples_at_log = state["samples_seen"]
    for images, targets, target_lengths, _labels in loader:
        elapsed = time.time() - t0
        if elapsed >= budget or (args.max_steps and state["step"] - run_step0 >= args.max_steps):
            break
        lr = scheduled_lr(args.lr, args.min_lr, state["step"] - run_step0, args.warmup, elapsed, budget)
        for group in optimizer.param_groups:
            group["lr"] = lr

        images = images.contiguous(memory_format=torch.channels_last)
        logits = model(images)
        log_probs = logits.float().log_softmax(-1).permute(1, 0, 2)  # [T, N, C]
        input_lengths = torch.full((images.shape[0],), log_probs.shape[0], dtype=torch.long)
        loss = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=True)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if ema is not None:
            ema.update(model)

        state["step"] += 1
        state["samples_seen"] += images.shape[0]
        state["train_hours"] = hours0 + (time.time() - t0) / 3600
        loss_sum += loss.item()
        loss_n += 1

        now = time.time()
        if state["step"] % args.log_steps == 0:
            rate = (state["samples_seen"] - samples_at_log) / (now - last_log)
            emit(f"step {state['step']} samples {state['samples_seen']} loss {loss_sum / loss_n:.3f} "
                 f"lr {lr:.2e} {rate:.1f} samples/s elapsed {elapsed / 3600:.2f}h")
            loss_sum = loss_n = 0.0
            last_log, samples_at_log = now, state["samples_seen"]
            threads_from_file(out / "threads", emit)
        if now - last_val >= args.val_minutes * 60:
            last_val = now
            _validate_and_keep_best(model, optimizer, val_batches, state, out, emit, ema)
        if now - last_save >= args.save_minutes * 60:
            last_save = now
            save(out / "last.pt", model, optimizer, state, ema=ema)

    _validate_and_keep_best(model, optimizer, val_batches, state, out, emit, ema)
    save(out / "last.pt", model, optimizer, state, ema=ema)
    emit(f"done: {json.dumps({k: v for k, v in state.items() if k != 'best_cer'})}")


def _validate_and_keep_best(model, optimizer, val_batches, state, out: Path, emit, ema: ModelEMA | None = None) -> None:
    """Validates the EMA weights when there is an EMA (else the model) and keeps the best in ``best.pt``."""
    val = validate(ema.module if ema else model, val_batches)
    state["val"] = val
    emit(f"val step {state['step']} samples {state['samples_seen']}{' (ema)' if ema else ''}: "
         f"line_acc {val['line_acc']:.4f} cer {val['cer']:.4f}")
    if val["cer"] < state["best_cer"]:
        state["best_cer"] = val["cer"]
        save(out / "best.pt", model, optimizer, state, with_optimizer=False, ema=ema)
        emit("  new best")


if __name__ == "__main__":
    main()
