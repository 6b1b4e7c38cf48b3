"""Character n-gram language model and the correction of greedy CTC readings with it.

The recogniser reads a line greedily (:func:`~ocr_engine.recognition.ctc.ctc_greedy_decode`).
Where the model hesitated between similar characters (``l``/``I``, ``0``/``O``, look-alike
hanzi), :func:`lm_correct` picks, for every character the greedy pass found, the candidate
that maximises ``log p_model + weight * log p_lm`` over the whole line (Viterbi over the
character slots). It never adds or removes characters, so positions and spans stay those of
the greedy pass. A line read alone pays a few milliseconds for it; the recogniser collects
each line's candidates (:func:`lm_candidates`) and searches all lines of an image at once
(:func:`lm_apply`), which costs far less per line.

The LM file (``charlm_*.npz``) is built by ``python -m crnn.charlm``; it records the SHA-256
of the charset it was counted for, and :class:`CharLM` refuses any other charset.

Example:
    >>> import numpy as np
    >>> lm = CharLM.uniform(["a", "b"])
    >>> round(float(lm.logp(np.array([0]), np.array([1]))[0]), 3)
    -1.099
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_engine.errors import ModelError
from ocr_engine.recognition.ctc import CtcChar, CtcDecoded, line_confidence


def charset_sha256(charset: Sequence[str]) -> str:
    """Digest of a charset, as stored in the LM file."""
    return hashlib.sha256(json.dumps(list(charset), ensure_ascii=False).encode("utf-8")).hexdigest()


def _same_shape(*arrays: np.ndarray | int) -> list[np.ndarray]:
    """The arrays as int64, broadcast to one shape (without a copy when they already have it)."""
    out = [np.asarray(a, np.int64) for a in arrays]
    if any(a.shape != out[0].shape for a in out):
        out = list(np.broadcast_arrays(*out))
    return out


def _lookup(keys: np.ndarray, values: np.ndarray, key: np.ndarray, default: np.ndarray | float) -> np.ndarray:
    """``values`` at the positions of ``key`` in the sorted ``keys``; ``default`` where absent."""
    if not keys.size:
        return np.broadcast_to(np.asarray(default, np.float32), key.shape).astype(np.float32)
    pos = np.minimum(np.searchsorted(keys, key), keys.size - 1)
    return np.where(keys[pos] == key, values[pos], default)


class CharLM:
    """Interpolated Kneser-Ney character n-gram (bigram, optionally trigram) over the model's classes.

    Class 0 stands for the line boundary. Missing n-grams back off: ``log P(c | p2 p1)`` is the
    stored trigram, else the context's backoff plus ``log P(c | p1)``, which is the stored
    bigram, else ``p1``'s backoff plus the unigram.

    Args:
        charset: Characters of classes ``1..V-1``.
        keys: Sorted ``prev * V + cur`` of the stored bigrams.
        logp: Their log probabilities.
        backoff: Log interpolation weight per previous class.
        unigram: Log continuation probability per class.
        trigram: Optional ``(tri_keys, tri_logp, ctx_keys, ctx_backoff)``.
    """

    def __init__(self, charset: Sequence[str], keys: np.ndarray, logp: np.ndarray, backoff: np.ndarray,
                 unigram: np.ndarray, trigram: tuple[np.ndarray, ...] | None = None) -> None:
        self.vocab = int(unigram.shape[0])
        if backoff.shape != unigram.shape or keys.shape != logp.shape or self.vocab != len(charset) + 1:
            raise ModelError("language model tables do not match each other or the charset")
        self.charset = tuple(charset)
        self.index = {ch: i + 1 for i, ch in enumerate(self.charset)}
        self.keys = keys.astype(np.int64)
        self.logp_table = logp.astype(np.float32)
        self.backoff = backoff.astype(np.float32)
        self.unigram = unigram.astype(np.float32)
        self.order = 2
        if trigram is not None:
            tk, tl, ck, cb = trigram
            if tk.shape != tl.shape or ck.shape != cb.shape:
                raise ModelError("language model trigram tables do not match each other")
            self.tri_keys, self.tri_logp = tk.astype(np.int64), tl.astype(np.float32)
            self.ctx_keys, self.ctx_backoff = ck.astype(np.int64), cb.astype(np.float32)
            self.order = 3

    @classmethod
    def load(cls, path: str | os.PathLike[str], charset: Sequence[str]) -> CharLM:
        """Read an ``.npz`` LM and check that it was built for ``charset``.

        Raises:
            ModelError: Missing or unreadable file, or an LM for another charset.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                digest = str(z["charset_sha256"])
                if digest != charset_sha256(charset):
                    raise ModelError(f"language model {path} was built for another charset than the recognition model's")
                tri = None
                if "tri_keys" in z.files:
                    tri = (z["tri_keys"], z["tri_logp"], z["ctx_keys"], z["ctx_backoff"])
                return cls(charset, z["keys"], z["logp"], z["backoff"], z["unigram"], tri)
        except (OSError, KeyError, ValueError) as err:
            raise ModelError(f"cannot load language model {path}: {err}") from err

    @classmethod
    def uniform(cls, charset: Sequence[str]) -> CharLM:
        """An LM with no preference (every class equally likely): corrections change nothing."""
        v = len(charset) + 1
        return cls(charset, np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(v, np.float32),
                   np.full(v, -np.log(v), np.float32))

    def logp(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """``log P(cur | prev)`` for arrays of class indices (broadcast together)."""
        prev, cur = _same_shape(prev, cur)
        return _lookup(self.keys, self.logp_table, prev * self.vocab + cur, self.backoff[prev] + self.unigram[cur])

    def logp3(self, prev2: np.ndarray, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """``log P(cur | prev2 prev)``; the bigram ``log P(cur | prev)`` for a bigram-only LM."""
        prev2, prev, cur = _same_shape(prev2, prev, cur)
        low = self.logp(prev, cur)
        if self.order < 3:
            return low
        ctx = prev2 * self.vocab + prev
        backed_off = low + _lookup(self.ctx_keys, self.ctx_backoff, ctx, 0.0)
        return _lookup(self.tri_keys, self.tri_logp, ctx * self.vocab + cur, backed_off)


@dataclass(frozen=True)
class LmCandidates:
    """The candidates of one line: ``[n, k]`` class ids, model probabilities and usability.

    Small (a few values per character), so a caller can keep them after dropping ``probs``.
    """

    cands: np.ndarray
    p: np.ndarray
    usable: np.ndarray


def _span_peaks(probs: np.ndarray, first: np.ndarray, lengths: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per span of rows ``[first, first + length)``: the row where ``classes``' probability peaks.

    The first such row on ties, like ``argmax``.

    Example:
        >>> p = np.array([[0.2, 0.8], [0.1, 0.9], [0.6, 0.4]])
        >>> _span_peaks(p, np.array([0, 2]), np.array([2, 1]), np.array([1, 0])).tolist()
        [1, 2]
    """
    span = np.repeat(np.arange(first.size), lengths)
    offsets = np.arange(span.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = first[span] + offsets
    values = probs[rows, classes[span]]
    best = np.maximum.reduceat(values, np.cumsum(lengths) - lengths)
    at_best = np.flatnonzero(values == best[span])
    firsts = at_best[np.r_[True, span[at_best[1:]] != span[at_best[:-1]]]]
    return rows[firsts]


def lm_candidates(probs: np.ndarray, decoded: CtcDecoded, lm: CharLM, top_k: int = 5,
                  min_prob: float = 0.005, frames: np.ndarray | None = None) -> LmCandidates | None:
    """Candidates per greedy character (see :func:`lm_correct`), or None when none has an alternative.

    ``frames``: the frame of each row of ``probs`` when only some frames were classified (a gated
    model; the characters' frames are always among them); None: row ``t`` is frame ``t``.
    """
    if not decoded.chars:
        return None
    greedy = np.array([lm.index[c.char] for c in decoded.chars])
    first = np.array([c.frame_start for c in decoded.chars])
    lengths = np.array([c.frame_end - c.frame_start + 1 for c in decoded.chars])
    if frames is not None:  # the row of each character's first frame
        first = np.searchsorted(frames, first)
    peaks = _span_peaks(probs, first, lengths, greedy)
    n = len(greedy)
    peak_p = probs[peaks, greedy]
    # Only where the greedy class has less than 1 - min_prob can another reach min_prob.
    hesitant = np.flatnonzero(peak_p < 1.0 - min_prob)
    if hesitant.size == 0:
        return None
    rows = probs[peaks[hesitant]]                              # [H, C]
    mask = rows >= min_prob
    mask[np.arange(hesitant.size), greedy[hesitant]] = True
    mask[:, 0] = False                                         # the blank is no substitute
    r, c = np.divmod(np.flatnonzero(mask), mask.shape[1])      # (2-D nonzero is ~4x slower)
    order = np.lexsort((-rows[r, c], r))                       # by slot, most probable (greedy) first
    r, c = r[order], c[order]
    rank = np.arange(r.size) - np.searchsorted(r, r)           # position within its slot
    keep = rank < top_k
    r, c, rank = r[keep], c[keep], rank[keep]
    k = int(rank.max()) + 1
    if k == 1:
        return None
    cands = np.zeros((n, k), np.int64)
    p = np.zeros((n, k), np.float64)
    usable = np.zeros((n, k), bool)
    cands[:, 0], p[:, 0], usable[:, 0] = greedy, peak_p, True  # confident slots keep their class
    cands[hesitant[r], rank] = c
    p[hesitant[r], rank] = rows[r, c]
    usable[hesitant[r], rank] = True
    return LmCandidates(cands, p, usable)


def lm_correct_many(
    items: Sequence[tuple[np.ndarray, CtcDecoded]],
    lm: CharLM,
    weight: float = 0.35,
    top_k: int = 5,
    min_prob: float = 0.005,
) -> list[CtcDecoded]:
    """:func:`lm_correct` for many lines at once (one search over all of them: much faster).

    Example:
        >>> import numpy as np
        >>> from ocr_engine.recognition.ctc import ctc_greedy_decode
        >>> p = np.array([[0.0, 0.6, 0.4], [1.0, 0.0, 0.0]])
        >>> [d.text for d in lm_correct_many([(p, ctc_greedy_decode(p, ["x", "y"]))] * 2,
        ...                                  CharLM.uniform(["x", "y"]))]
        ['x', 'x']
    """
    if weight <= 0:
        return [d for _, d in items]
    return lm_apply([(d, lm_candidates(p, d, lm, top_k, min_prob)) for p, d in items], lm, weight)


def lm_apply(items: Sequence[tuple[CtcDecoded, LmCandidates | None]], lm: CharLM, weight: float = 0.35,
             chunk: int = 64) -> list[CtcDecoded]:
    """Second half of :func:`lm_correct_many`: search the lines' candidates, ``chunk`` lines at a time."""
    out = [d for d, _ in items]
    if weight <= 0:
        return out
    todo = [i for i, (_, s) in enumerate(items) if s is not None]
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        slots = [items[i][1] for i in part]
        n_max = max(s.cands.shape[0] for s in slots)
        k = max(s.cands.shape[1] for s in slots)
        cands = np.zeros((len(part), n_max, k), np.int64)
        usable = np.zeros((len(part), n_max, k), bool)
        emit = np.full((len(part), n_max, k), -np.inf)
        for row, s in enumerate(slots):
            n, kk = s.cands.shape
            cands[row, :n, :kk], usable[row, :n, :kk] = s.cands, s.usable
            emit[row, :n, :kk] = np.where(s.usable, np.log(np.maximum(s.p, 1e-12)), -np.inf)
        lengths = np.array([s.cands.shape[0] for s in slots])
        chosen = _viterbi3(emit, cands, usable, lengths, lm, weight)
        for row, (i, s) in enumerate(zip(part, slots)):
            if not chosen[row].any():  # the greedy reading stands: the decoded line as it is
                continue
            dec = items[i][0]
            chars = tuple(CtcChar(lm.charset[int(s.cands[t, j]) - 1], float(s.p[t, j]), c.frame_start, c.frame_end)
                          for t, (c, j) in enumerate(zip(dec.chars, chosen[row].tolist())))
            conf = line_confidence([c.confidence for c in chars], np.array([]))
            out[i] = CtcDecoded("".join(c.char for c in chars), conf, chars)
    return out


def lm_correct(
    probs: np.ndarray,
    decoded: CtcDecoded,
    lm: CharLM,
    weight: float = 0.35,
    top_k: int = 5,
    min_prob: float = 0.005,
) -> CtcDecoded:
    """Re-choose each greedily decoded character with the LM (substitutions only).

    A character's candidates are the ``top_k`` classes at the frame where the greedy class
    peaked (the blank and classes under ``min_prob`` excluded; the greedy class is always
    one). The Viterbi pass maximises ``sum log p_model + weight * sum log p_lm`` over the
    line, with the line boundary (class 0) before the first and after the last character.

    Args:
        probs: ``[T, C]`` probabilities the greedy reading came from (blank = class 0).
        decoded: The greedy reading of ``probs``.
        lm: The character LM for the model's charset.
        weight: LM weight; 0 returns ``decoded`` unchanged.
        top_k: Candidates per character.
        min_prob: Candidates below this probability are not considered.

    Returns:
        The corrected reading; a character's confidence is the model's probability of the
        chosen class at that character's peak frame.

    Example:
        >>> import numpy as np
        >>> from ocr_engine.recognition.ctc import ctc_greedy_decode
        >>> p = np.array([[0.0, 0.6, 0.4], [1.0, 0.0, 0.0]])
        >>> d = ctc_greedy_decode(p, ["x", "y"])
        >>> lm_correct(p, d, CharLM.uniform(["x", "y"])).text
        'x'
    """
    return lm_correct_many([(probs, decoded)], lm, weight, top_k, min_prob)[0]


def _viterbi3(emit: np.ndarray, cands: np.ndarray, usable: np.ndarray, lengths: np.ndarray,
              lm: CharLM, weight: float) -> np.ndarray:
    """Best candidate index per slot of each line under ``emit + weight * log P(c_i | c_i-2 c_i-1)``.

    Arrays are ``[L, N, k]`` (lines padded to ``N`` slots); ``lengths`` gives each line's slots.
    The state after slot ``i`` is the pair (candidate at ``i - 1``, candidate at ``i``), so the
    search is exact for a trigram (and for a bigram, which ignores the older class). The LM is
    looked up once for all usable candidate triples; the loop runs once per slot position for
    all lines together.
    """
    n_lines, n, k = cands.shape
    ext = np.concatenate([np.zeros((n_lines, 2, k), np.int64), cands], axis=1)    # two boundaries first
    first = np.zeros((n_lines, 2, k), bool)
    first[:, :, 0] = True
    ok = np.concatenate([first, usable], axis=1)
    li, s, z, a, b = np.nonzero(ok[:, :-2, :, None, None] & ok[:, 1:-1, None, :, None] & ok[:, 2:, None, None, :])
    lmz = np.full((n_lines, n, k, k, k), -np.inf)
    lmz[li, s, z, a, b] = weight * lm.logp3(ext[li, s, z], ext[li, s + 1, a], ext[li, s + 2, b])
    lmz += emit[:, :, None, None, :]
    score = np.full((n_lines, k, k), -np.inf)
    score[:, 0, 0] = 0.0                                                         # (boundary, boundary)
    final = np.empty_like(score)
    backs = np.empty((n_lines, n, k, k), np.int64)
    for i in range(n):
        total = lmz[:, i] + score[:, :, :, None]                                 # [L, z, a, b]
        best = total.argmax(axis=1)
        backs[:, i] = best
        score = np.take_along_axis(total, best[:, None], axis=1)[:, 0]           # state (a, b)
        ends = lengths == i + 1
        final[ends] = score[ends]
    rows = np.arange(n_lines)
    final += weight * lm.logp3(ext[rows, lengths][:, :, None], ext[rows, lengths + 1][:, None, :], 0)
    chosen = np.zeros((n_lines, n), np.int64)
    for line in range(n_lines):
        a, b = np.unravel_index(int(np.argmax(final[line])), (k, k))
        for i in range(int(lengths[line]) - 1, -1, -1):
            chosen[line, i] = b
            a, b = int(backs[line, i, a, b]), a
    return chosen
