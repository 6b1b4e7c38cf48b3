"""The character LM builder and the committed LM file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crnn.charlm import encode_lines, kneser_ney_trigram, real_print_text
from crnn.charset import CHARSET
from ocr_engine.recognition.lm import CharLM

ROOT = Path(__file__).resolve().parents[3]


def test_kneser_ney_rows_are_distributions() -> None:
    text = ["abcab", "bca", "cab", "aab"]
    index = {"a": 1, "b": 2, "c": 3}
    tables = kneser_ney_trigram(encode_lines(text, index), 4, min_count=1)
    lm = CharLM(["a", "b", "c"], *(tables[k] for k in ("keys", "logp", "backoff", "unigram")))  # the bigram level
    for prev in range(4):
        total = np.exp(lm.logp(np.full(4, prev), np.arange(4))).sum()
        assert abs(total - 1.0) < 1e-5, (prev, total)
    # a seen pair is more likely than an unseen one from the same context
    assert lm.logp(1, 2) > lm.logp(1, 3)


def _committed_model_charset() -> list[str]:
    import json

    import onnxruntime as ort

    session = ort.InferenceSession(str(ROOT / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.int8.onnx"),
                                   providers=["CPUExecutionProvider"])
    return json.loads(session.get_modelmeta().custom_metadata_map["charset"])


def test_the_committed_model_has_this_code_s_charset() -> None:
    """Tooling (training, LM, evaluation) and serving (the model's own metadata) agree."""
    assert _committed_model_charset() == CHARSET


def test_the_committed_lm_matches_the_committed_model_and_knows_the_languages() -> None:
    lm = CharLM.load(ROOT / "engine" / "ocr_engine" / "weights" / "charlm_zh_en.npz", _committed_model_charset())

    assert lm.order == 3

    def score(text: str) -> float:
        ids = np.array([0, 0] + [lm.index[c] for c in text] + [0])
        return float(lm.logp3(ids[:-2], ids[1:-1], ids[2:]).sum())

    assert score("like") > score("Iike")
    assert score("project") > score("proiect")  # every pair of proiect is common: needs the trigram
    assert score("Organization") > score("0rganization")
    assert score("产品信息") > score("产品信总")
    assert score("适用人群") > score("道用人群")


def test_trigram_rows_are_distributions_and_back_off_to_the_bigram() -> None:
    index = {"a": 1, "b": 2, "c": 3}
    text = ["abcab", "bca", "cab", "aab", "abc"]
    tables = kneser_ney_trigram(encode_lines(text, index), 4, min_count=1)
    tri = tuple(tables.pop(k) for k in ("tri_keys", "tri_logp", "ctx_keys", "ctx_backoff"))
    lm = CharLM(["a", "b", "c"], **tables, trigram=tri)
    for p2 in range(4):
        for p1 in range(4):
            total = np.exp(lm.logp3(np.full(4, p2), np.full(4, p1), np.arange(4))).sum()
            assert abs(total - 1.0) < 1e-4, (p2, p1, total)
    # "ab" is followed by "c" more often than by "a": the trigram knows, the bigram "b ->" less so
    assert lm.logp3(1, 2, 3) > lm.logp3(1, 2, 1)
    assert lm.logp3(3, 3, 1) == lm.logp(3, 1)  # an unseen context backs off to the bigram exactly


def test_the_real_print_text_is_the_train_split_s_labels_and_never_the_dev_split(tmp_path: Path) -> None:
    assert real_print_text(tmp_path / "train") == []  # not built: nothing to count
    train = tmp_path / "realprint" / "train"
    (train / "crops").mkdir(parents=True)
    (train / "crops" / "a.png").write_bytes(b"")
    (train / "lines.tsv").write_text("image\ttext\tlang\ncrops/a.png\tHere’s E=mc^2 和中文\ten\n", encoding="utf-8")
    assert real_print_text(train) == ["Here’s E=mc^2 和中文"]
    dev = tmp_path / "realprint" / "dev"
    dev.mkdir()
    (dev / "lines.tsv").write_text((train / "lines.tsv").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ValueError, match="never for training"):
        real_print_text(dev)


def test_the_committed_lm_knows_typeset_punctuation() -> None:
    """Counted on real typeset text too, the LM expects a curly apostrophe inside a word."""
    lm = CharLM.load(ROOT / "engine" / "ocr_engine" / "weights" / "charlm_zh_en.npz", _committed_model_charset())

    def logp(a: str, b: str, c: str) -> float:
        return float(lm.logp3(np.array([lm.index[a]]), np.array([lm.index[b]]), np.array([lm.index[c]]))[0])

    # Counted on synthetic text alone it put "Here’s" 15 nats below "Here's" and "don’t" 14
    # below "don't" (the re-choice then turned right readings into ASCII quotes).
    assert logp("r", "e", "’") > logp("r", "e", "'") - 2
    assert logp("o", "n", "’") > logp("o", "n", "'") - 2
