"""Training lines cut from rendered photo scenes: tickets, receipts, labels, signs, posters.

The synthetic lines (:mod:`crnn.synth`) are printed text on paper-like backgrounds; photos of
things show text the recogniser reads worst: white on colour, coloured boxes, letter-spaced
words, text over pictures, perspective, uneven light, shadows, blur. The photo benchmark's
renderer (:mod:`ocr_eval.scenes`) draws such scenes with each line's text and polygon; this
module cuts those lines out of its ``train`` split the way the line finder's boxes cut them (a
quadrilateral grown by a margin, warped flat, gray, height 32). The ``bench`` split, which
shares no line text with ``train``, stays the benchmark; ``../shared/eval`` is never used.

A seed picks a scene (``seed // LINES_PER_SCENE``) and one of its lines, so consecutive seeds
share a scene and each scene is drawn once per pool of samples (:class:`SceneLines` keeps the
last one).

Example:
    >>> lines = SceneLines()                    # doctest: +SKIP
    >>> sample = lines.sample(0)                # doctest: +SKIP
    >>> sample.image.shape[0], sample.kind      # doctest: +SKIP
    (32, 'scene')
"""

from __future__ import annotations

import random

import cv2
import numpy as np

from crnn.charset import CHAR_TO_CLASS, normalize_label
from crnn.reallines import ctc_frames_needed
from crnn.synth import HEIGHT, MAX_WIDTH, Sample, photometric
from ocr_eval.scenes import SceneLine, render_scene

# Lines taken from one scene before the next is drawn (a scene holds ~15).
LINES_PER_SCENE = 8
_SALT = 0x5CE7


def cut_line(image: np.ndarray, line: SceneLine, rng: random.Random) -> np.ndarray | None:
    """The gray, height-32 crop of ``line`` from a BGR scene, with a random margin like a
    detector's box has; None when it is degenerate or wider than :data:`MAX_WIDTH` allows."""
    tl, tr, br, bl = np.asarray(line.points, np.float64)
    along, across = (tr - tl + br - bl) / 2, (bl - tl + br - tr) / 2
    w, h = float(np.linalg.norm(along)), float(np.linalg.norm(across))
    if h < 4 or w < 4:
        return None
    u, v = along / w, across / h
    top, bot = (h * rng.uniform(0.0, 0.25) for _ in range(2))
    left, right = (h * rng.uniform(0.05, 0.45) for _ in range(2))
    src = np.float32([tl - u * left - v * top, tr + u * right - v * top,
                      br + u * right + v * bot, bl - u * left + v * bot])
    cw, ch = w + left + right, h + top + bot
    out_w = max(8, round(cw * HEIGHT / ch))
    if out_w > MAX_WIDTH:
        return None
    size = (max(8, round(cw)), max(4, round(ch)))
    dst = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    flat = cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    gray = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    area = cv2.INTER_AREA if size[1] > HEIGHT else cv2.INTER_LINEAR
    return cv2.resize(gray, (out_w, HEIGHT), interpolation=area)


class SceneLines:
    """Deterministic line samples of the rendered scenes' ``train`` split."""

    def __init__(self) -> None:
        self._scene: tuple[int, list[tuple[np.ndarray, SceneLine]]] | None = None

    def _lines(self, index: int) -> list[tuple[np.ndarray, SceneLine]]:
        """The horizontal lines of scene ``index`` whose text the charset holds (with its image)."""
        if self._scene is None or self._scene[0] != index:
            try:
                scene = render_scene(index, split="train")
                keep = [(scene.image, ln) for ln in scene.lines
                        if not ln.vertical and (t := normalize_label(ln.text)) and all(c in CHAR_TO_CLASS for c in t)]
            except (ValueError, RuntimeError):  # a seed whose text draws run dry: skipped
                keep = []
            self._scene = (index, keep)
        return self._scene[1]

    def sample(self, seed: int) -> Sample:
        """The sample for ``seed``: a line of scene ``seed // LINES_PER_SCENE``, cut and lightly degraded."""
        rng = random.Random(seed * 2654435761 % 2**61 + _SALT)
        nrng = np.random.default_rng([seed, _SALT])
        for attempt in range(16):
            index = seed // LINES_PER_SCENE + attempt * 1_000_003
            lines = self._lines(index)
            if not lines:
                continue
            order = random.Random(index).sample(range(len(lines)), len(lines))  # distinct lines per scene
            image, line = lines[order[(seed % LINES_PER_SCENE + attempt) % len(lines)]]
            label = normalize_label(line.text)
            crop = cut_line(image, line, rng)
            if crop is not None and crop.shape[1] // 4 >= ctc_frames_needed(label):
                if rng.random() < 0.3:
                    crop = photometric(crop.astype(np.float32), rng, nrng, blur=0.8, noise=6.0, jpeg_min=40)
                return Sample(crop, label, "scene", "scene")
        raise RuntimeError(f"seed {seed}: no scene line fits {MAX_WIDTH} px")
