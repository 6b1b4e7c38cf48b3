"""The result schema round-trips through JSON."""

from __future__ import annotations

import json

import pytest

from ocr_engine.schema import SCHEMA_VERSION, Char, Line, ModelInfo, OcrResult


def sample() -> OcrResult:
    return OcrResult(
        width=640,
        height=480,
        lines=[
            Line("纯臻营养护发素", 0.93, [[10, 5], [200, 5], [200, 40], [10, 40]],
                 [Char("纯", 0.99, 20.5, 22.0), Char("臻", 0.81, 47.0, 22.0)]),
            Line("OEM ODM 220ml", 0.88, [[10.5, 50], [300, 52], [299, 80], [9.5, 78]]),
        ],
        model=ModelInfo("crnn_zh_en", "1.2.0"),
        timings_ms={"decode": 1.5, "detect": 3.25, "total": 20.0},
    )


def test_round_trip_json() -> None:
    r = sample()
    text = r.to_json()
    back = OcrResult.from_json(text)
    assert back == r
    assert back.to_dict() == json.loads(text)


def test_json_is_utf8_and_has_fields() -> None:
    d = json.loads(sample().to_json(indent=2))
    assert "纯臻营养护发素" in sample().to_json()
    assert d["schema_version"] == SCHEMA_VERSION
    assert d["model"] == {"name": "crnn_zh_en", "version": "1.2.0"}
    assert d["lines"][0]["chars"][1] == {"text": "臻", "confidence": 0.81, "x": 47.0, "y": 22.0}
    assert len(d["lines"][1]["box"]) == 4 and d["width"] == 640


def test_text_joins_lines_in_order() -> None:
    assert sample().text == "纯臻营养护发素\nOEM ODM 220ml"
    assert OcrResult(width=1, height=1).text == ""


def test_from_dict_ignores_derived_text_and_rejects_other_major() -> None:
    d = sample().to_dict()
    d["text"] = "something else"
    assert OcrResult.from_dict(d).text == sample().text
    d["schema_version"] = "2.0"
    with pytest.raises(ValueError, match="schema version"):
        OcrResult.from_dict(d)


def test_minor_version_is_accepted() -> None:
    d = sample().to_dict()
    d["schema_version"] = SCHEMA_VERSION.split(".")[0] + ".9"
    assert OcrResult.from_dict(d).schema_version.endswith(".9")
