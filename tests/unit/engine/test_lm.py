"""The character LM and the correction of greedy CTC readings (pure numpy, toy charsets)."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_engine.config import LM_FILE, OcrConfig
from ocr_engine.errors import ConfigError, ModelError
from ocr_engine.recognition.ctc import ctc_greedy_decode, decode_best_path, gated_best_path
from ocr_engine.recognition.lm import (
    CharLM,
    charset_sha256,
    lm_apply,
    lm_candidates,
    lm_correct,
    lm_correct_many,
)

CHARSET = ["I", "e", "i", "k", "l"]


def toy_lm(bigrams: dict[tuple[str, str], float], floor: float = -8.0) -> CharLM:
    """An LM with the given log probabilities (``""`` = line boundary) and ``floor`` elsewhere."""
    index = {ch: i + 1 for i, ch in enumerate(CHARSET)}
    index[""] = 0
    v = len(CHARSET) + 1
    keys = np.array(sorted(index[a] * v + index[b] for a, b in bigrams), np.int64)
    lookup = {index[a] * v + index[b]: lp for (a, b), lp in bigrams.items()}
    logp = np.array([lookup[k] for k in keys.tolist()], np.float32)
    return CharLM(CHARSET, keys, logp, np.zeros(v, np.float32), np.full(v, floor, np.float32))


def frames(*columns: dict[str, float]) -> np.ndarray:
    """``[T, C]`` probabilities; each column gives the non-blank mass, the rest is blank."""
    out = np.zeros((len(columns), len(CHARSET) + 1), np.float32)
    for t, col in enumerate(columns):
        for ch, p in col.items():
            out[t, CHARSET.index(ch) + 1] = p
        out[t, 0] = 1.0 - sum(col.values())
    return out


LIKE = frames({"I": 0.55, "l": 0.4}, {}, {"i": 0.9}, {}, {"k": 0.95}, {}, {"e": 0.97})
ENGLISH = {("", "l"): -1.0, ("l", "i"): -0.5, ("i", "k"): -0.7, ("k", "e"): -0.3, ("e", ""): -0.5,
           ("", "I"): -2.0, ("I", ""): -0.5}


def test_the_lm_turns_a_hesitant_letter_into_the_word_it_knows() -> None:
    greedy = ctc_greedy_decode(LIKE, CHARSET)
    assert greedy.text == "Iike"
    fixed = lm_correct(LIKE, greedy, toy_lm(ENGLISH), weight=0.5)
    assert fixed.text == "like"
    # same characters, same frames; the confidence is the model's probability of the choice
    assert [(c.frame_start, c.frame_end) for c in fixed.chars] == [(c.frame_start, c.frame_end) for c in greedy.chars]
    assert fixed.chars[0].confidence == pytest.approx(0.4)


def test_confident_readings_and_zero_weight_are_left_alone() -> None:
    greedy = ctc_greedy_decode(LIKE, CHARSET)
    assert lm_correct(LIKE, greedy, toy_lm(ENGLISH), weight=0.0) is greedy
    sure = frames({"I": 0.99}, {}, {"i": 0.99})
    d = ctc_greedy_decode(sure, CHARSET)
    assert lm_correct(sure, d, toy_lm(ENGLISH), weight=2.0).text == "Ii"  # no candidate above min_prob
    empty = ctc_greedy_decode(frames({}, {}), CHARSET)
    assert lm_correct(frames({}, {}), empty, toy_lm(ENGLISH)).text == ""


def test_a_uniform_lm_never_changes_the_greedy_reading() -> None:
    rng = np.random.default_rng(0)
    lm = CharLM.uniform(CHARSET)
    for _ in range(50):
        logits = rng.normal(size=(12, len(CHARSET) + 1)) * 2
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        d = ctc_greedy_decode(p, CHARSET)
        assert lm_correct(p, d, lm, weight=1.0).text == d.text


def test_logp_falls_back_to_the_unigram_for_unseen_pairs() -> None:
    lm = toy_lm({("l", "i"): -0.5}, floor=-6.0)
    got = lm.logp(np.array([5, 5, 1]), np.array([3, 2, 3]))  # l->i seen; l->e, I->i unseen
    assert got.tolist() == [-0.5, -6.0, -6.0]


def test_load_checks_the_charset(tmp_path) -> None:
    lm = toy_lm(ENGLISH)
    path = tmp_path / "lm.npz"
    np.savez(path, keys=lm.keys, logp=lm.logp_table, backoff=lm.backoff, unigram=lm.unigram,
             charset_sha256=np.array(charset_sha256(CHARSET)))
    loaded = CharLM.load(path, CHARSET)
    assert loaded.logp(np.array([5]), np.array([3])).tolist() == [-0.5]
    with pytest.raises(ModelError, match="another charset"):
        CharLM.load(path, CHARSET[::-1])
    with pytest.raises(ModelError, match="cannot load"):
        CharLM.load(tmp_path / "missing.npz", CHARSET)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError):
        CharLM.load(tmp_path / "bad.npz", CHARSET)


def test_config_finds_the_lm_beside_the_model(tmp_path) -> None:
    model = tmp_path / "m.onnx"
    assert OcrConfig().resolve_lm_path(model) is None
    (tmp_path / LM_FILE).write_bytes(b"x")
    assert OcrConfig().resolve_lm_path(model) == tmp_path / LM_FILE
    assert OcrConfig(lm=False).resolve_lm_path(model) is None
    cfg = OcrConfig.from_env({"OCR_LM": "true", "OCR_LM_PATH": str(tmp_path / "other.npz")})
    assert cfg.lm
    with pytest.raises(ConfigError, match="OCR_LM_PATH"):
        cfg.resolve_lm_path(model)
    assert OcrConfig.from_env({"OCR_LM": "false", "OCR_LM_PATH": str(tmp_path / "other.npz")}).resolve_lm_path(model) is None


def test_the_trigram_decides_where_the_bigram_cannot() -> None:
    v = len(CHARSET) + 1
    bigram = toy_lm({("i", "e"): -1.0, ("i", "k"): -1.0})  # i -> e and i -> k equally likely
    i, k, e, l_ = (CHARSET.index(c) + 1 for c in "ikel")
    tri_keys = np.array(sorted([(l_ * v + i) * v + k]), np.int64)
    lm = CharLM(CHARSET, bigram.keys, bigram.logp_table, bigram.backoff, bigram.unigram,
                trigram=(tri_keys, np.array([-0.1], np.float32), np.array([l_ * v + i], np.int64),
                         np.array([-3.0], np.float32)))
    probs = frames({"l": 0.95}, {}, {"i": 0.95}, {}, {"e": 0.55, "k": 0.4})
    greedy = ctc_greedy_decode(probs, CHARSET)
    assert greedy.text == "lie"
    assert lm_correct(probs, greedy, bigram, weight=1.0).text == "lie"
    assert lm_correct(probs, greedy, lm, weight=1.0).text == "lik"
    assert lm.logp3(l_, i, e) == pytest.approx(-3.0 + bigram.logp(i, e))


def random_trigram_lm(rng: np.random.Generator) -> CharLM:
    v = len(CHARSET) + 1
    tri = np.unique(rng.integers(0, v**3, 80)).astype(np.int64)
    ctx = np.unique(tri // v)
    big = np.unique(rng.integers(0, v * v, 15)).astype(np.int64)
    return CharLM(CHARSET, big, rng.uniform(-3, 0, big.size).astype(np.float32),
                  rng.uniform(-1, 0, v).astype(np.float32), rng.uniform(-4, -1, v).astype(np.float32),
                  trigram=(tri, rng.uniform(-4, 0, tri.size).astype(np.float32), ctx,
                           rng.uniform(-2, 0, ctx.size).astype(np.float32)))


def random_lines(rng: np.random.Generator, count: int, max_frames: int) -> list[np.ndarray]:
    out = []
    for _ in range(count):
        logits = rng.normal(size=(int(rng.integers(2, max_frames)), len(CHARSET) + 1)) * 2
        out.append(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))
    return out


def test_the_search_finds_the_best_line_an_exhaustive_search_finds() -> None:
    import itertools

    rng = np.random.default_rng(1)
    lm, weight, index = random_trigram_lm(rng), 0.7, {ch: i + 1 for i, ch in enumerate(CHARSET)}
    checked = 0
    for p in random_lines(rng, 60, 9):
        greedy = ctc_greedy_decode(p, CHARSET)
        got = lm_correct(p, greedy, lm, weight=weight, top_k=3, min_prob=0.05)
        options = []
        for c in greedy.chars:
            peak = c.frame_start + int(p[c.frame_start:c.frame_end + 1, index[c.char]].argmax())
            ranked = [j for j in np.argsort(-p[peak]) if j != 0][:3]  # the blank is never a candidate
            cands = [j for j in ranked if p[peak, j] >= 0.05 or j == index[c.char]]
            options.append([(j, p[peak, j]) for j in cands])
        if not options:
            continue

        def score(seq: tuple) -> float:
            ids = [0, 0] + [j for j, _ in seq] + [0]
            lm_part = sum(float(lm.logp3(ids[t - 2], ids[t - 1], ids[t])) for t in range(2, len(ids)))
            return sum(np.log(q) for _, q in seq) + weight * lm_part

        best = max(itertools.product(*options), key=score)
        assert got.text == "".join(CHARSET[j - 1] for j, _ in best)
        checked += 1
    assert checked > 30


def test_many_lines_at_once_read_as_each_line_alone() -> None:
    rng = np.random.default_rng(2)
    lm = random_trigram_lm(rng)
    lines = random_lines(rng, 25, 30)
    items = [(p, ctc_greedy_decode(p, CHARSET)) for p in lines]
    together = lm_correct_many(items, lm, weight=1.0, min_prob=0.05)
    alone = [lm_correct(p, d, lm, weight=1.0, min_prob=0.05) for p, d in items]
    assert [d.text for d in together] == [d.text for d in alone]
    assert sum(d.text != g.text for d, (_, g) in zip(together, items)) > 0  # the LM changed some


def test_a_gated_line_gets_the_same_candidates_and_correction() -> None:
    """Rows of only the classified frames (a gated model) give what the full frames give."""
    rng = np.random.default_rng(3)
    lm = random_trigram_lm(rng)
    checked = 0
    for p in random_lines(rng, 25, 30):
        keep = np.flatnonzero(p.argmax(1) != 0)  # a gate that skips exactly the blank frames
        dense = ctc_greedy_decode(p, CHARSET)
        best, best_p = gated_best_path(p[keep], keep, p[:, 0])
        gated = decode_best_path(best, best_p, CHARSET)
        assert gated.chars == dense.chars
        want = lm_candidates(p, dense, lm, min_prob=0.05)
        got = lm_candidates(p[keep], gated, lm, min_prob=0.05, frames=keep)
        assert (got is None) == (want is None)
        if want is not None:
            assert np.array_equal(got.cands, want.cands) and np.array_equal(got.p, want.p)
            [a], [b] = lm_apply([(gated, got)], lm, 1.0), lm_apply([(dense, want)], lm, 1.0)
            assert a == b
            checked += 1
    assert checked > 10


def test_span_peaks_match_argmax_over_each_span_ties_included() -> None:
    from ocr_engine.recognition.lm import _span_peaks

    rng = np.random.default_rng(4)
    probs = np.round(rng.random((60, 5)), 1)  # coarse values: many ties
    lengths = rng.integers(1, 5, size=12)
    first = np.r_[0, np.cumsum(lengths)[:-1]] + rng.integers(0, 2, size=12)
    classes = rng.integers(0, 5, size=12)
    expected = [a + int(probs[a:a + n, c].argmax()) for a, n, c in zip(first, lengths, classes)]
    assert _span_peaks(probs, first, lengths, classes).tolist() == expected
