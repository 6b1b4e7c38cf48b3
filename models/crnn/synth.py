"""Synthetic text-line generator: corpus string → rendered, degraded, height-32 grayscale line.

Each sample is a pure function of its seed, so a data set is just a range of seeds: training
uses seeds from 0 up, validation a disjoint block (see :data:`VALIDATION_SEED_BASE`).

Degradations model what real crops show: blur (Gaussian and motion), sensor noise, JPEG
artefacts, low contrast, uneven light, paper-like and noisy backgrounds, light-on-dark text,
slight rotation and perspective, thin and bold strokes, tight and loose letter spacing, narrow
and wide word gaps, dense print (tight letters and narrow gaps together), small text upscaled,
loose and tight crops. Code lines (corpus kind ``code``) are set in a monospace face most of
the time (:data:`CODE_MONO_SHARE`), with whole-cell word gaps.

Example:
    >>> from crnn.synth import LineGenerator
    >>> gen = LineGenerator()                        # doctest: +SKIP
    >>> sample = gen.sample(seed=42)                 # doctest: +SKIP
    >>> sample.image.shape[0], sample.label          # doctest: +SKIP
    (32, '农业科技园')
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from crnn.corpus import Corpus
from crnn.fonts import CODE_FONTS, FontSpec, load_fonts

HEIGHT = 32
MAX_WIDTH = 1024
VALIDATION_SEED_BASE = 10**9
# Share of code lines set in a monospace face (the rest in any face, as prose naming code is).
CODE_MONO_SHARE = 0.75
# Share of lines set densely (see :func:`dense_print`).
DENSE_SHARE = 0.2


@dataclass(frozen=True)
class Sample:
    """One rendered line: ``image`` is uint8 ``[HEIGHT, W]``, ``label`` its exact text."""

    image: np.ndarray
    label: str
    font: str
    kind: str = ""


@functools.lru_cache(maxsize=512)
def _pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index)


def render_text_mask(text: str, font: FontSpec, size: int, spacing: float = 0.0, stroke: int = 0,
                     word_space: float = 1.0) -> np.ndarray:
    """Ink coverage of ``text`` (float32 in [0, 1]), cropped to the line box (font ascent/descent).

    ``spacing`` adds ``spacing * size`` pixels between characters (negative tightens);
    ``word_space`` scales the advance of every space (narrow or wide word gaps, as in
    justified text).
    """
    pil = _pil_font(font.path, font.index, size)
    ascent, descent = pil.getmetrics()
    height = ascent + descent + 2 * stroke
    if abs(spacing) < 1e-3 and (word_space == 1.0 or " " not in text):
        width = int(np.ceil(pil.getlength(text))) + 2 * stroke + 2
        canvas = Image.new("L", (max(width, 1), height), 0)
        ImageDraw.Draw(canvas).text((stroke + 1, stroke), text, font=pil, fill=255, stroke_width=stroke, stroke_fill=255)
    else:
        advances = [pil.getlength(ch) * (word_space if ch == " " else 1.0) for ch in text]
        gap = spacing * size
        width = int(np.ceil(sum(advances) + gap * max(len(text) - 1, 0))) + 2 * stroke + 4
        canvas = Image.new("L", (max(width, 1), height), 0)
        draw = ImageDraw.Draw(canvas)
        x = float(stroke + 1)
        for ch, adv in zip(text, advances):
            draw.text((x, stroke), ch, font=pil, fill=255, stroke_width=stroke, stroke_fill=255)
            x += adv + gap
    mask = np.asarray(canvas, dtype=np.float32) / 255.0
    cols = np.flatnonzero(mask.max(axis=0) > 0.05)
    if cols.size:
        mask = mask[:, cols[0] : cols[-1] + 1]
    # Vertical extent: the ink, widened to the font's typical line box so that flat glyphs
    # (一, -, _) keep their place and size within the line.
    rows = np.flatnonzero(mask.max(axis=1) > 0.05)
    ref_top, ref_bot = _line_box(font.path, font.index, size)
    top = min(ref_top + stroke, rows[0]) if rows.size else ref_top
    bot = max(ref_bot + stroke, rows[-1] + 1) if rows.size else ref_bot
    return mask[max(top, 0) : bot]


def word_space_factor(seed: int) -> float:
    """How much the word gaps of sample ``seed`` are scaled: 1 for 60 %, else 0.35-0.9 or 1.2-2.5.

    Drawn from its own generator so that every other choice for a seed stays as it was before
    word gaps varied (the validation lines without spaces are unchanged).

    Example:
        >>> 0.35 <= word_space_factor(7) <= 2.5
        True
    """
    r = random.Random(seed * 2654435761 % 2**32 + 17)
    u = r.random()
    if u < 0.6:
        return 1.0
    return r.uniform(0.35, 0.9) if u < 0.85 else r.uniform(1.2, 2.5)


def width_scale(seed: int) -> float:
    """Horizontal scale of sample ``seed``: 1 for 50 %, else log-uniform in 0.6-1.3.

    Real fonts run narrower (book serifs, condensed faces, tight tracking) or wider than the
    training fonts. Real English print lines give the model 2.4-2.8 frames per character,
    where unscaled synthetic English lines give 3.1 (5th percentile) to 4.2 (median); down to
    0.6 covers that. Drawn from its own generator, like :func:`word_space_factor`, so every
    other choice stays the same.

    Example:
        >>> 0.6 <= width_scale(7) <= 1.3
        True
    """
    r = random.Random(seed * 2246822519 % 2**32 + 29)
    if r.random() < 0.5:
        return 1.0
    return math.exp(r.uniform(math.log(0.6), math.log(1.3)))


def dense_print(seed: int) -> tuple[float, float] | None:
    """Letter spacing (em) and word-gap factor of a densely set line, or None (80 % of seeds).

    Book and manual print at 10-12 pt sets letters at or a little under the font's own advance
    and keeps word gaps near a third of an em, narrower than most training fonts' spaces; the
    two come together in real lines, where the independent draws of :func:`word_space_factor`
    and the spacing in :meth:`LineGenerator.render` pair them only 1 time in 20. Drawn from its
    own generator, like :func:`word_space_factor`.

    Example:
        >>> d = [dense_print(s) for s in range(2000)]
        >>> 0.15 < sum(x is not None for x in d) / 2000 < 0.25
        True
        >>> all(-0.07 <= x[0] <= -0.01 and 0.45 <= x[1] <= 0.85 for x in d if x)
        True
    """
    r = random.Random(seed * 3266489917 % 2**32 + 41)
    if r.random() >= DENSE_SHARE:
        return None
    return r.uniform(-0.07, -0.01), r.uniform(0.45, 0.85)


@functools.lru_cache(maxsize=512)
def _line_box(path: str, index: int, size: int) -> tuple[int, int]:
    """Top and bottom rows of the ink of a reference string mixing CJK, caps and descenders."""
    _, top, _, bot = _pil_font(path, index, size).getbbox("国Ag|y")
    return int(top), int(bot)


def _background(rng: np.random.Generator, h: int, w: int, level: float) -> np.ndarray:
    """A background at mean ``level`` (0-255) with optional texture and light gradient."""
    bg = np.full((h, w), level, np.float32)
    r = rng.random()
    if r < 0.35:  # paper / texture: low-frequency noise
        scale = rng.uniform(2, 10)
        small = rng.normal(0, 1, (max(2, int(h / scale)), max(2, int(w / scale)))).astype(np.float32)
        bg += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * rng.uniform(3, 18)
    if rng.random() < 0.35:  # uneven light: a linear gradient in a random direction
        ang = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = (np.cos(ang) * xx / max(w, 1) + np.sin(ang) * yy / max(h, 1))
        bg += (g - g.mean()) * rng.uniform(20, 90)
    if rng.random() < 0.08:  # stray lines (table rules, underlines)
        for _ in range(rng.integers(1, 3)):
            y = int(rng.integers(0, h))
            bg[y : y + int(rng.integers(1, 3)), :] -= rng.uniform(40, 120)
    return bg


class LineGenerator:
    """Renders deterministic synthetic text lines from the corpus with the training fonts."""

    def __init__(self, corpus: Corpus | None = None, fonts: tuple[FontSpec, ...] | None = None,
                 code_fonts: tuple[FontSpec, ...] | None = None):
        """``fonts`` draw every kind of line; ``code_fonts`` (default: :data:`crnn.fonts.CODE_FONTS`
        when ``fonts`` is the default too) only code lines, beside the monospace ones of ``fonts``."""
        self.corpus = corpus or Corpus.load()
        if code_fonts is None:
            code_fonts = load_fonts(CODE_FONTS, required=False) if fonts is None else ()
        self.fonts = fonts or load_fonts()
        self.cjk_fonts = [f for f in self.fonts if f.cjk]
        self.latin_fonts = [f for f in self.fonts if not f.cjk]
        self.mono_fonts = [f for f in (*self.fonts, *code_fonts) if f.mono]
        self.all_fonts = (*self.fonts, *(f for f in code_fonts if f not in self.fonts))

    def pick_font(self, text: str, rng: random.Random, kind: str = "") -> FontSpec:
        """A font able to draw every character of ``text``; most code lines get a monospace one."""
        if kind == "code" and rng.random() < CODE_MONO_SHARE:
            mono = [f for f in self.mono_fonts if f.covers(text)]
            if mono:
                return rng.choice(mono)
        pool = self.latin_fonts if (text.isascii() and self.latin_fonts and rng.random() < 0.6) else self.cjk_fonts
        for _ in range(8):
            font = rng.choice(pool or list(self.fonts))
            if font.covers(text):
                return font
        for font in self.all_fonts:
            if font.covers(text):
                return font
        raise ValueError(f"no training font covers {text!r}")

    def sample(self, seed: int) -> Sample:
        """The sample for ``seed`` (same seed, same image and label)."""
        rng = random.Random(seed)
        nrng = np.random.default_rng(seed)
        kind, label = self.corpus.sample_kind(rng)
        font = self.pick_font(label, rng, kind)
        word_space, spacing = word_space_factor(seed), None
        dense = dense_print(seed)
        if dense:
            spacing, word_space = dense[0], min(word_space, dense[1])
        if kind == "code" and font.mono:
            word_space = 1.0  # a monospace line's gaps are whole cells
        image = self.render(label, font, rng, nrng, word_space, width_scale(seed), spacing)
        return Sample(image, label, font.name, kind)

    def render(self, text: str, font: FontSpec, rng: random.Random, nrng: np.random.Generator,
               word_space: float = 1.0, x_scale: float = 1.0, spacing: float | None = None) -> np.ndarray:
        """Render ``text`` with ``font`` and random degradations; returns uint8 ``[32, W]``.

        ``word_space`` scales the word gaps and ``x_scale`` the width of the whole line;
        ``spacing`` (in em) replaces the random letter spacing.
        """
        small = rng.random() < 0.15
        size = rng.randint(11, 18) if small else rng.randint(26, 44)
        drawn = rng.choice([0.0, 0.0, 0.0, rng.uniform(-0.06, 0.0), rng.uniform(0.02, 0.35)])
        spacing = drawn if spacing is None else spacing
        stroke = 1 if (not small and rng.random() < 0.1) else 0
        mask = render_text_mask(text, font, size, spacing, stroke, word_space)
        if rng.random() < 0.12:  # thin or bold strokes by morphology
            k = np.ones((2, 2), np.uint8)
            mask = cv2.dilate(mask, k) if rng.random() < 0.5 else cv2.erode(mask, k) * 0.5 + mask * 0.5

        # Crop margins: tight to loose, asymmetric.
        h = mask.shape[0]
        top, bot = (int(h * rng.uniform(-0.08, 0.25)) for _ in range(2))
        left, right = (int(h * rng.uniform(0.0, 0.6)) for _ in range(2))
        mask = cv2.copyMakeBorder(mask, max(top, 0), max(bot, 0), left, right, cv2.BORDER_CONSTANT, value=0)
        mask = mask[max(-top, 0) : mask.shape[0] - max(-bot, 0)]
        h, w = mask.shape

        # Geometry: slight rotation, shear and perspective.
        if rng.random() < 0.45:
            ang = rng.uniform(-2.5, 2.5)
            shear = rng.uniform(-0.15, 0.15) if rng.random() < 0.3 else 0.0
            m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
            m[0, 1] += shear
            m[0, 2] -= shear * h / 2
            mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        if rng.random() < 0.2:
            d = h * 0.12
            src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
            dst = src + nrng.uniform(-d, d, (4, 2)).astype(np.float32)
            mask = cv2.warpPerspective(mask, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=0)

        # Compose ink over background with random contrast and polarity.
        bg_level = rng.uniform(150, 255)
        contrast = rng.uniform(35, 80) if rng.random() < 0.15 else rng.uniform(90, bg_level)
        fg_level = bg_level - contrast
        img = _background(nrng, h, w, bg_level)
        img = img * (1 - mask) + fg_level * mask
        if rng.random() < 0.15:
            img = 255 - img

        # To model height; small text first goes through a low-resolution stage.
        out_w = max(8, min(MAX_WIDTH, round(w * x_scale * HEIGHT / h)))
        if small:
            lo_h = rng.randint(10, 18)
            lo_w = max(4, round(w * x_scale * lo_h / h))
            img = cv2.resize(img, (lo_w, lo_h), interpolation=cv2.INTER_AREA)
            img = cv2.resize(img, (out_w, HEIGHT), interpolation=rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST]))
        else:
            img = cv2.resize(img, (out_w, HEIGHT), interpolation=cv2.INTER_AREA)

        return photometric(img, rng, nrng)


def photometric(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, blur: float = 1.3,
                noise: float = 14.0, jpeg_min: int = 15) -> np.ndarray:
    """Blur (Gaussian or motion), sensor noise and JPEG artefacts on a float line; returns uint8.

    ``blur`` is the largest Gaussian sigma, ``noise`` the largest noise sigma (gray levels) and
    ``jpeg_min`` the lowest JPEG quality; the shares are fixed (blur 35 %, motion blur 10 %,
    noise 50 %, JPEG 30 %).
    """
    r = rng.random()
    if r < 0.35:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, blur))
    elif r < 0.45:
        k = rng.randint(2, 4)
        kern = np.zeros((k, k), np.float32)
        if rng.random() < 0.5:
            kern[k // 2, :] = 1.0 / k
        else:
            np.fill_diagonal(kern, 1.0 / k)
        img = cv2.filter2D(img, -1, kern)
    if rng.random() < 0.5:
        img = img + nrng.normal(0, rng.uniform(2, noise), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(jpeg_min, 85)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img
