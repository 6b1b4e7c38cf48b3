"""Build the character language model the recogniser uses to correct its readings.

The model is an interpolated Kneser-Ney trigram over the recogniser's classes (class 0, the
CTC blank, doubles as the line boundary), counted on the same offline text the synthetic
lines come from, minus the random-character lines, plus English prose:

* jieba's word list sampled by frequency (MIT), Debian ``fortunes-zh`` texts,
* the English word list ``wamerican`` and the prose of CPython's ``pydoc_data`` topics
  (PSF licence), and the generated number/date/price/code patterns of :mod:`crnn.corpus`,
  and its code lines (:mod:`crnn.codetext`);
* the labels of the real-print train lines (``data/realprint/train``, when built; typeset text
  of Debian's PDF manuals, counted ``--real-repeat`` times; the dev split is refused).

::

    python -m crnn.charlm --out engine/ocr_engine/weights/charlm_zh_en.npz

The ``.npz`` holds the bigram level (``keys``: sorted ``prev * V + cur`` of the kept bigrams,
``logp`` their log probabilities, ``backoff`` the log interpolation weight per previous class,
``unigram`` the log continuation probability per class), the trigram level (``tri_keys``,
``tri_logp``, ``ctx_keys``, ``ctx_backoff``) and ``charset_sha256``, so the serving side refuses
an LM built for another charset (see ``ocr_engine.recognition.lm``).

Example:
    >>> keys, counts = ngram_counts(encode_lines(["ab", "ab"], {"a": 1, "b": 2}), vocab=3, order=2)
    >>> keys.tolist(), counts.tolist()
    ([1, 5, 6], [2, 2, 2])
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from crnn.charset import CHARSET, NUM_CLASSES, normalize_label
from crnn.corpus import Corpus
from ocr_engine.recognition.lm import charset_sha256

DISCOUNT = 0.75
_PROSE = re.compile(r"^[A-Za-z][A-Za-z ,.;:'()\-]{30,}$")


def encode_lines(lines: Iterable[str], index: dict[str, int]) -> list[np.ndarray]:
    """Class ids of each line, framed by two boundary classes before and one after."""
    out = []
    for line in lines:
        ids = [index[c] for c in line if c in index]
        if ids:
            out.append(np.array([0, 0, *ids, 0], np.int64))
    return out


def ngram_counts(encoded: list[np.ndarray], vocab: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys (class ids in base ``vocab``) and counts of all n-grams of ``order`` 2 or 3."""
    parts = []
    for ids in encoded:
        ids = ids[1:] if order == 2 else ids
        key = ids[: len(ids) - order + 1].copy()
        for k in range(1, order):
            key = key * vocab + ids[k : len(ids) - order + 1 + k]
        parts.append(key)
    return np.unique(np.concatenate(parts), return_counts=True)


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


def real_print_text(root: Path | None = None) -> list[str]:
    """The labels of the real-print train lines (``data/realprint/train``; [] when absent).

    Real typeset text as pdftotext gives it: curly quotes, TeX commands, ``=`` and ``^``, spaces
    between Chinese and Latin text. The dev split and ``shared/eval`` are refused.
    """
    from crnn.reallines import REALPRINT_TRAIN, RealLines

    root = root or REALPRINT_TRAIN
    if not (Path(root) / "lines.tsv").is_file():
        return []
    return [label for _, label in RealLines(root).items]


def training_text(n_lines: int, seed: int = 12345, real: Sequence[str] = (), real_repeat: int = 4) -> list[str]:
    """The text the LM is counted on (see the module docstring); ``real`` lines (typeset text
    of the real-print train split) are counted ``real_repeat`` times."""
    corpus = Corpus.load()
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(n_lines):
        kind = rng.choices(["zh_words", "zh_text", "en_words", "mixed", "pattern", "code"], [30, 14, 20, 16, 10, 8])[0]
        if kind == "zh_words":
            lines.append(corpus._zh_words(rng, 16))
        elif kind == "zh_text":
            lines.append(corpus._zh_text(rng, 18))
        elif kind == "en_words":
            lines.append(corpus._en_words(rng, 36))
        elif kind == "mixed":
            lines.append(corpus._mixed(rng, 20))
        elif kind == "pattern":
            lines.append(corpus._pattern(rng))
        else:
            lines.append(corpus._code(rng))
    lines.extend(corpus.zh_text)  # every fortune once, whole
    lines.extend(english_prose() * 3)
    lines.extend(list(real) * real_repeat)
    return [s for s in (normalize_label(x) for x in lines) if s]


def _bigram_tables(keys: np.ndarray, c: np.ndarray, vocab: int, min_count: int):
    """Interpolated Kneser-Ney bigram tables, keeping bigrams seen ``min_count`` times or more,
    and the unpruned bigram log probability (for the trigram level)."""
    prev, cur = keys // vocab, keys % vocab
    n_prev = np.bincount(prev, weights=c, minlength=vocab)           # n(p .)
    types_prev = np.bincount(prev, minlength=vocab).astype(np.float64)  # N1+(p .)
    cont = np.bincount(cur, minlength=vocab).astype(np.float64)       # N1+(. c)
    # Continuation unigram, smoothed so that unseen classes keep a small probability.
    p_cont = (cont + 0.5) / (cont.sum() + 0.5 * vocab)
    lam = np.where(n_prev > 0, DISCOUNT * types_prev / np.maximum(n_prev, 1), 1.0)
    p = np.maximum(c - DISCOUNT, 0) / n_prev[prev] + lam[prev] * p_cont[cur]
    keep = c >= min_count
    tables = {
        "keys": keys[keep],
        "logp": np.log(p[keep]).astype(np.float32),
        "backoff": np.log(lam).astype(np.float32),
        "unigram": np.log(p_cont).astype(np.float32),
    }

    def logp2(p1: np.ndarray, c2: np.ndarray) -> np.ndarray:
        """Unpruned interpolated bigram log probability (the trigram's lower order)."""
        key = p1 * vocab + c2
        pos = np.minimum(np.searchsorted(keys, key), keys.size - 1)
        seen = keys[pos] == key
        return np.log(np.where(seen, p[pos], lam[p1] * p_cont[c2]))

    return tables, logp2


def kneser_ney_trigram(encoded: list[np.ndarray], vocab: int, min_count: int = 2) -> dict[str, np.ndarray]:
    """Interpolated Kneser-Ney bigram tables (``keys``, ``logp``, ``backoff``, ``unigram``) plus
    interpolated trigram tables.

    ``tri_keys``/``tri_logp``: kept trigrams ``(p2 * V + p1) * V + c`` and their log probability;
    ``ctx_keys``/``ctx_backoff``: contexts ``p2 * V + p1`` seen at least ``min_count`` times and
    the log weight of the bigram for their unseen continuations.
    """
    keys2, c2 = ngram_counts(encoded, vocab, 2)
    tables, logp2 = _bigram_tables(keys2, c2.astype(np.float64), vocab, min_count)
    keys3, c3 = ngram_counts(encoded, vocab, 3)
    c3 = c3.astype(np.float64)
    ctx, cur = keys3 // vocab, keys3 % vocab
    uctx, inv = np.unique(ctx, return_inverse=True)
    n_ctx = np.bincount(inv, weights=c3)
    lam = DISCOUNT * np.bincount(inv).astype(np.float64) / n_ctx
    p3 = np.maximum(c3 - DISCOUNT, 0) / n_ctx[inv] + lam[inv] * np.exp(logp2(ctx % vocab, cur))
    keep = c3 >= min_count
    keep_ctx = n_ctx >= min_count
    tables.update(
        tri_keys=keys3[keep], tri_logp=np.log(p3[keep]).astype(np.float32),
        ctx_keys=uctx[keep_ctx], ctx_backoff=np.log(lam[keep_ctx]).astype(np.float32),
    )
    return tables


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="engine/ocr_engine/weights/charlm_zh_en.npz")
    ap.add_argument("--lines", type=int, default=400_000, help="sampled corpus lines")
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--real-dir", type=Path, default=None,
                    help="real-print train split whose labels are counted too (default data/realprint/train, if built)")
    ap.add_argument("--real-repeat", type=int, default=4, help="times each real-print line is counted (0: none)")
    args = ap.parse_args(argv)

    index = {ch: i + 1 for i, ch in enumerate(CHARSET)}
    real = real_print_text(args.real_dir) if args.real_repeat > 0 else []
    text = training_text(args.lines, real=real, real_repeat=args.real_repeat)
    print(f"{len(real)} real-print train lines counted {args.real_repeat} times")
    tables = kneser_ney_trigram(encode_lines(text, index), NUM_CLASSES, args.min_count)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **tables, charset_sha256=np.array(charset_sha256(CHARSET)), vocab=np.array(NUM_CLASSES))
    chars = sum(len(s) for s in text)
    print(f"{out}: {len(text)} lines, {chars} chars; kept {tables['keys'].size} bigrams, "
          f"{tables['tri_keys'].size} trigrams, {tables['ctx_keys'].size} contexts; {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
