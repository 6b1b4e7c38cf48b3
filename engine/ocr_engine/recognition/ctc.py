"""Greedy (best-path) CTC decoding.

Pure numpy; independent of onnxruntime so that it can be unit-tested alone.

Example:
    >>> import numpy as np
    >>> probs = np.array([[.1, .9, 0], [.1, .8, .1], [.9, .05, .05], [0, .1, .9]])
    >>> d = ctc_greedy_decode(probs, ["a", "b"])
    >>> d.text, [c.frame_start for c in d.chars]
    ('ab', [0, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CtcChar:
    """One decoded character.

    Attributes:
        char: The character.
        confidence: Highest probability of this class over its run of frames.
        frame_start: First frame (inclusive) of the run.
        frame_end: Last frame (inclusive) of the run.
    """

    char: str
    confidence: float
    frame_start: int
    frame_end: int

    @property
    def frame_center(self) -> float:
        """Centre of the run in frame units (frame ``t`` spans ``[t, t + 1)``)."""
        return (self.frame_start + self.frame_end + 1) / 2.0


@dataclass(frozen=True)
class CtcDecoded:
    """A decoded sequence: ``text``, line ``confidence`` and its characters."""

    text: str
    confidence: float
    chars: tuple[CtcChar, ...]


def line_confidence(char_confidences: Sequence[float], frame_max: np.ndarray) -> float:
    """Combine per-character confidences into one line confidence.

    The mean of the character confidences; for an empty result, the mean best
    (blank) probability over the frames, i.e. how sure the model is that there is
    no text.

    Example:
        >>> line_confidence([0.9, 0.7], np.array([]))
        0.8
    """
    if len(char_confidences):
        return float(np.mean(char_confidences))
    if frame_max.size:
        return float(np.mean(frame_max))
    return 0.0


def best_path(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best class of every frame of ``[T, C]`` probabilities, and its probability.

    Example:
        >>> best, p = best_path(np.array([[0.2, 0.8], [0.9, 0.1]]))
        >>> best.tolist(), p.tolist()
        ([1, 0], [0.8, 0.9])
    """
    best = probs.argmax(axis=1)
    return best, probs[np.arange(probs.shape[0]), best]


def gated_best_path(rows: np.ndarray, frames: np.ndarray, blank_prob: np.ndarray,
                    blank_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`best_path` of a gated model's line (see ``CONTRACTS.md``).

    Only the frames in ``frames`` were classified (``rows``: their ``[M, C]`` probabilities); every
    other frame is the blank, with the gate's probability ``blank_prob[t]``.

    Example:
        >>> rows = np.array([[0.1, 0.9, 0.0]])
        >>> best, p = gated_best_path(rows, np.array([1]), np.array([0.99, 0.2, 0.98]))
        >>> best.tolist(), p.round(2).tolist()
        ([0, 1, 0], [0.99, 0.9, 0.98])
    """
    best = np.full(blank_prob.shape[0], blank_index, np.int64)
    p = blank_prob.astype(np.result_type(blank_prob, rows), copy=True)
    if len(frames):
        b, bp = best_path(rows)
        best[frames], p[frames] = b, bp
    return best, p


def decode_best_path(best: np.ndarray, best_p: np.ndarray, charset: Sequence[str],
                     blank_index: int = 0) -> CtcDecoded:
    """Collapse a best path (class and probability per frame) into text: merge repeats, drop blanks.

    Example:
        >>> decode_best_path(np.array([1, 1, 0, 1, 2]), np.ones(5), ["x", "y"]).text
        'xxy'
    """
    if best.shape[0] == 0:
        return CtcDecoded("", 0.0, ())
    # Start of a run: first frame, or class differs from the previous frame.
    starts = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    ends = np.r_[starts[1:], best.shape[0]] - 1
    peaks = np.maximum.reduceat(best_p, starts)               # highest probability of each run
    keep = best[starts] != blank_index
    classes = best[starts[keep]]
    chars = tuple(
        CtcChar(charset[cls - 1 if cls > blank_index else cls], p, s, e)
        for cls, p, s, e in zip(classes.tolist(), peaks[keep].tolist(), starts[keep].tolist(), ends[keep].tolist())
    )
    conf = line_confidence([c.confidence for c in chars], best_p)
    return CtcDecoded("".join(c.char for c in chars), conf, chars)


def ctc_greedy_decode(
    probs: np.ndarray, charset: Sequence[str], blank_index: int = 0
) -> CtcDecoded:
    """Decode one sequence of per-frame class probabilities by best path.

    Takes the argmax class per frame, merges repeats and drops blanks. Class
    ``i`` maps to ``charset[i - 1]`` when ``blank_index`` is 0 (the project's
    contract); in general classes other than the blank map to ``charset`` in order.

    Args:
        probs: ``[T, C]`` probabilities (softmax already applied).
        charset: Characters for the non-blank classes, in class order.
        blank_index: Class index of the CTC blank.

    Returns:
        The text, a line confidence and per-character confidences and frame spans.

    Raises:
        ValueError: If ``probs`` is not 2-D or its class count does not match.

    Example:
        >>> import numpy as np
        >>> p = np.eye(3)[[1, 1, 0, 1, 2]]
        >>> ctc_greedy_decode(p, ["x", "y"]).text
        'xxy'
    """
    if probs.ndim != 2:
        raise ValueError(f"probs must be [T, C], got shape {probs.shape}")
    if probs.shape[1] != len(charset) + 1:
        raise ValueError(
            f"probs has {probs.shape[1]} classes but charset has {len(charset)} + blank"
        )
    if probs.shape[0] == 0:
        return CtcDecoded("", 0.0, ())
    return decode_best_path(*best_path(probs), charset, blank_index)
