"""Batches of synthetic (and real-print) lines for training, bucketed by width to waste little padding.

Example:
    >>> from crnn.data import SyntheticBatches
    >>> batches = SyntheticBatches(start=0, batch_size=4)     # doctest: +SKIP
    >>> images, targets, target_lengths, labels = next(iter(batches))  # doctest: +SKIP
    >>> real_per_batch(32, 0.25), real_per_batch(32, 0.0)
    (8, 0)
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import IterableDataset

from crnn.charset import encode
from crnn.synth import HEIGHT, LineGenerator

WIDTH_STRIDE = 4
NORM_MEAN = 0.5
NORM_STD = 0.5


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """Stack uint8 ``[32, W_i]`` lines into a normalised ``[N, 1, 32, W]`` float batch.

    Narrower lines are right-padded by replicating their last column (their own background),
    the same rule the serving recogniser uses. ``W`` is rounded up to the width stride.
    """
    width = max(im.shape[1] for im in images)
    width = -(-width // WIDTH_STRIDE) * WIDTH_STRIDE
    out = np.empty((len(images), 1, HEIGHT, width), np.float32)
    for i, im in enumerate(images):
        padded = np.pad(im, ((0, 0), (0, width - im.shape[1])), mode="edge")
        out[i, 0] = padded
    out = (out / 255.0 - NORM_MEAN) / NORM_STD
    return torch.from_numpy(out)


def collate(images: list[np.ndarray], labels: list[str]):
    """Model input and CTC targets for one batch."""
    targets = [torch.tensor(encode(t), dtype=torch.long) for t in labels]
    return to_tensor(images), torch.cat(targets), torch.tensor([len(t) for t in targets]), labels


def real_per_batch(batch_size: int, real_fraction: float) -> int:
    """How many lines of each batch are real-print lines."""
    if not 0.0 <= real_fraction < 1.0:
        raise ValueError(f"real_fraction must be in [0, 1), got {real_fraction}")
    return int(round(batch_size * real_fraction))


class SyntheticBatches(IterableDataset):
    """Endless batches from sample indices ``start, start+1, ...``; pools of samples are sorted by width.

    Deterministic for a given ``start`` (a resumed run continues where the last stopped). With
    ``real_fraction`` > 0, each batch holds :func:`real_per_batch` real-print lines
    (:class:`crnn.reallines.RealLines` from ``real_root``): in each pool of indices the first
    ones are synthetic seeds, the rest real-line seeds; both parts are sorted by width and
    batch ``i`` takes the ``i``-th slice of each, so a batch keeps its share and similar widths.
    With ``real_fraction`` 0 the batches are those of the synthetic lines alone, as before.
    ``scene_fraction`` > 0 adds, the same way, lines cut from rendered photo scenes
    (:class:`crnn.scenelines.SceneLines`), from the last indices of each pool.
    """

    def __init__(self, start: int, batch_size: int, pool_batches: int = 8, real_fraction: float = 0.0,
                 real_root: str | None = None, scene_fraction: float = 0.0):
        self.start = start
        self.batch_size = batch_size
        self.pool_batches = pool_batches
        self.pool = pool_batches * batch_size
        self.n_real = real_per_batch(batch_size, real_fraction)
        self.n_scene = real_per_batch(batch_size, scene_fraction)
        if self.n_real + self.n_scene >= batch_size:
            raise ValueError("real and scene lines would leave no synthetic line in a batch")
        self.real_root = real_root

    def __iter__(self):
        gen = LineGenerator()
        real = None
        if self.n_real:
            from crnn.reallines import REALPRINT_TRAIN, RealLines

            real = RealLines(self.real_root or REALPRINT_TRAIN)
        scenes = None
        if self.n_scene:
            from crnn.scenelines import SceneLines

            scenes = SceneLines()
        n_syn = self.batch_size - self.n_real - self.n_scene
        syn_pool = self.pool_batches * n_syn
        real_end = syn_pool + self.pool_batches * self.n_real
        seed = self.start
        while True:
            samples = sorted((gen.sample(s) for s in range(seed, seed + syn_pool)), key=lambda s: s.image.shape[1])
            parts = [[samples[i : i + n_syn] for i in range(0, syn_pool, n_syn)]]
            for source, lo, hi, n in ((real, syn_pool, real_end, self.n_real),
                                      (scenes, real_end, self.pool, self.n_scene)):
                if source is not None:
                    extra = sorted((source.sample(s) for s in range(seed + lo, seed + hi)),
                                   key=lambda s: s.image.shape[1])
                    parts.append([extra[i : i + n] for i in range(0, len(extra), n)])
            seed += self.pool
            batches = [sum(chunks, []) for chunks in zip(*parts)]
            random.Random(seed).shuffle(batches)
            for b in batches:
                yield collate([s.image for s in b], [s.label for s in b])
