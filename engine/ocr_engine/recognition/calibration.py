"""Calibrated line confidence: the chance that a line's reading is exactly right.

The recogniser's own line confidence (the mean of its characters' probabilities) ranks the
readings of one line well, which is all the engine's decisions need (which reading of a line
to keep, which lines to drop, which way up a page is), but it is no probability: on typeset
documents a line read at 0.97 was right about half of the time, since one wrong character in
sixty is enough to get a line wrong, and a mean hides it.

:class:`Calibration` maps a reading's *surprisal*, the sum over its characters of
``-log p`` (:func:`surprisal`: long lines and weak characters both count), to the probability
that the line is right, exactly, after the evaluation's normalisation::

    P(right) = sigmoid(a + b * log(eps + surprisal))

three numbers fitted by maximum likelihood (:func:`fit_calibration`, numpy only) on lines of
real typeset documents the model never trained on, by the evaluation harness (its ``calibrate`` module), which
writes them beside the model (``calibration_zh_en.json``) with the name and version of the
model they were fitted for. A file fitted for another model is not used (:func:`calibration_for`):
the engine then reports the raw confidence and says so in ``model_info()``.

Only the reported line confidence is calibrated (``Line.confidence`` of the result); the
engine decides on the raw one, and the characters' confidences stay the model's.

:func:`expected_calibration_error` and :func:`reliability_table` measure a calibration.

Example:
    >>> cal = Calibration(a=2.0, b=-4.0, eps=0.6, model_name="m", model_version="1")
    >>> round(cal.probability([0.999, 0.998]), 3), round(cal.probability([0.99, 0.4, 0.9]), 3)
    (0.982, 0.51)
    >>> expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, True, False, True])
    0.25
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocr_engine.errors import ModelError

# What the file says it is (``kind``) and the version of its layout (``format``).
CALIBRATION_KIND = "line-surprisal-logistic"
CALIBRATION_FORMAT = 1
# A character's probability is taken as at least this (a probability of 0 would make a line
# infinitely surprising; the result's character confidences are rounded to 4 decimals).
MIN_CHAR_PROB = 1e-4
# Expected calibration error: equal-width confidence bins over [0, 1].
ECE_BINS = 15
# The fit tries these offsets ``eps`` and keeps the most likely; ``a`` and ``b`` by Newton's method.
EPS_GRID = tuple(float(e) for e in np.geomspace(1e-3, 10.0, 41))
# A little ridge on ``b`` keeps the fit finite on separable data (tests, tiny sets).
L2 = 1e-3


def surprisal(char_confidences: Sequence[float] | np.ndarray) -> float:
    """A reading's surprisal: the sum over its characters of ``-log p`` (0 for no characters).

    Example:
        >>> round(surprisal([0.5, 1.0]), 4), surprisal([])
        (0.6931, 0.0)
    """
    p = np.clip(np.asarray(char_confidences, np.float64), MIN_CHAR_PROB, 1.0)
    return float(-np.log(p).sum()) if p.size else 0.0


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class Calibration:
    """``P(right) = sigmoid(a + b * log(eps + surprisal))`` for one model.

    Attributes:
        a: Intercept.
        b: Slope on the log surprisal (negative: more surprise, less chance of being right).
        eps: Offset of the surprisal (> 0).
        model_name: Name of the model it was fitted for (``ModelMeta.model_name``).
        model_version: Its version.
        info: What the fit was made on and how well it did (written to the file, informative).
    """

    a: float
    b: float
    eps: float
    model_name: str
    model_version: str
    info: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def probabilities(self, surprisals: Sequence[float] | np.ndarray) -> np.ndarray:
        """The probability that each reading is right, from their :func:`surprisal`."""
        s = np.maximum(np.asarray(surprisals, np.float64), 0.0)
        return _sigmoid(self.a + self.b * np.log(self.eps + s))

    def probability(self, char_confidences: Sequence[float] | np.ndarray) -> float:
        """The probability that a reading with these character confidences is right.

        A reading without characters has no chance of being a line's text: 0.
        """
        if len(char_confidences) == 0:
            return 0.0
        return float(self.probabilities([surprisal(char_confidences)])[0])

    def fits(self, model_name: str, model_version: str) -> bool:
        """Whether it was fitted for this model (name and version)."""
        return (self.model_name, self.model_version) == (model_name, model_version)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the file."""
        return {"kind": CALIBRATION_KIND, "format": CALIBRATION_FORMAT,
                "model_name": self.model_name, "model_version": self.model_version,
                "formula": "sigmoid(a + b * log(eps + sum(-log(max(p, 1e-4)))))",
                "a": self.a, "b": self.b, "eps": self.eps, "info": dict(self.info)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: Another kind of file, another format, or a parameter missing or not finite.
        """
        if d.get("kind") != CALIBRATION_KIND or d.get("format") != CALIBRATION_FORMAT:
            raise ValueError(f"not a {CALIBRATION_KIND} calibration of format {CALIBRATION_FORMAT}")
        try:
            a, b, eps = (float(d[k]) for k in ("a", "b", "eps"))
            name, version = str(d["model_name"]), str(d["model_version"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"calibration parameter missing or not a number: {err}") from err
        if not all(math.isfinite(v) for v in (a, b, eps)) or eps <= 0:
            raise ValueError("calibration parameters must be finite, with eps > 0")
        return cls(a, b, eps, name, version, dict(d.get("info") or {}))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the file (UTF-8 JSON); returns its path."""
        out = Path(path)
        out.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        """Read a file written by :meth:`save`.

        Raises:
            ModelError: Missing, unreadable, or not a calibration file.
        """
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, AttributeError) as err:
            raise ModelError(f"cannot load confidence calibration {path}: {err}") from err


def calibration_for(path: Path | None, model_name: str, model_version: str) -> tuple[Calibration | None, str]:
    """The calibration to use for a model, and a note that says which (for ``model_info()``).

    ``None`` (the raw confidence is reported) when there is no file (``path`` None) or the file
    was fitted for another model name or version.

    Raises:
        ModelError: The file cannot be read or is not a calibration.

    Example:
        >>> calibration_for(None, "crnn_zh_en", "0.6.1")
        (None, 'raw confidence: no calibration file beside the model')
    """
    if path is None:
        return None, "raw confidence: no calibration file beside the model"
    cal = Calibration.load(path)
    if not cal.fits(model_name, model_version):
        return None, (f"raw confidence: {Path(path).name} was fitted for {cal.model_name} {cal.model_version}, "
                      f"not {model_name} {model_version}")
    return cal, f"calibrated by {Path(path).name} (fitted for {cal.model_name} {cal.model_version})"


def _newton_logistic(x: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[np.ndarray, float]:
    """``(a, b)`` of ``sigmoid(a + b x)`` by Newton's method (ridge :data:`L2` on ``b``), and its log-likelihood."""
    X = np.stack([np.ones_like(x), x], axis=1)
    w = np.zeros(2)
    ridge = np.diag([0.0, L2])
    for _ in range(iters):
        p = _sigmoid(X @ w)
        grad = X.T @ (p - y) + ridge @ w
        hess = (X.T * (p * (1 - p))) @ X + ridge + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    p = np.clip(_sigmoid(X @ w), 1e-12, 1 - 1e-12)
    return w, float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_calibration(surprisals: Sequence[float] | np.ndarray, right: Sequence[bool] | np.ndarray, *,
                    model_name: str, model_version: str, info: Mapping[str, Any] | None = None) -> Calibration:
    """Fit ``a``, ``b`` and ``eps`` by maximum likelihood: readings' :func:`surprisal` and whether each was right.

    ``eps`` is the most likely of :data:`EPS_GRID`; ``a`` and ``b`` are the logistic regression
    of ``right`` on ``log(eps + surprisal)`` for it.

    Raises:
        ValueError: No readings, a length mismatch, or all of them right (or all wrong).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> s = rng.exponential(1.0, 4000)
        >>> truth = Calibration(2.0, -3.0, 0.5, "m", "1")
        >>> right = rng.random(4000) < truth.probabilities(s)
        >>> fit = fit_calibration(s, right, model_name="m", model_version="1")
        >>> bool(np.abs(fit.probabilities(s) - truth.probabilities(s)).max() < 0.05)
        True
    """
    s = np.maximum(np.asarray(surprisals, np.float64), 0.0)
    y = np.asarray(right, np.float64)
    if s.ndim != 1 or s.shape != y.shape or not s.size:
        raise ValueError("surprisals and right must be two 1-D sequences of the same, non-zero length")
    if y.min() == y.max():
        raise ValueError("the fit needs readings both right and wrong")
    best: tuple[float, float, np.ndarray] | None = None
    for eps in EPS_GRID:
        w, ll = _newton_logistic(np.log(eps + s), y)
        if best is None or ll > best[0]:
            best = (ll, eps, w)
    assert best is not None
    _, eps, (a, b) = best
    return Calibration(float(a), float(b), float(eps), model_name, model_version, dict(info or {}))


def _bins(p: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(np.int64), bins - 1)


def expected_calibration_error(confidences: Sequence[float] | np.ndarray, right: Sequence[bool] | np.ndarray,
                               bins: int = ECE_BINS) -> float:
    """Expected calibration error: over ``bins`` equal-width confidence bins, the mean gap
    between confidence and accuracy in each bin, weighted by its share of the readings.

    A confidence of exactly 1 falls in the last bin; no readings: 0.

    Example:
        >>> expected_calibration_error([0.95, 0.95, 0.95, 0.95], [True, True, True, False])
        0.2
    """
    p = np.asarray(confidences, np.float64)
    y = np.asarray(right, np.float64)
    if not p.size:
        return 0.0
    idx = _bins(p, bins)
    gap = np.abs(np.bincount(idx, p, bins) - np.bincount(idx, y, bins))  # n * |mean p - mean y|
    return round(float(gap.sum() / p.size), 12)


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability table: ``[lo, hi)`` confidences, its readings, their mean
    confidence and the share of them that were right."""

    lo: float
    hi: float
    n: int
    confidence: float
    accuracy: float


def reliability_table(confidences: Sequence[float] | np.ndarray, right: Sequence[bool] | np.ndarray,
                      bins: int = ECE_BINS) -> list[ReliabilityBin]:
    """The bins of :func:`expected_calibration_error` that hold readings, in order.

    Example:
        >>> [(b.n, b.confidence, b.accuracy) for b in reliability_table([0.1, 0.95, 0.97], [False, True, False])]
        [(1, 0.1, 0.0), (2, 0.96, 0.5)]
    """
    p = np.asarray(confidences, np.float64)
    y = np.asarray(right, np.float64)
    idx = _bins(p, bins)
    out = []
    for k in range(bins):
        m = idx == k
        if m.any():
            out.append(ReliabilityBin(k / bins, (k + 1) / bins, int(m.sum()),
                                      round(float(p[m].mean()), 6), round(float(y[m].mean()), 6)))
    return out


__all__ = ["CALIBRATION_FORMAT", "CALIBRATION_KIND", "ECE_BINS", "Calibration", "ReliabilityBin",
           "calibration_for", "expected_calibration_error", "fit_calibration", "reliability_table", "surprisal"]
