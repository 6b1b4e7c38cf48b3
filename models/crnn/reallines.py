"""Real-print training lines (the ``train`` split of :mod:`crnn.realprint`) as training samples.

Each crop is read as gray, given a few of the synthetic lines' degradations that make sense on a
real scan (a slight rotation, margin jitter, a slight width change, a low-resolution stage,
contrast, uneven light, rare light-on-dark, then :func:`crnn.synth.photometric`: blur, noise,
JPEG), and scaled to height 32 keeping its aspect, as the serving recogniser scales its crops
(``resize_to_height``: ``INTER_AREA`` when shrinking, ``INTER_LINEAR`` when enlarging). Like a
synthetic line, a sample is a pure function of its seed. The label is the line's truth folded
onto the charset like the synthetic labels (:func:`crnn.charset.normalize_label`).

The dev split and the evaluation set are never read: :func:`check_training_path` refuses any
path with a ``dev`` component or under ``shared/eval``, for the folder and for every crop.

Example:
    >>> check_training_path("data/realprint/dev")
    Traceback (most recent call last):
    ...
    ValueError: data/realprint/dev: the dev split and shared/eval are for measuring, never for training
    >>> from crnn.reallines import RealLines
    >>> real = RealLines()                            # doctest: +SKIP
    >>> s = real.sample(7); s.image.shape[0], s.kind  # doctest: +SKIP
    (32, 'real')
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import cv2
import numpy as np

from crnn.charset import CHAR_TO_CLASS, normalize_label
from crnn.synth import HEIGHT, MAX_WIDTH, Sample, _background, photometric
from ocr_eval.datasets import TSV_FORMAT  # the harness's label format: backslash escapes

REPO = Path(__file__).resolve().parents[2]
REALPRINT_TRAIN = REPO / "data" / "realprint" / "train"
_SALT = 0x5EA1  # seeds of real samples never share a random stream with synthetic ones
# A line scaled wider than MAX_WIDTH is squeezed to it when that keeps this share of its width,
# else another line is drawn.
MIN_SQUEEZE = 0.75


def check_training_path(path: str | Path) -> Path:
    """``path`` (resolved) when it may be trained on; raises for the dev split or ``shared/eval``.

    Example:
        >>> check_training_path("/x/shared/eval/lines.tsv")
        Traceback (most recent call last):
        ...
        ValueError: /x/shared/eval/lines.tsv: the dev split and shared/eval are for measuring, never for training
        >>> check_training_path("/x/data/realprint/train/../dev/crops/a.png")
        Traceback (most recent call last):
        ...
        ValueError: /x/data/realprint/train/../dev/crops/a.png: the dev split and shared/eval are for measuring, never for training
        >>> check_training_path("/home/dev/ocr/data/realprint/train").name
        'train'
    """
    for p in (Path(path), Path(path).resolve()):
        parts = p.parts
        if any(a == "shared" and b == "eval" for a, b in zip(parts, parts[1:])):
            raise ValueError(f"{path}: the dev split and shared/eval are for measuring, never for training")
        if "realprint" in parts:  # what lies above the line set (a checkout in ~/dev) does not count
            parts = parts[len(parts) - 1 - parts[::-1].index("realprint") :]
        if "dev" in parts:
            raise ValueError(f"{path}: the dev split and shared/eval are for measuring, never for training")
    return Path(path).resolve()


def ctc_frames_needed(label: str) -> int:
    """Output steps a CTC path for ``label`` needs: one per character, one more between repeats.

    Example:
        >>> ctc_frames_needed("will"), ctc_frames_needed("abc")
        (5, 3)
    """
    return len(label) + sum(a == b for a, b in zip(label, label[1:]))


class RealLines:
    """Deterministic degraded samples of the real-print train lines under ``root``."""

    def __init__(self, root: str | Path = REALPRINT_TRAIN):
        self.root = check_training_path(root)
        table = self.root / "lines.tsv"
        if not table.is_file():
            raise FileNotFoundError(f"{table} missing: build it with python3 -m crnn.realprint build --split train")
        self.items: list[tuple[Path, str]] = []
        with open(table, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, **TSV_FORMAT):
                label = normalize_label(row["text"])
                if not label or not all(ch in CHAR_TO_CLASS for ch in label):
                    continue
                image = check_training_path(self.root / row["image"])
                if not image.is_relative_to(self.root):
                    raise ValueError(f"{row['image']}: outside {self.root}")
                self.items.append((image, label))
        if not self.items:
            raise ValueError(f"{table}: no usable lines")

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, seed: int) -> Sample:
        """The sample for ``seed``: a line drawn by the seed, degraded by it, height 32, uint8."""
        rng = random.Random(seed * 2654435761 % 2**61 + _SALT)
        nrng = np.random.default_rng([seed, _SALT])
        for _ in range(16):
            path, label = self.items[rng.randrange(len(self.items))]
            gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if gray is None or min(gray.shape) < 4:
                continue
            image = self.degrade(gray, rng, nrng)
            if image is not None and image.shape[1] // 4 >= ctc_frames_needed(label):
                return Sample(image, label, "real", "real")
        raise RuntimeError(f"seed {seed}: no real line fits {MAX_WIDTH} px")

    @staticmethod
    def degrade(gray: np.ndarray, rng: random.Random, nrng: np.random.Generator) -> np.ndarray | None:
        """The degraded, height-32 version of a crop, or None when it would be wider than allowed."""
        img = gray.astype(np.float32)
        h, w = img.shape
        if rng.random() < 0.3:  # the line finder cuts a little tighter or looser
            top, bot = (int(round(h * rng.uniform(-0.08, 0.12))) for _ in range(2))
            left, right = (int(round(h * rng.uniform(-0.1, 0.3))) for _ in range(2))
            img = cv2.copyMakeBorder(img, max(top, 0), max(bot, 0), max(left, 0), max(right, 0), cv2.BORDER_REPLICATE)
            img = img[max(-top, 0) : img.shape[0] - max(-bot, 0), max(-left, 0) : img.shape[1] - max(-right, 0)]
            h, w = img.shape
        if rng.random() < 0.3:  # slight rotation (the crop's margins keep the ink inside)
            m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.2, 1.2), 1.0)
            img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        stretch = math.exp(rng.uniform(math.log(0.85), math.log(1.15))) if rng.random() < 0.5 else 1.0
        out_w = max(8, round(w * stretch * HEIGHT / h))
        if out_w > MAX_WIDTH:
            if out_w * MIN_SQUEEZE > MAX_WIDTH:
                return None
            out_w = MAX_WIDTH
        if h > 20 and rng.random() < 0.1:  # lower resolution than the page was rendered at
            lo_h = rng.randint(12, 20)
            img = cv2.resize(img, (max(4, round(w * lo_h / h)), lo_h), interpolation=cv2.INTER_AREA)
            h = lo_h
        img = cv2.resize(img, (out_w, HEIGHT), interpolation=cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR)

        if rng.random() < 0.35:  # contrast: paper and ink levels as the synthetic lines have them
            bg = rng.uniform(150, 255)
            fg = bg - (rng.uniform(35, 80) if rng.random() < 0.15 else rng.uniform(90, bg))
            img = fg + img * ((bg - fg) / 255.0)
            if rng.random() < 0.3:  # uneven light, paper texture, a stray rule
                img = img + _background(nrng, HEIGHT, out_w, 0.0)
        if rng.random() < 0.05:
            img = 255.0 - img
        return photometric(img.astype(np.float32), rng, nrng, blur=1.0, noise=10.0, jpeg_min=25)
