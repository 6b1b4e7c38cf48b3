"""Unit tests of the pure greedy CTC decoder."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_engine.recognition.ctc import ctc_greedy_decode, decode_best_path, gated_best_path

CHARSET = ["x", "y", "z"]


def one_hot(classes: list[int], p: float = 0.9) -> np.ndarray:
    """Frames whose best class is ``classes[t]`` with probability ``p``."""
    out = np.full((len(classes), 4), (1 - p) / 3, np.float32)
    out[np.arange(len(classes)), classes] = p
    return out


def test_merges_repeats_and_drops_blanks() -> None:
    assert ctc_greedy_decode(one_hot([1, 1, 0, 2, 2, 2, 0, 0, 3]), CHARSET).text == "xyz"


def test_blank_separates_double_letters() -> None:
    assert ctc_greedy_decode(one_hot([1, 0, 1, 1, 0, 1]), CHARSET).text == "xxx"


def test_all_blank_is_empty_with_confidence_of_blank() -> None:
    dec = ctc_greedy_decode(one_hot([0, 0, 0], p=0.7), CHARSET)
    assert dec.text == "" and dec.chars == ()
    assert dec.confidence == pytest.approx(0.7)


def test_char_confidence_is_max_over_run_and_line_is_mean() -> None:
    probs = one_hot([1, 1, 0, 2])
    probs[0] = [0.1, 0.6, 0.2, 0.1]
    dec = ctc_greedy_decode(probs, CHARSET)
    assert [c.confidence for c in dec.chars] == pytest.approx([0.9, 0.9])
    probs[1] = [0.1, 0.5, 0.2, 0.2]
    dec = ctc_greedy_decode(probs, CHARSET)
    assert dec.chars[0].confidence == pytest.approx(0.6)
    assert dec.confidence == pytest.approx((0.6 + 0.9) / 2)


def test_frame_spans() -> None:
    dec = ctc_greedy_decode(one_hot([0, 1, 1, 1, 0, 3]), CHARSET)
    assert [(c.frame_start, c.frame_end) for c in dec.chars] == [(1, 3), (5, 5)]
    assert dec.chars[0].frame_center == pytest.approx(2.5)


def test_non_zero_blank_index() -> None:
    # blank is the last class; classes 0..2 map to the charset in order.
    assert ctc_greedy_decode(one_hot([0, 3, 2, 2]), CHARSET, blank_index=3).text == "xz"


def test_empty_sequence() -> None:
    assert ctc_greedy_decode(np.zeros((0, 4), np.float32), CHARSET).text == ""


def test_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError):
        ctc_greedy_decode(np.zeros((2, 3, 4)), CHARSET)
    with pytest.raises(ValueError):
        ctc_greedy_decode(np.zeros((2, 5)), CHARSET)


def test_gated_frames_read_as_blank_with_the_gate_probability() -> None:
    # Frames 0..6: y y (skipped) y (skipped) (skipped) z; only 0, 1, 3 and 6 classified.
    rows = one_hot([2, 2, 2, 3], p=0.8)
    best, p = gated_best_path(rows, np.array([0, 1, 3, 6]), np.array([0.0, 0.0, 0.99, 0.0, 0.97, 0.96, 0.0]))
    assert best.tolist() == [2, 2, 0, 2, 0, 0, 3]
    assert p.tolist() == pytest.approx([0.8, 0.8, 0.99, 0.8, 0.97, 0.96, 0.8])
    d = decode_best_path(best, p, CHARSET)
    assert d.text == "yyz"  # the skipped frame between the runs still separates them
    assert [(c.frame_start, c.frame_end) for c in d.chars] == [(0, 1), (3, 3), (6, 6)]


def test_a_line_with_every_frame_skipped_is_empty_with_the_gate_confidence() -> None:
    best, p = gated_best_path(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.array([0.9, 0.7]))
    d = decode_best_path(best, p, CHARSET)
    assert d.text == "" and d.confidence == pytest.approx(0.8)


def _reference_decode(best: np.ndarray, best_p: np.ndarray, blank: int) -> list[tuple[int, float, int, int]]:
    """Run by run, in plain Python: (class, highest probability, first frame, last frame)."""
    out, start = [], 0
    for t in range(1, len(best) + 1):
        if t == len(best) or best[t] != best[start]:
            if best[start] != blank:
                out.append((int(best[start]), float(best_p[start:t].max()), start, t - 1))
            start = t
    return out


@pytest.mark.parametrize("blank", [0, 3])
def test_the_vectorised_decoder_matches_a_run_by_run_reference(blank: int) -> None:
    rng = np.random.default_rng(blank)
    for _ in range(50):
        best = rng.choice([0, 0, 1, 2, 3], size=int(rng.integers(1, 40)))
        best_p = rng.random(best.size).astype(np.float32)
        dec = decode_best_path(best, best_p, CHARSET, blank)
        expected = _reference_decode(best, best_p, blank)
        got = [(c.char, c.confidence, c.frame_start, c.frame_end) for c in dec.chars]
        classes = [cls for cls, *_ in expected]
        chars = [CHARSET[cls - 1 if cls > blank else cls] for cls in classes]
        assert got == [(ch, p, s, e) for ch, (_, p, s, e) in zip(chars, expected)]
        assert dec.text == "".join(chars)
