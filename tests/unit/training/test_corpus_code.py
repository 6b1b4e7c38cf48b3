"""The code label kind and the English punctuation of crnn.corpus (label text only, no rendering)."""

from __future__ import annotations

import random
import re

import pytest

from crnn.charset import CHAR_TO_CLASS, normalize_label
from crnn.codetext import MAX_CHARS
from crnn.corpus import CODE_SHARE, KIND_WEIGHTS, Corpus

OLD_WEIGHTS = {"zh_words": 30, "zh_text": 14, "en_words": 20, "mixed": 16, "pattern": 10, "random_chars": 10}


@pytest.fixture(scope="module")
def corpus():
    return Corpus.load()


@pytest.fixture(scope="module")
def code_lines(corpus):
    rng, lines = random.Random(11), []
    while len(lines) < 2000:
        kind, label = corpus.sample_kind(rng)
        if kind == "code":
            lines.append(label)
    return lines


def test_code_takes_its_share_from_the_other_kinds_in_proportion(corpus):
    assert 8 <= CODE_SHARE <= 10 and KIND_WEIGHTS["code"] == CODE_SHARE
    assert sum(KIND_WEIGHTS.values()) == pytest.approx(100)
    for kind, old in OLD_WEIGHTS.items():
        assert KIND_WEIGHTS[kind] == pytest.approx(old * (1 - CODE_SHARE / 100))
    rng = random.Random(3)
    kinds = [corpus.sample_kind(rng)[0] for _ in range(6000)]
    assert 0.075 < kinds.count("code") / len(kinds) < 0.105


def test_code_lines_carry_backslashes_braces_and_the_marks_of_code(code_lines):
    def rate(ch: str) -> float:
        return sum(ch in line for line in code_lines) / len(code_lines)

    assert rate("\\") > 0.2, rate("\\")
    assert rate("{") > 0.15 and rate("}") > 0.15
    for ch in "_@%#~=":
        assert 0.02 < rate(ch) < 0.6, (ch, rate(ch))
    assert 0.03 < sum(bool(re.search(r"[\u4e00-\u9fff]", line)) for line in code_lines) / len(code_lines) < 0.3
    # One kind of line must not dominate: TeX, shell prompts, C, Python, URLs and e-mails all show.
    for mark in ("\\begin{", "\\usepackage", "$ ", "#include <", "for (", "def ", "https://", "@", "--", "= "):
        assert any(mark in line for line in code_lines), mark


def test_code_lines_are_charset_only_normalised_varied_and_short(code_lines):
    for line in code_lines:
        assert line and all(ch in CHAR_TO_CLASS for ch in line), line
        assert line == normalize_label(line)
        assert len(line) <= MAX_CHARS
    assert len(set(code_lines)) > 0.9 * len(code_lines)


def test_english_lines_have_doubled_letters_typeset_quotes_and_dashes(corpus):
    rng = random.Random(4)
    lines = [corpus._en_words(rng, 36) for _ in range(3000)]
    doubled = sum(bool(re.search(r"([a-z])\1", line, re.IGNORECASE)) for line in lines) / len(lines)
    assert doubled > 0.4, doubled
    text = " ".join(lines)
    for mark in ("’", "“", "”", "‘", "'", '"', "--", "—"):
        assert mark in text, mark
    words = set(text.lower().split())
    assert {"will", "all", "the", "of"} <= words  # words of real prose, not only the word list's rare ones
    assert corpus.en_doubled and all(re.search(r"([a-z])\1", w, re.IGNORECASE) for w in corpus.en_doubled[:200])
    zh = " ".join(corpus._zh_words(rng, 16) for _ in range(3000))
    assert "——" in zh
