"""Character bigram language model and the correction of greedy CTC readings with it.

The recogniser reads a line greedily (:func:`~ocr_service.recognition.ctc.ctc_greedy_decode`).
Where the model hesitated between similar characters (``l``/``I``, ``0``/``O``, look-alike
hanzi), :func:`lm_correct` picks, for every character the greedy pass found, the candidate
that maximises ``log p_model + weight * log p_lm`` over the whole line (Viterbi over the
character slots). It never adds or removes characters, so positions and spans stay those of
the greedy pass; it costs well under a millisecond per line.

The LM file (``charlm_*.npz``) is built by ``python -m crnn.charlm``; it records the SHA-256
of the charset it was counted for, and :class:`CharBigramLM` refuses any other charset.

Example:
    >>> import numpy as np
    >>> lm = CharBigramLM.uniform(["a", "b"])
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


class CharBigramLM:
    """Interpolated Kneser-Ney bigram over the recogniser's classes (class 0 = line boundary).

    Args:
        charset: Characters of classes ``1..V-1``.
        keys: Sorted ``prev * vocab + cur`` of the stored bigrams.
        logp: Their log probabilities.
        backoff: Log interpolation weight per previous class.
        unigram: Log continuation probability per class.
    """

    def __init__(self, charset: Sequence[str], keys: np.ndarray, logp: np.ndarray, backoff: np.ndarray,
                 unigram: np.ndarray) -> None:
        self.vocab = int(unigram.shape[0])
        if backoff.shape != unigram.shape or keys.shape != logp.shape or self.vocab != len(charset) + 1:
            raise ModelError("language model tables do not match each other or the charset")
        self.charset = tuple(charset)
        self.index = {ch: i + 1 for i, ch in enumerate(self.charset)}
        self.keys = keys.astype(np.int64)
        self.logp_table = logp.astype(np.float32)
        self.backoff = backoff.astype(np.float32)
        self.unigram = unigram.astype(np.float32)

    @classmethod
    def load(cls, path: str | os.PathLike[str], charset: Sequence[str]) -> CharBigramLM:
        """Read an ``.npz`` LM and check that it was built for ``charset``.

        Raises:
            ModelError: Missing or unreadable file, or an LM for another charset.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                digest = str(z["charset_sha256"])
                if digest != charset_sha256(charset):
                    raise ModelError(f"language model {path} was built for another charset than the recognition model's")
                return cls(charset, z["keys"], z["logp"], z["backoff"], z["unigram"])
        except (OSError, KeyError, ValueError) as err:
            raise ModelError(f"cannot load language model {path}: {err}") from err

    @classmethod
    def uniform(cls, charset: Sequence[str]) -> CharBigramLM:
        """An LM with no preference (every class equally likely): corrections change nothing."""
        v = len(charset) + 1
        return cls(charset, np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(v, np.float32),
                   np.full(v, -np.log(v), np.float32))

    def logp(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """``log P(cur | prev)`` for arrays of class indices (broadcast together)."""
        prev, cur = np.broadcast_arrays(np.asarray(prev, np.int64), np.asarray(cur, np.int64))
        key = prev * self.vocab + cur
        out = self.backoff[prev] + self.unigram[cur]
        if self.keys.size:
            pos = np.minimum(np.searchsorted(self.keys, key), self.keys.size - 1)
            hit = self.keys[pos] == key
            out = np.where(hit, self.logp_table[pos], out)
        return out


def lm_correct(
    probs: np.ndarray,
    decoded: CtcDecoded,
    lm: CharBigramLM,
    weight: float = 0.35,
    top_k: int = 8,
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
        >>> lm_correct(p, d, CharBigramLM.uniform(["x", "y"])).text
        'x'
    """
    if weight <= 0 or not decoded.chars:
        return decoded
    greedy = np.array([lm.index[c.char] for c in decoded.chars])
    peaks = np.array([c.frame_start + int(probs[c.frame_start : c.frame_end + 1, g].argmax())
                      for c, g in zip(decoded.chars, greedy)])
    rows = probs[peaks]                                        # [S, C]
    mask = rows >= min_prob
    mask[np.arange(len(greedy)), greedy] = True
    mask[:, 0] = False                                         # the blank is no substitute
    r, c = np.nonzero(mask)
    order = np.lexsort((-rows[r, c], r))                       # by slot, then most probable first
    r, c = r[order], c[order]
    rank = np.arange(r.size) - np.searchsorted(r, r)           # position within its slot
    keep = rank < top_k
    k = int(rank[keep].max()) + 1
    if k == 1:
        return decoded
    cands = np.zeros((len(greedy), k), np.int64)
    p = np.zeros((len(greedy), k), probs.dtype)
    usable = np.zeros((len(greedy), k), bool)
    cands[r[keep], rank[keep]] = c[keep]
    p[r[keep], rank[keep]] = rows[r[keep], c[keep]]
    usable[r[keep], rank[keep]] = True
    emit = np.where(usable, np.log(np.maximum(p, 1e-12)), -np.inf)
    trans = weight * lm.logp(cands[:-1, :, None], cands[1:, None, :])  # [S-1, k, k]
    score = emit[0] + weight * lm.logp(0, cands[0])
    back = np.empty((len(greedy) - 1, k), np.int64)
    for i in range(len(greedy) - 1):
        step = score[:, None] + trans[i]
        back[i] = step.argmax(axis=0)
        score = step[back[i], np.arange(k)] + emit[i + 1]
    score = score + weight * lm.logp(cands[-1], 0)
    j = int(score.argmax())
    chosen = [j]
    for b in back[::-1]:
        j = int(b[j])
        chosen.append(j)
    chosen.reverse()
    chars = tuple(CtcChar(lm.charset[int(cands[i, j]) - 1], float(p[i, j]), c.frame_start, c.frame_end)
                  for i, (c, j) in enumerate(zip(decoded.chars, chosen)))
    conf = line_confidence([c.confidence for c in chars], np.array([]))
    return CtcDecoded("".join(c.char for c in chars), conf, chars)
