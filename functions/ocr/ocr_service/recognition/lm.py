"""Character n-gram language model and the correction of greedy CTC readings with it.

The recogniser reads a line greedily (:func:`~ocr_service.recognition.ctc.ctc_greedy_decode`).
Where the model hesitated between similar characters (``l``/``I``, ``0``/``O``, look-alike
hanzi), :func:`lm_correct` picks, for every character the greedy pass found, the candidate
that maximises ``log p_model + weight * log p_lm`` over the whole line (Viterbi over the
character slots). It never adds or removes characters, so positions and spans stay those of
the greedy pass; it costs well under a millisecond per line.

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
from pathlib import Path

import numpy as np

from ocr_service.errors import ModelError
from ocr_service.recognition.ctc import CtcChar, CtcDecoded, line_confidence


def charset_sha256(charset: Sequence[str]) -> str:
    """Digest of a charset, as stored in the LM file."""
    return hashlib.sha256(json.dumps(list(charset), ensure_ascii=False).encode("utf-8")).hexdigest()


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
        prev, cur = np.broadcast_arrays(np.asarray(prev, np.int64), np.asarray(cur, np.int64))
        return _lookup(self.keys, self.logp_table, prev * self.vocab + cur, self.backoff[prev] + self.unigram[cur])

    def logp3(self, prev2: np.ndarray, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """``log P(cur | prev2 prev)``; the bigram ``log P(cur | prev)`` for a bigram-only LM."""
        prev2, prev, cur = np.broadcast_arrays(*(np.asarray(a, np.int64) for a in (prev2, prev, cur)))
        low = self.logp(prev, cur)
        if self.order < 3:
            return low
        ctx = prev2 * self.vocab + prev
        backed_off = low + _lookup(self.ctx_keys, self.ctx_backoff, ctx, 0.0)
        return _lookup(self.tri_keys, self.tri_logp, ctx * self.vocab + cur, backed_off)


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
        >>> from ocr_service.recognition.ctc import ctc_greedy_decode
        >>> p = np.array([[0.0, 0.6, 0.4], [1.0, 0.0, 0.0]])
        >>> d = ctc_greedy_decode(p, ["x", "y"])
        >>> lm_correct(p, d, CharLM.uniform(["x", "y"])).text
        'x'
    """
    if weight <= 0 or not decoded.chars:
        return decoded
    greedy = np.array([lm.index[c.char] for c in decoded.chars])
    peaks = np.array([c.frame_start + int(probs[c.frame_start : c.frame_end + 1, g].argmax())
                      for c, g in zip(decoded.chars, greedy)])
    n = len(greedy)
    peak_p = probs[peaks, greedy]
    # Only where the greedy class has less than 1 - min_prob can another reach min_prob.
    hesitant = np.flatnonzero(peak_p < 1.0 - min_prob)
    if hesitant.size == 0:
        return decoded
    rows = probs[peaks[hesitant]]                              # [H, C]
    mask = rows >= min_prob
    mask[np.arange(hesitant.size), greedy[hesitant]] = True
    mask[:, 0] = False                                         # the blank is no substitute
    r, c = np.nonzero(mask)
    order = np.lexsort((-rows[r, c], r))                       # by slot, most probable (greedy) first
    r, c = r[order], c[order]
    rank = np.arange(r.size) - np.searchsorted(r, r)           # position within its slot
    keep = rank < top_k
    r, c, rank = r[keep], c[keep], rank[keep]
    k = int(rank.max()) + 1
    if k == 1:
        return decoded
    cands = np.zeros((n, k), np.int64)
    p = np.zeros((n, k), probs.dtype)
    usable = np.zeros((n, k), bool)
    cands[:, 0], p[:, 0], usable[:, 0] = greedy, peak_p, True  # confident slots keep their class
    cands[hesitant[r], rank] = c
    p[hesitant[r], rank] = rows[r, c]
    usable[hesitant[r], rank] = True
    emit = np.where(usable, np.log(np.maximum(p, 1e-12)), -np.inf)
    chosen = np.zeros(n, np.int64)                             # column 0: the greedy class
    for a, b in _open_windows(usable.sum(axis=1) > 1):
        width = int(usable[a:b].sum(axis=1).max())
        chosen[a:b] = _viterbi3(emit[a:b, :width], cands[a:b, :width], usable[a:b, :width], lm, weight)
    chars = tuple(CtcChar(lm.charset[int(cands[i, j]) - 1], float(p[i, j]), c.frame_start, c.frame_end)
                  for i, (c, j) in enumerate(zip(decoded.chars, chosen.tolist())))
    conf = line_confidence([c.confidence for c in chars], np.array([]))
    return CtcDecoded("".join(c.char for c in chars), conf, chars)


def _open_windows(open_slots: np.ndarray, context: int = 2) -> list[tuple[int, int]]:
    """Slot ranges to search: the open (multi-candidate) slots with ``context`` fixed slots around.

    A trigram cannot see across two fixed slots, so windows separated by more than that are
    independent, and searching them alone gives the same result as searching the whole line.
    Windows fewer than 8 slots apart are searched together (one call costs more than 8 slots).

    Example:
        >>> _open_windows(np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0] + [0] * 12 + [1], bool))
        [(1, 13), (22, 25)]
    """
    idx = np.flatnonzero(open_slots)
    windows: list[tuple[int, int]] = []
    for i in idx.tolist():
        a, b = max(0, i - context), min(len(open_slots), i + context + 1)
        if windows and a < windows[-1][1] + 8:  # overlapping or close: one search (fewer calls)
            windows[-1] = (windows[-1][0], b)
        else:
            windows.append((a, b))
    return windows


def _viterbi3(emit: np.ndarray, cands: np.ndarray, usable: np.ndarray, lm: CharLM, weight: float) -> np.ndarray:
    """Best candidate index per slot under ``emit + weight * log P(c_i | c_i-2 c_i-1)``.

    The state after slot ``i`` is the pair (candidate at ``i - 1``, candidate at ``i``), so the
    search is exact for a trigram (and for a bigram, which ignores the older class). The LM is
    looked up once, for the usable candidate triples of all slots; the loop only does
    ``k x k x k`` maxima.
    """
    n, k = cands.shape
    ext = np.vstack([np.zeros((2, k), np.int64), cands])               # two boundaries first
    ok = np.vstack([np.eye(1, k, dtype=bool)] * 2 + [usable])
    s, z, a, b = np.nonzero(ok[:-2, :, None, None] & ok[1:-1, None, :, None] & ok[2:, None, None, :])
    lmz = np.full((n, k, k, k), -np.inf)
    lmz[s, z, a, b] = weight * lm.logp3(ext[s, z], ext[s + 1, a], ext[s + 2, b])
    score = np.full((k, k), -np.inf)
    score[0, 0] = 0.0                                                  # (boundary, boundary)
    backs = np.empty((n, k, k), np.int64)
    for i in range(n):
        total = score[:, :, None] + lmz[i] + emit[i][None, None, :]    # [z, a, b]
        backs[i] = total.argmax(axis=0)
        score = total.max(axis=0)                                      # state (a, b)
    score = score + weight * lm.logp3(ext[n][:, None], ext[n + 1][None, :], 0)
    a, b = np.unravel_index(int(np.argmax(score)), score.shape)
    chosen = np.empty(n, np.int64)
    for i in range(n - 1, -1, -1):
        chosen[i] = b
        a, b = int(backs[i][a, b]), a
    return chosen
