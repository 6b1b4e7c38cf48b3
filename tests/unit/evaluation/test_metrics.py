"""Normalisation and scoring used by the evaluation harness."""

from __future__ import annotations

import pytest

from ocr_eval.metrics import (
    cer,
    edit_distance,
    match_lines_as_set,
    normalize,
    score_pairs,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电话：15952301928", "电话:15952301928"),  # full-width colon -> ASCII
        ("（45元/每公斤）", "(45元/每公斤)"),
        ("中 文  字", "中文字"),  # spaces between CJK dropped
        ("价格 10 元", "价格 10 元"),  # CJK-digit spaces kept
        ("  hello \t world  ", "hello world"),
        ("ＡＢＣ１２３", "ABC123"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_edit_distance_cases() -> None:
    assert edit_distance("", "") == 0
    assert edit_distance("abc", "") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance("中文识别", "中文认别") == 1
    assert edit_distance("ab", "ba") == 2


def test_cer_uses_normalised_text_and_truth_length() -> None:
    assert cer("电话：1", "电话:1") == 0.0
    assert cer("abcd", "abc") == pytest.approx(0.25)
    assert cer("ab", "abxyz") == pytest.approx(1.5)
    assert cer("", "") == 0.0 and cer("", "x") == 1.0


def test_score_pairs_micro_average() -> None:
    s = score_pairs([("abcd", "abcd"), ("Hello", "hello"), ("xy", "")])
    assert s.n == 3
    assert s.exact == pytest.approx(1 / 3)
    assert s.exact_nocase == pytest.approx(2 / 3)
    assert s.edits == 3 and s.chars == 11
    assert s.cer == pytest.approx(3 / 11)


def test_score_pairs_empty() -> None:
    assert score_pairs([]).n == 0


def test_match_lines_as_set_ignores_order_and_counts_extras() -> None:
    pairs = match_lines_as_set(["第一行", "second"], ["secand", "第一行", "noise"])
    assert ("第一行", "第一行") in pairs and ("second", "secand") in pairs
    assert ("", "noise") in pairs and len(pairs) == 3


def test_match_lines_missing_line_pairs_with_empty() -> None:
    assert match_lines_as_set(["abc", "xyz"], ["abc"]) == [("abc", "abc"), ("xyz", "")]
