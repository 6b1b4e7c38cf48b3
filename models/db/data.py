"""Training crops of rendered scenes, with their DB targets.

Scenes come from ``ocr_eval.scenes.render_scene(seed, split="train")`` (never the bench split)
through a :class:`SceneCache` on disk (JPEG + JSON of the line polygons, the longer side at most
:data:`CACHE_SIDE`), so a scene is rendered once and reused by later runs; ``python -m db.data``
fills the cache ahead of training. :class:`CropBatches` keeps a pool of scenes in memory and
draws random crops from them (scale around what the engine feeds the model, a small rotation
now and then, light photometric changes); each scene gives ``reuse`` crops on average before a
new one replaces it. Training seeds are ``0, 1, 2, ...``; the validation scenes are the seeds
from :data:`VALIDATION_SEED_BASE`.

::

    nice -n 19 python -m db.data --cache runs/db/scenes --start 0 --count 3000

Example:
    >>> import numpy as np
    >>> from db.data import sample_crop
    >>> img = np.full((200, 400, 3), 255, np.uint8)
    >>> crop, polys = sample_crop(img, [np.array([[50, 90], [350, 90], [350, 110], [50, 110]], float)],
    ...                           np.random.default_rng(0), 128)
    >>> crop.shape, len(polys)
    ((128, 128, 3), 1)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset

from db.labels import db_targets
from db.model import MEAN, STD

VALIDATION_SEED_BASE = 10**9
CACHE_SIDE = 1280  # scenes are cached with the longer side at most this (the engine feeds <= 960)
ENGINE_SIDE = 960  # the engine's longest side of the model input (ocr_engine.detection.learned.MAX_SIDE)

Renderer = Callable[[int], tuple[np.ndarray, list[np.ndarray]]]


def render_train_scene(seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A train-split scene: BGR image and its lines' polygons (``[4, 2]``, image pixels)."""
    from ocr_eval.scenes import render_scene

    scene = render_scene(seed, split="train")
    return scene.image, [np.asarray(line.points, np.float64).reshape(-1, 2) for line in scene.lines]


class SceneCache:
    """Scenes by seed, rendered once (by ``render``) and kept under ``root``; ``root=None``: no disk."""

    def __init__(self, root: str | os.PathLike[str] | None, render: Renderer | None = None,
                 max_side: int = CACHE_SIDE):
        self.root = Path(root) if root else None
        self.render = render or render_train_scene
        self.max_side = max_side

    def _paths(self, seed: int) -> tuple[Path, Path]:
        folder = self.root / f"{seed // 1000:07d}"
        return folder / f"{seed}.jpg", folder / f"{seed}.json"

    def get(self, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
        if self.root is not None:
            jpg, js = self._paths(seed)
            if js.is_file() and jpg.is_file():
                image = cv2.imread(str(jpg), cv2.IMREAD_COLOR)
                if image is not None:
                    return image, [np.array(p, np.float64) for p in json.loads(js.read_text())["polys"]]
        image, polys = self.render(seed)
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        if scale < 1.0:
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            polys = [p * scale for p in polys]
        if self.root is not None:
            jpg, js = self._paths(seed)
            jpg.parent.mkdir(parents=True, exist_ok=True)
            tmp = jpg.with_name(f".{jpg.stem}.{os.getpid()}.jpg")
            cv2.imwrite(str(tmp), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            os.replace(tmp, jpg)
            tmp = js.with_name(f".{js.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"seed": seed, "polys": [np.round(p, 2).tolist() for p in polys]}))
            os.replace(tmp, js)
        return image, polys

    def next(self, seed: int, tries: int = 20) -> tuple[tuple[np.ndarray, list[np.ndarray]], int]:
        """The first scene from ``seed`` on that renders (a renderer may fail on a seed), and the seed after it."""
        for s in range(seed, seed + tries):
            try:
                return self.get(s), s + 1
            except Exception as exc:  # noqa: BLE001  (the renderer's bug on one seed must not stop a run)
                print(f"scene {s}: not rendered ({type(exc).__name__}: {exc}); skipped", flush=True)
        raise RuntimeError(f"no scene renders in seeds {seed}..{seed + tries - 1}")


def sample_crop(image: np.ndarray, polys: list[np.ndarray], rng: np.random.Generator, size: int, *,
                scale_range: tuple[float, float] = (0.6, 1.5), rotate_p: float = 0.3, max_angle: float = 10.0,
                text_p: float = 0.85) -> tuple[np.ndarray, list[np.ndarray]]:
    """A ``size`` x ``size`` crop of a scene and its polygons in crop pixels.

    The scene is scaled as the engine would (longer side to at most :data:`ENGINE_SIDE`) times a
    random factor in ``scale_range`` (log-uniform), turned by up to ``max_angle`` degrees with
    probability ``rotate_p``; the crop is centred near a random line with probability ``text_p``.
    Outside the scene the crop is a flat colour.
    """
    h, w = image.shape[:2]
    lo, hi = scale_range
    s = min(1.0, ENGINE_SIDE / max(h, w)) * math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if s < 0.8:  # shrink with area averaging first (a warp would alias)
        image = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        polys = [p * np.array([image.shape[1] / w, image.shape[0] / h]) for p in polys]
        h, w = image.shape[:2]
        s = 1.0
    angle = rng.uniform(-max_angle, max_angle) if rng.random() < rotate_p else 0.0
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, s)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) @ m[:, :2].T + m[:, 2]
    (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
    moved = [p @ m[:, :2].T + m[:, 2] for p in polys]
    if moved and rng.random() < text_p:
        cx, cy = moved[rng.integers(len(moved))].mean(0) + rng.uniform(-size / 3, size / 3, 2)
        ox, oy = cx - size / 2, cy - size / 2
    else:
        ox, oy = rng.uniform(min(x0, x1 - size), max(x0, x1 - size)), rng.uniform(min(y0, y1 - size), max(y0, y1 - size))
    ox = float(np.clip(ox, min(x0, x1 - size), max(x0, x1 - size)))
    oy = float(np.clip(oy, min(y0, y1 - size), max(y0, y1 - size)))
    m[:, 2] -= (ox, oy)
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    crop = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=fill)
    out = []
    for p in moved:
        q = p - (ox, oy)
        if q[:, 0].max() >= 0 and q[:, 1].max() >= 0 and q[:, 0].min() < size and q[:, 1].min() < size:
            out.append(q)
    return crop, out


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light colour / contrast / blur / noise changes (the renderer does the heavy lifting)."""
    img = image
    if rng.random() < 0.5:
        alpha, beta = rng.uniform(0.75, 1.25), rng.uniform(-25, 25)
        img = cv2.convertScaleAbs(img, alpha=alpha, beta=beta)
    if rng.random() < 0.2:
        img = img[:, :, rng.permutation(3)]
    if rng.random() < 0.15:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.15:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.2))
    if rng.random() < 0.15:
        noise = rng.normal(0, rng.uniform(2, 8), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def normalise(bgr: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 BGR -> ``[3, H, W]`` float32, as the ONNX metadata says."""
    x = (bgr.astype(np.float32) / 255.0 - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return x.transpose(2, 0, 1)


def collate(crops: list[np.ndarray], polys: list[list[np.ndarray]]) -> dict[str, torch.Tensor]:
    """Model input ``image`` ``[N, 3, S, S]`` and the targets ``gt``, ``mask``, ``thresh``,
    ``thresh_mask`` ``[N, 1, S, S]``."""
    maps = [db_targets(p, c.shape[:2]) for c, p in zip(crops, polys)]
    batch = {"image": torch.from_numpy(np.stack([normalise(c) for c in crops]))}
    for key in ("gt", "mask", "thresh", "thresh_mask"):
        batch[key] = torch.from_numpy(np.stack([getattr(m, key) for m in maps])[:, None])
    return batch


class CropBatches(IterableDataset):
    """Endless batches of crops from a pool of ``pool`` scenes, seeds ``start, start+1, ...``.

    Every ``reuse`` crops the oldest scene of the pool is replaced by the next seed, so the run
    sees ``1 / reuse`` new scenes per crop. Deterministic for a given ``start`` and ``seed``.
    """

    def __init__(self, start: int, batch_size: int, size: int = 512, *, pool: int = 64, reuse: int = 4,
                 cache: str | None = None, render: Renderer | None = None, seed: int = 0):
        self.start, self.batch_size, self.size = start, batch_size, size
        self.pool, self.reuse, self.cache, self.render, self.seed = pool, reuse, cache, render, seed

    def __iter__(self):
        scenes = SceneCache(self.cache, self.render)
        rng = np.random.default_rng([self.seed, self.start])
        next_seed = self.start
        pool = []
        for _ in range(self.pool):
            scene, next_seed = scenes.next(next_seed)
            pool.append(scene)
        oldest = crops_made = 0
        while True:
            crops, polys = [], []
            for _ in range(self.batch_size):
                image, lines = pool[rng.integers(len(pool))]
                crop, moved = sample_crop(image, lines, rng, self.size)
                crops.append(photometric(crop, rng))
                polys.append(moved)
                crops_made += 1
                if crops_made % self.reuse == 0:
                    pool[oldest], next_seed = scenes.next(next_seed)
                    oldest = (oldest + 1) % len(pool)
            yield collate(crops, polys)


def worker_init(_worker_id: int = 0) -> None:
    """One thread each for OpenCV and torch in a crop worker (the trainer has the cores)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def validation_scenes(n: int, cache: str | None = None, render: Renderer | None = None):
    """The fixed validation scenes (train split, seeds from :data:`VALIDATION_SEED_BASE`)."""
    scenes, seed, out = SceneCache(cache, render), VALIDATION_SEED_BASE, []
    while len(out) < n:
        scene, seed = scenes.next(seed)
        out.append(scene)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", default="runs/db/scenes")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--validation", type=int, default=0, help="also the first N validation scenes")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    cache = SceneCache(args.cache)
    t0 = time.time()
    seeds = [VALIDATION_SEED_BASE + i for i in range(args.validation)] + list(range(args.start, args.start + args.count))
    for i, seed in enumerate(seeds, 1):
        try:
            cache.get(seed)
        except Exception as exc:  # noqa: BLE001
            print(f"scene {seed}: not rendered ({type(exc).__name__}: {exc}); skipped", flush=True)
        if i % 50 == 0 or i == len(seeds):
            print(f"{i}/{len(seeds)} scenes, {i / (time.time() - t0):.1f}/s", flush=True)


if __name__ == "__main__":
    main()
