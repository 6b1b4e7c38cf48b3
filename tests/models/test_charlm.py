"""The character LM builder and the committed LM file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crnn.charlm import count_bigrams, kneser_ney
from crnn.charset import CHARSET
from ocr_service.recognition.lm import CharBigramLM

ROOT = Path(__file__).resolve().parents[2]


def test_kneser_ney_rows_are_distributions() -> None:
    text = ["abcab", "bca", "cab", "aab"]
    index = {"a": 1, "b": 2, "c": 3}
    tables = kneser_ney(count_bigrams(text, index, 4), 4, min_count=1)
    lm = CharBigramLM(["a", "b", "c"], **tables)
    for prev in range(4):
        total = np.exp(lm.logp(np.full(4, prev), np.arange(4))).sum()
        assert abs(total - 1.0) < 1e-5, (prev, total)
    # a seen pair is more likely than an unseen one from the same context
    assert lm.logp(1, 2) > lm.logp(1, 3)


def test_the_committed_lm_matches_the_committed_model_and_knows_the_languages() -> None:
    lm = CharBigramLM.load(ROOT / "models" / "weights" / "charlm_zh_en.npz", CHARSET)

    def score(text: str) -> float:
        ids = np.array([0] + [lm.index[c] for c in text] + [0])
        return float(lm.logp(ids[:-1], ids[1:]).sum())

    assert score("like") > score("Iike")
    assert score("Organization") > score("0rganization")
    assert score("产品信息") > score("产品信总")
    assert score("适用人群") > score("道用人群")
