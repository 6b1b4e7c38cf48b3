"""The CTC prefix search with the character LM over the unsure spans of a line (pure numpy, toy charsets)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ocr_engine.recognition.beam import BeamSettings, beam_apply, beam_spans, lm_beam_decode
from ocr_engine.recognition.ctc import best_path, ctc_greedy_decode, decode_best_path, gated_best_path
from ocr_engine.recognition.lm import CharLM

CHARSET = ["a", "i", "l", "s", "w", " "]
INDEX = {ch: i + 1 for i, ch in enumerate(CHARSET)} | {"": 0}


def ngram_lm(bigrams: dict[str, float], trigrams: dict[str, float] | None = None, floor: float = -8.0) -> CharLM:
    """An LM from ``{"ab": logp}`` bigrams and ``{"abc": logp}`` trigrams (``^``/``$``: line ends)."""
    v = len(CHARSET) + 1

    def ids(gram: str) -> list[int]:
        return [0 if ch in "^$" else INDEX[ch] for ch in gram]

    def table(grams: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        pairs = sorted((int(np.polyval(ids(g), v)), lp) for g, lp in grams.items())
        return np.array([k for k, _ in pairs], np.int64), np.array([lp for _, lp in pairs], np.float32)

    keys, logp = table(bigrams)
    tri = None
    if trigrams:
        tk, tl = table(trigrams)
        ctx = np.unique(tk // v)
        tri = (tk, tl, ctx, np.zeros(ctx.size, np.float32))
    return CharLM(CHARSET, keys, logp, np.zeros(v, np.float32), np.full(v, floor, np.float32), tri)


def frames(*columns: dict[str, float]) -> np.ndarray:
    """``[T, C]`` probabilities; each column gives the non-blank mass, the rest is blank."""
    out = np.zeros((len(columns), len(CHARSET) + 1))
    for t, col in enumerate(columns):
        for ch, p in col.items():
            out[t, INDEX[ch]] = p
        out[t, 0] = 1.0 - sum(col.values())
    return out


def spans_of(d) -> list[tuple[int, int]]:  # noqa: ANN001
    return [(c.frame_start, c.frame_end) for c in d.chars]


def test_a_doubled_letter_with_a_blank_between_is_read_twice_when_the_lm_wants_it() -> None:
    # w . i . l (l or blank) l .   greedy: the three l frames are one l
    p = frames({"w": 0.95}, {}, {"i": 0.95}, {}, {"l": 0.95}, {"l": 0.55}, {"l": 0.95}, {})
    assert ctc_greedy_decode(p, CHARSET).text == "wil"
    lm = ngram_lm({"^w": -0.5, "wi": -0.5, "il": -0.5, "ll": -1.0, "l$": -1.0},
                  {"^^w": -0.5, "^wi": -0.5, "wil": -0.5, "il$": -6.0, "ill": -0.2, "ll$": -0.2})
    got = lm_beam_decode(p, lm, BeamSettings(weight=1.0, prior=0.0))
    assert got.text == "will"
    assert spans_of(got) == [(0, 0), (2, 2), (4, 4), (6, 6)]   # the blank frame 5 between the two l
    # without the LM the model's sum over alignments keeps one l (0.59 against 0.41)
    assert lm_beam_decode(p, CharLM.uniform(CHARSET), BeamSettings(weight=1.0, prior=1.0)).text == "wil"


def test_the_lm_inserts_a_space_the_model_was_unsure_of() -> None:
    p = frames({"i": 0.97}, {}, {"s": 0.97}, {" ": 0.4}, {}, {"a": 0.97}, {})
    greedy = ctc_greedy_decode(p, CHARSET)
    assert greedy.text == "isa"
    lm = ngram_lm({"^i": -1.0, "is": -1.0, "s ": -1.0, " a": -1.0, "sa": -3.0, "a$": -1.0},
                  {"isa": -6.0, "is ": -0.5, "s a": -0.5})
    got = lm_beam_decode(p, lm, BeamSettings(weight=1.0))
    assert got.text == "is a"
    space = got.chars[2]
    assert (space.frame_start, space.frame_end) == (3, 3) and space.confidence == pytest.approx(0.4)
    # the characters around the span keep their greedy decoding
    assert got.chars[0] == greedy.chars[0] and got.chars[1] == greedy.chars[1] and got.chars[3] == greedy.chars[2]
    assert got.confidence == pytest.approx(np.mean([0.97, 0.97, 0.4, 0.97]))
    # an LM without an opinion leaves the blank: the extra character costs it
    assert lm_beam_decode(p, CharLM.uniform(CHARSET), BeamSettings(weight=1.0)).text == "isa"


def test_sure_readings_and_zero_weight_are_left_alone() -> None:
    p = frames({"w": 0.99}, {}, {"i": 0.995}, {"l": 0.99}, {}, {"l": 0.97}, {})
    greedy = ctc_greedy_decode(p, CHARSET)
    best, best_p = best_path(p)
    lm = ngram_lm({"il": -9.0})
    assert beam_spans(p, greedy, lm, BeamSettings(unsure=0.95), best=best, best_p=best_p) is None
    assert beam_apply([(greedy, None)], lm)[0] is greedy
    assert lm_beam_decode(p, lm, BeamSettings(unsure=0.95)) == greedy
    unsure = frames({"w": 0.6, "a": 0.3}, {}, {"i": 0.9})
    d = ctc_greedy_decode(unsure, CHARSET)
    assert beam_spans(unsure, d, lm, BeamSettings(weight=0.0)) is None
    assert beam_apply([(d, beam_spans(unsure, d, lm))], lm, BeamSettings(weight=0.0))[0] is d
    assert lm_beam_decode(frames({}, {}), lm).text == ""


def ctc_logp(p: np.ndarray, labels: list[int]) -> float:
    """log P(labels | p) by the CTC forward algorithm (blank = 0)."""
    ext = [0]
    for c in labels:
        ext += [c, 0]
    alpha = np.zeros(len(ext))
    alpha[0] = p[0, 0]
    if len(ext) > 1:
        alpha[1] = p[0, ext[1]]
    for t in range(1, p.shape[0]):
        new = np.zeros_like(alpha)
        for s, c in enumerate(ext):
            a = alpha[s] + (alpha[s - 1] if s >= 1 else 0.0)
            if s >= 2 and c != 0 and c != ext[s - 2]:
                a += alpha[s - 2]
            new[s] = a * p[t, c]
        alpha = new
    total = alpha[-1] + (alpha[-2] if len(ext) > 1 else 0.0)
    return float(np.log(total)) if total > 0 else -np.inf


def random_lm(rng: np.random.Generator) -> CharLM:
    v = len(CHARSET) + 1
    tri = np.unique(rng.integers(0, v**3, 120)).astype(np.int64)
    ctx = np.unique(tri // v)
    big = np.unique(rng.integers(0, v * v, 25)).astype(np.int64)
    return CharLM(CHARSET, big, rng.uniform(-3, 0, big.size).astype(np.float32),
                  rng.uniform(-1, 0, v).astype(np.float32), rng.uniform(-4, -1, v).astype(np.float32),
                  trigram=(tri, rng.uniform(-4, 0, tri.size).astype(np.float32), ctx,
                           rng.uniform(-2, 0, ctx.size).astype(np.float32)))


def random_probs(rng: np.random.Generator, t: int, classes: int = len(CHARSET) + 1, sharp: float = 2.0) -> np.ndarray:
    logits = rng.normal(size=(t, classes)) * sharp
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def exhaustive_best(p: np.ndarray, lm: CharLM, weight: float, bonus: float, prior: float, classes: int) -> str:
    """The best of every label sequence over classes ``1..classes`` (as long as the line at most),
    each scored by its full CTC probability, the LM with the line ends, bonus and prior."""

    def score(labels: tuple[int, ...]) -> float:
        ids = [0, 0, *labels, 0]
        lm_part = sum(float(lm.logp3(ids[i - 2], ids[i - 1], ids[i])) for i in range(2, len(ids)))
        return (ctc_logp(p, list(labels)) + weight * lm_part + bonus * len(labels)
                - weight * prior * sum(float(lm.unigram[c]) for c in labels))

    options = [seq for n in range(p.shape[0] + 1) for seq in itertools.product(range(1, classes + 1), repeat=n)]
    return "".join(CHARSET[c - 1] for c in max(options, key=score))


def test_the_search_finds_the_reading_an_exhaustive_search_over_all_label_sequences_finds() -> None:
    """A line that is one unsure span, every class and blank offered: the exact search and a
    wide beam find the best label sequence by the full CTC probability (forward algorithm)."""
    rng = np.random.default_rng(5)
    v = len(CHARSET) + 1
    differs = 0
    for case in range(30):
        lm = random_lm(rng)
        p = np.zeros((4, v))
        p[:, :4] = random_probs(rng, 4, classes=4, sharp=1.0)     # blank and the three first letters
        weight, bonus, prior = 0.8, float(rng.uniform(-0.5, 1.0)), float(rng.uniform(0, 1))
        want = exhaustive_best(p, lm, weight, bonus, prior, classes=3)
        common = dict(weight=weight, bonus=bonus, prior=prior, unsure=1.01, top_k=3, min_prob=0.0, min_blank=0.0)
        assert lm_beam_decode(p, lm, BeamSettings(**common)).text == want, case
        assert lm_beam_decode(p, lm, BeamSettings(**common, max_paths=0, width=40)).text == want, case
        differs += want != ctc_greedy_decode(p, CHARSET).text
    assert differs > 10


def random_lines(rng: np.random.Generator, count: int, max_frames: int) -> list[np.ndarray]:
    """Peaky lines: blank-dominated frames with now and then a (sometimes hesitant) character."""
    out = []
    for _ in range(count):
        t = int(rng.integers(2, max_frames))
        p = random_probs(rng, t, sharp=3.0)
        blank_rows = rng.random(t) < 0.5
        p[blank_rows] = 0.3 * p[blank_rows]
        p[blank_rows, 0] += 0.7
        out.append(p)
    return out


def test_positions_are_monotone_and_inside_the_frames() -> None:
    rng = np.random.default_rng(6)
    lm = random_lm(rng)
    changed = 0
    for settings in (BeamSettings(weight=1.0, bonus=1.0), BeamSettings(weight=1.0, bonus=1.0, max_paths=0, width=4),
                     BeamSettings(weight=0.5, unsure=0.99, top_k=2)):
        for p in random_lines(rng, 40, 40):
            greedy = ctc_greedy_decode(p, CHARSET)
            got = lm_beam_decode(p, lm, settings)
            changed += got.text != greedy.text
            last = -1
            for c in got.chars:
                assert last < c.frame_start <= c.frame_end < p.shape[0]
                assert c.char != "" and 0.0 < c.confidence <= 1.0
                assert c.confidence == pytest.approx(p[c.frame_start:c.frame_end + 1, INDEX[c.char]].max())
                last = c.frame_end
            assert got.text == "".join(c.char for c in got.chars)
    assert changed > 20


def test_exact_and_beam_search_agree_when_the_beam_is_wide() -> None:
    rng = np.random.default_rng(7)
    lm = random_lm(rng)
    exact = BeamSettings(weight=1.0, bonus=0.5, min_prob=0.02, top_k=3, max_paths=10**5)
    beam = BeamSettings(weight=1.0, bonus=0.5, min_prob=0.02, top_k=3, max_paths=0, width=64)
    changed = 0
    for p in random_lines(rng, 60, 9):
        greedy = ctc_greedy_decode(p, CHARSET)
        spans = beam_spans(p, greedy, lm, exact)
        a, b = beam_apply([(greedy, spans)], lm, exact)[0], beam_apply([(greedy, spans)], lm, beam)[0]
        assert a.text == b.text
        changed += a.text != greedy.text
    assert changed > 10


def test_many_lines_at_once_read_as_each_line_alone() -> None:
    rng = np.random.default_rng(8)
    lm = random_lm(rng)
    settings = BeamSettings(weight=1.0, bonus=0.5, max_paths=16, width=5)   # both searches in use
    lines = random_lines(rng, 30, 40)
    items = []
    for p in lines:
        greedy = ctc_greedy_decode(p, CHARSET)
        items.append((greedy, beam_spans(p, greedy, lm, settings)))
    together = beam_apply(items, lm, settings, chunk=7)
    alone = [lm_beam_decode(p, lm, settings) for p in lines]
    assert together == alone
    assert sum(d.text != g.text for d, (g, _) in zip(together, items)) > 5


def test_a_gated_line_gives_what_its_full_frames_give() -> None:
    """Rows of only the classified frames (a gate that skips frames surely blank) read the same."""
    rng = np.random.default_rng(9)
    lm = random_lm(rng)
    settings = BeamSettings(weight=1.0, bonus=0.5)
    checked = 0
    for p in random_lines(rng, 30, 40):
        keep = np.flatnonzero(p[:, 0] < 0.95)        # the skipped frames are sure blanks (>= unsure)
        dense = ctc_greedy_decode(p, CHARSET)
        best, best_p = gated_best_path(p[keep], keep, p[:, 0])
        gated = decode_best_path(best, best_p, CHARSET)
        want = beam_apply([(dense, beam_spans(p, dense, lm, settings))], lm, settings)[0]
        spans = beam_spans(p[keep], gated, lm, settings, frames=keep, best=best, best_p=best_p)
        got = beam_apply([(gated, spans)], lm, settings)[0]
        assert got.text == want.text and spans_of(got) == spans_of(want)
        checked += want.text != dense.text
    assert checked > 3
