"""Synthetic line sets of one style each: italic, monospace code and dense print.

The real-print dev set and ``../shared/eval`` say how the recogniser reads real lines; these
sets say how it reads the styles the recogniser issue names, each apart, drawn the way the
training lines are drawn (:class:`crnn.synth.LineGenerator`: same corpus, fonts, sizes and
degradations) but from seeds no training or validation line uses (:data:`STYLE_SEED_BASE`):

* ``italic``: English word lines in the italic Latin faces of the training fonts;
* ``monospace``: code lines (TeX, shell, paths, config, C, Python, e-mail, URLs;
  :mod:`crnn.codetext`) in monospace faces, word gaps a whole cell;
* ``dense``: English, mixed and Chinese lines set densely, as 10-12 pt book print is: letters
  at or a little under their advance and narrow word gaps (:func:`crnn.synth.dense_print`'s
  ranges).

::

    python -m crnn.stylesets --out data/stylesets --count 300
    python -m ocr_eval lines --labels data/stylesets/italic/lines.tsv

Each set is a folder with ``crops/*.png`` and a ``lines.tsv`` (``image``, ``text``, ``lang``)
that the harness reads like any other; the same seeds give the same lines.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from crnn.charset import normalize_label
from crnn.fonts import FontSpec
from crnn.synth import LineGenerator, width_scale, word_space_factor
from ocr_eval.datasets import guess_lang, write_tsv

STYLES = ("italic", "monospace", "dense")
# Above every training seed (samples seen: ~10^6) and the validation lines (10^9 on).
STYLE_SEED_BASE = 2 * 10**9


def _label(draw: Callable[[random.Random], str], rng: random.Random) -> str:
    for _ in range(100):
        label = normalize_label(draw(rng))
        if label:
            return label
    raise ValueError("the corpus gave no label in 100 draws")


def _font(fonts: list[FontSpec], label: str, rng: random.Random) -> FontSpec | None:
    covering = [f for f in fonts if f.covers(label)]
    return rng.choice(covering) if covering else None


def style_line(gen: LineGenerator, style: str, seed: int) -> tuple[np.ndarray, str]:
    """The line image (uint8, height 32) and label of ``style`` for ``seed``.

    Raises:
        ValueError: An unknown style, or no font of the style on this machine.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    c = gen.corpus
    italic = [f for f in gen.latin_fonts if "italic" in f.name.lower() or "oblique" in f.name.lower()]
    mono = list(gen.mono_fonts)
    if (style == "italic" and not italic) or (style == "monospace" and not mono):
        raise ValueError(f"no {style} training font on this machine: run models/install_assets.sh")
    for attempt in range(100):
        rng = random.Random(seed * 1_000_003 + attempt)
        nrng = np.random.default_rng([seed, attempt])
        if style == "italic":
            label = _label(lambda r: c._en_words(r, 36), rng)
            font = _font(italic, label, rng)
            if font:
                return gen.render(label, font, rng, nrng, word_space_factor(seed), width_scale(seed)), label
        elif style == "monospace":
            label = _label(c._code, rng)
            font = _font(mono, label, rng)
            if font:
                return gen.render(label, font, rng, nrng, 1.0, width_scale(seed)), label
        else:
            kind = rng.choice(("en", "en", "mixed", "zh"))
            draw = {"en": lambda r: c._en_words(r, 36), "mixed": lambda r: c._mixed(r, 20),
                    "zh": lambda r: c._zh_text(r, 18)}[kind]
            label = _label(draw, rng)
            font = gen.pick_font(label, rng)
            spacing, gap = rng.uniform(-0.07, -0.01), rng.uniform(0.45, 0.85)
            return gen.render(label, font, rng, nrng, gap, 1.0, spacing), label
    raise ValueError(f"no {style} font covers the lines drawn for seed {seed}")


def build_style_set(out: Path, style: str, count: int, gen: LineGenerator | None = None) -> Path:
    """Write ``count`` lines of ``style`` under ``out/style``; returns its ``lines.tsv``."""
    gen = gen or LineGenerator()
    root = out / style
    (root / "crops").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        image, label = style_line(gen, style, STYLE_SEED_BASE + STYLES.index(style) * 10**6 + i)
        name = f"crops/{i:05d}.png"
        cv2.imwrite(str(root / name), image)
        rows.append((name, label, guess_lang(label)))
    table = root / "lines.tsv"
    write_tsv(table, rows, header=("image", "text", "lang"))
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("data/stylesets"))
    ap.add_argument("--count", type=int, default=300, help="lines per style")
    ap.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    args = ap.parse_args(argv)
    gen = LineGenerator()
    for style in args.styles:
        print(build_style_set(args.out, style, args.count, gen))


if __name__ == "__main__":
    main()
