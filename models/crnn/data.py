"""Batches of synthetic lines for training, bucketed by width to waste little padding.

Example:
    >>> from crnn.data import SyntheticBatches
    >>> batches = SyntheticBatches(start=0, batch_size=4)     # doctest: +SKIP
    >>> images, targets, target_lengths, labels = next(iter(batches))  # doctest: +SKIP
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


class SyntheticBatches(IterableDataset):
    """Endless batches from seeds ``start, start+1, ...``; pools of samples are sorted by width.

    Deterministic for a given ``start`` (a resumed run continues where the last stopped).
    """

    def __init__(self, start: int, batch_size: int, pool_batches: int = 8):
        self.start = start
        self.batch_size = batch_size
        self.pool = pool_batches * batch_size

    def __iter__(self):
        gen = LineGenerator()
        seed = self.start
        while True:
            samples = [gen.sample(s) for s in range(seed, seed + self.pool)]
            seed += self.pool
            samples.sort(key=lambda s: s.image.shape[1])
            batches = [samples[i : i + self.batch_size] for i in range(0, len(samples), self.batch_size)]
            random.Random(seed).shuffle(batches)
            for b in batches:
                yield collate([s.image for s in b], [s.label for s in b])
