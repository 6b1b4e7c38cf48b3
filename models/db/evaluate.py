"""Box recall / precision of a DB model on rendered scenes, read the way the engine reads it.

Each scene goes through the engine's own steps (``ocr_engine.detection.learned``: ``db_input``
at the engine's 960 px, the model, ``db_boxes``); a found box matches a true line when their
IoU (of the quadrilaterals) is at least 0.5, one to one, greedily by IoU. Recall is over the
true lines, precision over the found boxes.

::

    python -m db.evaluate runs/db/export/db_zh_en.onnx --split bench --scenes 30 --json runs/db/eval.json

``--split bench`` is for measuring only; training and validation use train-split scenes.

Example:
    >>> sq = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    >>> round(quad_iou(sq, sq + [5, 0]), 3), match_count([sq], [sq + [1, 0], sq + [50, 0]])
    (0.333, 1)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from ocr_engine.detection.learned import DbSettings, db_boxes, db_input

IOU = 0.5


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex quadrilaterals (their convex hulls)."""
    pa = cv2.convexHull(np.asarray(a, np.float32).reshape(-1, 1, 2))
    pb = cv2.convexHull(np.asarray(b, np.float32).reshape(-1, 1, 2))
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = cv2.contourArea(pa) + cv2.contourArea(pb) - inter
    return float(inter / union) if union > 0 else 0.0


def match_count(truth: list[np.ndarray], found: list[np.ndarray], iou: float = IOU) -> int:
    """How many true lines a found box matches (one to one, best IoU first)."""
    pairs = []
    for i, t in enumerate(truth):
        tx0, ty0 = t.min(0)
        tx1, ty1 = t.max(0)
        for j, f in enumerate(found):
            fx0, fy0 = f.min(0)
            fx1, fy1 = f.max(0)
            if fx0 > tx1 or tx0 > fx1 or fy0 > ty1 or ty0 > fy1:
                continue
            v = quad_iou(t, f)
            if v >= iou:
                pairs.append((v, i, j))
    used_t, used_f = set(), set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def scores(counts: list[tuple[int, int, int]]) -> dict:
    """Recall, precision and their harmonic mean from ``(matched, truth, found)`` per scene."""
    m, t, f = (sum(c[k] for c in counts) for k in range(3))
    recall, precision = m / max(t, 1), m / max(f, 1)
    hmean = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return {"recall": recall, "precision": precision, "hmean": hmean, "lines": t, "found": f, "scenes": len(counts)}


def scene_counts(prob: np.ndarray, image: np.ndarray, truth: list[np.ndarray], settings: DbSettings) -> tuple[int, int, int]:
    found = [b.points for b in db_boxes(prob, image.shape, settings)]
    return match_count(truth, found), len(truth), len(found)


def onnx_session(path: str | Path, threads: int = 1):
    """The engine's session of an ONNX model (``.probabilities``, ``.settings``, ``.metadata``)."""
    from ocr_engine.detection.learned import DbSession

    return DbSession(path, intra_op_threads=threads)


def evaluate(prob_fn, settings: DbSettings, scenes: list[tuple[np.ndarray, list[np.ndarray]]],
             grid: list[DbSettings] | None = None) -> dict:
    """Scores of ``settings`` (and of every settings in ``grid``: ``by_settings``) on ``scenes``;
    ``ms_per_image`` is the model's median time per scene at the engine's input size."""
    grid = grid or []
    counts: list[list[tuple[int, int, int]]] = [[] for _ in range(1 + len(grid))]
    times = []
    for image, truth in scenes:
        x, _, _ = db_input(image, settings)
        t0 = time.perf_counter()
        prob = prob_fn(x)
        times.append(1000 * (time.perf_counter() - t0))
        for k, s in enumerate([settings, *grid]):
            counts[k].append(scene_counts(prob, image, truth, s))
    out = scores(counts[0])
    out["ms_per_image"] = float(np.median(times)) if times else 0.0
    if grid:
        out["by_settings"] = [{"thresh": s.thresh, "box_thresh": s.box_thresh, "unclip": s.unclip, **scores(c)}
                              for s, c in zip(grid, counts[1:])]
    return out


def settings_grid(base: DbSettings, threshes=(0.2, 0.3, 0.4, 0.5), unclips=(1.0, 1.2, 1.4, 1.6, 2.0)) -> list[DbSettings]:
    """Post-processing settings to choose from (box_thresh kept, at least 0.1 above thresh)."""
    return [DbSettings(base.mean, base.std, t, max(base.box_thresh, t + 0.1), u) for t in threshes for u in unclips]


def timing(prob_fn, settings: DbSettings, shape=(720, 960), repeats: int = 7) -> float:
    """Median ms of the model on one ``shape`` image (the engine's 960 px input)."""
    x, _, _ = db_input(np.full((*shape, 3), 128, np.uint8), settings)
    prob_fn(x)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        prob_fn(x)
        ts.append(1000 * (time.perf_counter() - t0))
    return float(np.median(ts))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="an ONNX file that meets the detection model contract")
    p.add_argument("--split", choices=("train", "bench"), default="train",
                   help="train: the validation seeds of db.data; bench: for measuring only")
    p.add_argument("--scenes", type=int, default=30)
    p.add_argument("--json", type=Path)
    p.add_argument("--grid", action="store_true", help="also score a grid of thresh / unclip settings")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    from db.data import VALIDATION_SEED_BASE
    from ocr_eval.scenes import render_scene

    base = VALIDATION_SEED_BASE if args.split == "train" else 0
    scenes = []
    for i in range(args.scenes):
        scene = render_scene(base + i, split=args.split)
        scenes.append((scene.image, [np.asarray(line.points, np.float64) for line in scene.lines]))
    session = onnx_session(args.model)
    fn, settings = session.probabilities, session.settings
    report = evaluate(fn, settings, scenes, settings_grid(settings) if args.grid else None)
    report.update({"model": str(args.model), "bytes": Path(args.model).stat().st_size, "split": args.split,
                   "ms_960x720": timing(fn, settings), "metadata": session.metadata})
    print(json.dumps({k: v for k, v in report.items() if k != "by_settings"}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
