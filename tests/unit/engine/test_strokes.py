"""The shared stroke components: selecting components one by one or by relabelling gives one mask."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_engine.detection import strokes as strokes_module
from ocr_engine.detection.strokes import Strokes, select


def _dots(n: int, seed: int = 0) -> np.ndarray:
    """A mask of ``n`` separate 2x2 dots and one long bar."""
    mask = np.zeros((120, 400), np.uint8)
    rng = np.random.default_rng(seed)
    cells = rng.choice(30 * 80, size=n, replace=False)
    for c in cells:
        y, x = divmod(int(c), 80)
        mask[4 * y:4 * y + 2, 5 * x:5 * x + 2] = 255
    mask[118:120, :] = 255
    return mask


@pytest.mark.parametrize("dropped", [0, 3, 150, 600])
def test_both_ways_of_selecting_components_agree(dropped: int, monkeypatch) -> None:
    strokes = Strokes.of(_dots(700))
    n = len(strokes.stats)
    chosen = np.ones(n, bool)
    chosen[0] = False
    chosen[1 + np.random.default_rng(1).choice(n - 1, size=dropped, replace=False)] = False
    one_by_one = select(strokes, chosen)
    monkeypatch.setattr(strokes_module, "SELECT_ONE_BY_ONE", -1)
    relabelled = select(strokes, chosen)
    assert one_by_one.dtype == np.uint8 and np.array_equal(one_by_one, relabelled)
    assert np.array_equal(one_by_one > 0, chosen[strokes.labels])
    assert not np.shares_memory(one_by_one, strokes.mask)


def test_dropping_the_bar_keeps_every_dot() -> None:
    mask = _dots(10)
    strokes = Strokes.of(mask)
    bar = int(np.argmax(strokes.stats[1:, 2])) + 1
    chosen = np.ones(len(strokes.stats), bool)
    chosen[[0, bar]] = False
    out = select(strokes, chosen)
    assert out[118:].max() == 0 and int((out > 0).sum()) == 10 * 4
