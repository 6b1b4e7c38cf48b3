"""The result schema round-trips through JSON; blocks (1.1) are read, checked and read back as groups."""

from __future__ import annotations

import json

import pytest

from ocr_engine.schema import (
    SCHEMA_VERSION,
    Block,
    Char,
    DocumentResult,
    Line,
    ModelInfo,
    OcrResult,
    blocks_from_groups,
)


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


# ---------------------------------------------------------------- blocks (1.1)
def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    x0, y0, x1, y1 = map(float, (x0, y0, x1, y1))  # as the engine writes them
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def blocked() -> OcrResult:
    """Four lines in two paragraphs, the second read first."""
    r = OcrResult(width=640, height=480, model=ModelInfo("crnn_zh_en", "1.2.0"), lines=[
        Line("第一段", 0.9, box(10, 10, 100, 30)),
        Line("第一段 续", 0.9, [[10.0, 35.0], [120.0, 33.0], [121.0, 55.0], [11.0, 57.0]]),
        Line("second", 0.8, box(300, 200, 400, 230), [Char("s", 0.8, 305.0, 215.0)]),
        Line("block", 0.8, box(300, 240, 380, 270)),
    ])
    r.blocks = blocks_from_groups(r.lines, [[2, 3], [0, 1]])
    return r


def test_the_writer_is_version_1_2() -> None:
    assert SCHEMA_VERSION == "1.2" and OcrResult(width=1, height=1).schema_version == "1.2"


def test_detector_round_trips_and_older_results_read_without_it() -> None:
    r = OcrResult(width=5, height=5, detector="learned")
    assert OcrResult.from_json(r.to_json()).detector == "learned"
    old = {"width": 5, "height": 5, "schema_version": "1.1", "lines": []}
    assert OcrResult.from_dict(old).detector == ""


def test_blocks_round_trip_through_json() -> None:
    r = blocked()
    text = r.to_json()
    back = OcrResult.from_json(text)
    assert back == r and back.blocks == r.blocks
    assert back.to_json() == text  # the same bytes again
    d = json.loads(text)
    assert d["schema_version"] == SCHEMA_VERSION
    assert d["blocks"] == [{"box": box(300.0, 200.0, 400.0, 270.0), "lines": [2, 3]},
                           {"box": box(10.0, 10.0, 121.0, 57.0), "lines": [0, 1]}]
    doc = DocumentResult(pages=[r, OcrResult(width=5, height=5)], source_type="pdf", page_count=2)
    assert DocumentResult.from_json(doc.to_json()) == doc


def test_a_1_0_document_without_blocks_reads_as_one_block() -> None:
    d = {"width": 640, "height": 480, "schema_version": "1.0", "model": {"name": "m", "version": "1"},
         "timings_ms": {"total": 3.0}, "text": "a\nb",
         "lines": [{"text": "a", "confidence": 0.9, "box": box(0, 0, 9, 9), "chars": []},
                   {"text": "b", "confidence": 0.8, "box": box(0, 10, 9, 19)}]}
    r = OcrResult.from_dict(d)
    assert r.schema_version == "1.0" and r.blocks == []
    assert r.block_lines() == [[0, 1]] and r.text == "a\nb"
    assert "blocks" in r.to_dict() and r.to_dict()["blocks"] == []
    doc = DocumentResult.from_dict({"schema_version": "1.0", "source_type": "pdf", "page_count": 1, "pages": [d]})
    assert doc.pages[0].block_lines() == [[0, 1]] and doc.text == "a\nb"


@pytest.mark.parametrize("blocks, match", [
    ([{"box": box(0, 0, 1, 1), "lines": [4]}], "out of range"),
    ([{"box": box(0, 0, 1, 1), "lines": [-1]}], "out of range"),
    ([{"box": box(0, 0, 1, 1), "lines": [1.0]}], "not an integer"),
    ([{"box": box(0, 0, 1, 1), "lines": ["0"]}], "not an integer"),
    ([{"box": box(0, 0, 1, 1), "lines": [True]}], "not an integer"),
    ([{"box": box(0, 0, 1, 1), "lines": [None]}], "not an integer"),
    ([{"box": box(0, 0, 1, 1), "lines": "01"}], "list of line indexes"),
    ([{"box": box(0, 0, 1, 1), "lines": [0]}, {"box": box(0, 0, 1, 1), "lines": [1, 0]}], "more than one block"),
    ([{"box": box(0, 0, 1, 1), "lines": [2, 2]}], "more than one block"),
    ([{"box": [[0, 0], [1, 0], [1, 1]], "lines": [0]}], "4 \\[x, y\\] points"),
    ([{"box": [[0, 0], [1, 0], [1, 1], [0]], "lines": [0]}], "4 \\[x, y\\] points"),
    ([{"lines": [0]}], "4 \\[x, y\\] points"),
    (["box"], "is an object"),
    ({"box": box(0, 0, 1, 1), "lines": [0]}, "blocks is a list"),
])
def test_bad_blocks_are_refused(blocks: object, match: str) -> None:
    d = blocked().to_dict()
    d["blocks"] = blocks
    with pytest.raises(ValueError, match=match):
        OcrResult.from_dict(d)


def test_text_has_a_blank_line_between_blocks() -> None:
    r = blocked()
    assert r.text == "second\nblock\n\n第一段\n第一段 续"
    assert r.to_dict()["text"] == r.text
    doc = DocumentResult(pages=[r, sample()], source_type="pdf", page_count=2)
    assert doc.text == r.text + "\n\f" + sample().text


def test_block_lines_falls_back_to_one_block_and_drops_no_line() -> None:
    assert OcrResult(width=1, height=1).block_lines() == []
    assert sample().block_lines() == [[0, 1]]
    assert blocked().block_lines() == [[2, 3], [0, 1]]
    r = blocked()
    r.blocks = [Block(box(0, 0, 1, 1), [3, 1])]  # lines 0 and 2 in no block: one trailing group each
    assert r.block_lines() == [[3, 1], [0], [2]]
    assert r.text == "block\n第一段 续\n\n第一段\n\nsecond"
    # made in memory against the rules: nothing repeated, nothing out of range, nothing lost
    r.blocks = [Block(box(0, 0, 1, 1), [1, 9, 1]), Block(box(0, 0, 1, 1), []), Block(box(0, 0, 1, 1), [1, 0])]
    assert r.block_lines() == [[1], [0], [2], [3]]
    made = r.reading_blocks()
    assert made[0].box == box(0.0, 0.0, 1.0, 1.0) and made[2].box == box(300.0, 200.0, 400.0, 230.0)
    groups = r.block_lines()
    groups[0].append(7)
    assert r.block_lines()[0] == [1]  # a copy
    r.lines[3].box = []  # the text never needs a box
    assert r.text == "第一段 续\n\n第一段\n\nsecond\n\nblock"


def test_blocks_from_groups_bounds_each_group() -> None:
    r = blocked()
    blocks = blocks_from_groups(r.lines, [[1], [], [0, 2]])
    assert blocks == [Block(box(10.0, 33.0, 121.0, 57.0), [1]), Block(box(10.0, 10.0, 400.0, 230.0), [0, 2])]
    assert blocks_from_groups([], []) == []
    for groups in ([[4]], [[-1]], [[0], [0]], [[1, 1]]):
        with pytest.raises(ValueError):
            blocks_from_groups(r.lines, groups)
