"""Build the character bigram language model the recogniser uses to correct its readings.

The model is an interpolated Kneser-Ney bigram over the recogniser's classes (class 0, the
CTC blank, doubles as the line boundary), counted on the same offline text the synthetic
lines come from, minus the random-character lines, plus English prose:

* jieba's word list sampled by frequency (MIT), Debian ``fortunes-zh`` texts,
* the English word list ``wamerican`` and the prose of CPython's ``pydoc_data`` topics
  (PSF licence), and the generated number/date/price/code patterns of :mod:`crnn.corpus`.

::

    python -m crnn.charlm --out models/weights/charlm_zh_en.npz

The ``.npz`` holds ``keys`` (sorted ``prev * V + cur`` of the kept bigrams), ``logp``
(their log probabilities), ``backoff`` (log interpolation weight per previous class),
``unigram`` (log continuation probability per class) and ``charset_sha256``, so the serving
side refuses an LM built for another charset (see ``ocr_service.recognition.lm``).

Example:
    >>> counts = count_bigrams(["ab", "ab"], {"a": 1, "b": 2}, vocab=3)
    >>> sorted(counts.items())
    [(1, 2), (5, 2), (6, 2)]
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from crnn.charset import CHARSET, NUM_CLASSES, normalize_label
from crnn.corpus import Corpus
from ocr_service.recognition.lm import charset_sha256

DISCOUNT = 0.75
_PROSE = re.compile(r"^[A-Za-z][A-Za-z ,.;:'()\-]{30,}$")


def count_bigrams(lines: Iterable[str], index: dict[str, int], vocab: int) -> dict[int, int]:
    """Counts of ``prev * vocab + cur`` over lines framed by the boundary class 0."""
    keys: list[np.ndarray] = []
    for line in lines:
        ids = np.array([0] + [index[c] for c in line if c in index] + [0], np.int64)
        if ids.size > 2:
            keys.append(ids[:-1] * vocab + ids[1:])
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    return dict(zip(uniq.tolist(), counts.tolist()))


def english_prose() -> list[str]:
    """Prose lines of the Python documentation topics shipped with CPython."""
    import pydoc_data.topics as topics

    out = []
    for text in topics.topics.values():
        for line in text.splitlines():
            line = " ".join(line.split())
            if _PROSE.match(line):
                out.append(line)
    return out


def training_text(n_lines: int, seed: int = 12345) -> list[str]:
    """The text the LM is counted on (see the module docstring)."""
    corpus = Corpus.load()
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(n_lines):
        kind = rng.choices(["zh_words", "zh_text", "en_words", "mixed", "pattern"], [30, 14, 20, 16, 10])[0]
        if kind == "zh_words":
            lines.append(corpus._zh_words(rng, 16))
        elif kind == "zh_text":
            lines.append(corpus._zh_text(rng, 18))
        elif kind == "en_words":
            lines.append(corpus._en_words(rng, 36))
        elif kind == "mixed":
            lines.append(corpus._mixed(rng, 20))
        else:
            lines.append(corpus._pattern(rng))
    lines.extend(corpus.zh_text)  # every fortune once, whole
    lines.extend(english_prose() * 3)
    return [s for s in (normalize_label(x) for x in lines) if s]


def kneser_ney(counts: dict[int, int], vocab: int, min_count: int = 2) -> dict[str, np.ndarray]:
    """Interpolated Kneser-Ney bigram tables, keeping bigrams seen ``min_count`` times or more."""
    keys = np.array(sorted(counts), np.int64)
    c = np.array([counts[k] for k in keys.tolist()], np.float64)
    prev, cur = keys // vocab, keys % vocab
    n_prev = np.bincount(prev, weights=c, minlength=vocab)           # n(p .)
    types_prev = np.bincount(prev, minlength=vocab).astype(np.float64)  # N1+(p .)
    cont = np.bincount(cur, minlength=vocab).astype(np.float64)       # N1+(. c)
    # Continuation unigram, smoothed so that unseen classes keep a small probability.
    p_cont = (cont + 0.5) / (cont.sum() + 0.5 * vocab)
    lam = np.where(n_prev > 0, DISCOUNT * types_prev / np.maximum(n_prev, 1), 1.0)
    p = np.maximum(c - DISCOUNT, 0) / n_prev[prev] + lam[prev] * p_cont[cur]
    keep = c >= min_count
    return {
        "keys": keys[keep],
        "logp": np.log(p[keep]).astype(np.float32),
        "backoff": np.log(lam).astype(np.float32),
        "unigram": np.log(p_cont).astype(np.float32),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/weights/charlm_zh_en.npz")
    ap.add_argument("--lines", type=int, default=400_000, help="sampled corpus lines")
    ap.add_argument("--min-count", type=int, default=2)
    args = ap.parse_args(argv)

    index = {ch: i + 1 for i, ch in enumerate(CHARSET)}
    text = training_text(args.lines)
    counts = count_bigrams(text, index, NUM_CLASSES)
    tables = kneser_ney(counts, NUM_CLASSES, args.min_count)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **tables, charset_sha256=np.array(charset_sha256(CHARSET)), vocab=np.array(NUM_CLASSES))
    chars = sum(len(s) for s in text)
    print(f"{out}: {len(text)} lines, {chars} chars, {len(counts)} bigram types, kept {tables['keys'].size}, "
          f"{out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
