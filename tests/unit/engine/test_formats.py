"""The output formats (ocr_engine.formats) on results made by hand: words and their boxes, the
structure of each format, reproducibility, and the refusals. The real model's output through
the formats' own validators: tests/integration/test_format_validators.py."""

from __future__ import annotations

import io
import json
import re
import sys
import uuid
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from ocr_engine.errors import ConfigError, InvalidInput
from ocr_engine.formats import FORMATS, render
from ocr_engine.formats.pdf import DEFAULT_DPI, layer_text
from ocr_engine.formats.textfont import build_font
from ocr_engine.formats.words import bbox, block_boxes, is_wide, reading_box, words_of
from ocr_engine.schema import Block, Char, DocumentResult, Line, ModelInfo, OcrResult, blocks_from_groups

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def line_with_chars(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.9) -> Line:
    """A line whose characters are evenly spread along its box, with centres."""
    step = (x1 - x0) / len(text)
    chars = [Char(ch, conf, x0 + step * (i + 0.5), (y0 + y1) / 2) for i, ch in enumerate(text)]
    return Line(text, conf, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], chars)


def sample_page() -> OcrResult:
    return OcrResult(width=400, height=120, model=ModelInfo("toy", "1.2"), lines=[
        line_with_chars("欢迎使用", 10, 10, 210, 50, 0.95),
        line_with_chars("Total 128.50 元", 10, 60, 310, 100, 0.8),
    ])


def blocked_page() -> OcrResult:
    """Two paragraphs, the second read before the first, and a line in neither (a blank one)."""
    page = OcrResult(width=400, height=300, model=ModelInfo("toy", "1.2"), lines=[
        line_with_chars("第一段", 10, 10, 130, 40),
        line_with_chars("first para", 10, 45, 210, 75),
        line_with_chars("第二段 second", 200, 150, 390, 190),
        line_with_chars("  ", 10, 250, 50, 280),
        line_with_chars("alone", 10, 200, 110, 230),
    ])
    page.blocks = blocks_from_groups(page.lines, [[2], [0, 1]])
    return page


def sample_document() -> DocumentResult:
    second = OcrResult(width=400, height=120, lines=[line_with_chars("a<b & c", 20, 20, 160, 60)])
    return DocumentResult(pages=[sample_page(), second, OcrResult(width=400, height=120)], source_type="pdf",
                          page_count=9, first_page=3, dpi=[150.0, 150.0, 150.0], model=ModelInfo("toy", "1.2"))


def png_of(width: int, height: int) -> bytes:
    return cv2.imencode(".png", np.full((height, width), 255, np.uint8))[1].tobytes()


# ---------------------------------------------------------------- the registry
def test_the_formats_and_their_media_types() -> None:
    assert {n: (f.name, f.media_type, f.extension) for n, f in FORMATS.items()} == {
        "json": ("json", "application/json", "json"),
        "text": ("text", "text/plain; charset=utf-8", "txt"),
        "hocr": ("hocr", "text/html; charset=utf-8", "hocr"),
        "alto": ("alto", "application/xml", "alto.xml"),
        "pdf": ("pdf", "application/pdf", "pdf"),
        "textract": ("textract", "application/json", "textract.json"),
    }
    with pytest.raises(AttributeError):
        FORMATS["json"].name = "x"  # type: ignore[misc]


def test_an_unknown_format_is_invalid_input_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="unknown format 'xml'; known: json, text, hocr, alto, pdf, textract"):
        render(sample_page(), "xml")


def test_json_is_the_results_own_json() -> None:
    page, doc = sample_page(), sample_document()
    assert render(page, "json") == page.to_json().encode()
    assert render(doc, "json") == doc.to_json().encode()
    assert DocumentResult.from_json(render(doc, "json").decode()) == doc


def test_text_ends_with_a_newline_and_separates_pages_with_a_form_feed() -> None:
    assert render(sample_page(), "text").decode() == "欢迎使用\nTotal 128.50 元\n"
    assert render(sample_document(), "text").decode() == "欢迎使用\nTotal 128.50 元\n\fa<b & c\n\f\n"
    assert render(OcrResult(width=5, height=5), "text") == b""


def test_text_separates_blocks_with_a_blank_line() -> None:
    # lines in no block follow, each as a block of its own (the blank line included)
    assert render(blocked_page(), "text").decode() == "第二段 second\n\n第一段\nfirst para\n\n  \n\nalone\n"
    doc = DocumentResult(pages=[blocked_page(), sample_page()], source_type="pdf", page_count=2)
    assert render(doc, "text").decode() == (
        "第二段 second\n\n第一段\nfirst para\n\n  \n\nalone\n\f欢迎使用\nTotal 128.50 元\n")


def test_block_boxes_are_the_blocks_with_words_grown_to_their_lines() -> None:
    page = blocked_page()
    page.blocks[0] = Block([[210, 160], [300, 160], [300, 170], [210, 170]], [2])  # smaller than its line
    assert [(b.lines, box) for b, box in block_boxes(page)] == [
        ([2], (200, 150, 390, 190)), ([0, 1], (10, 10, 210, 75)), ([4], (10, 200, 110, 230))]
    assert [(b.lines, box) for b, box in block_boxes(sample_page())] == [([0, 1], (10, 10, 310, 100))]
    assert block_boxes(OcrResult(width=5, height=5)) == []


# ---------------------------------------------------------------- words
def test_chinese_characters_are_words_and_latin_words_split_on_spaces() -> None:
    words = words_of(line_with_chars("Total 128.50 元，好", 0, 0, 160, 20))
    assert [w.text for w in words] == ["Total", "128.50", "元", "，", "好"]
    assert [w.space_after for w in words] == [True, True, False, False, False]
    # ten pixels a character: a word spans its characters' cells
    assert [bbox(w.box, outward=False) for w in words] == [
        (0, 0, 50, 20), (60, 0, 120, 20), (130, 0, 140, 20), (140, 0, 150, 20), (150, 0, 160, 20)]


def test_word_boxes_follow_the_character_centres() -> None:
    box = [[0, 0], [100, 0], [100, 10], [0, 10]]
    (word,) = words_of(Line("ab", 0.9, box, [Char("a", 0.5, 10, 5), Char("b", 1.0, 30, 5)]))
    assert word.text == "ab" and word.confidence == 0.75 and bbox(word.box) == (0, 0, 100, 10)
    first, second = words_of(Line("中文", 0.9, box, [Char("中", 0.9, 10, 5), Char("文", 0.9, 30, 5)]))
    assert bbox(first.box) == (0, 0, 20, 10) and bbox(second.box) == (20, 0, 100, 10)
    # characters that do not spell the text are not used: an even spread, the line's confidence
    first, second = words_of(Line("中文", 0.9, box, [Char("a", 0.5, 10, 5), Char("b", 1.0, 30, 5)]))
    assert bbox(first.box) == (0, 0, 50, 10) and bbox(second.box) == (50, 0, 100, 10) and first.confidence == 0.9


def test_words_of_a_turned_line_lie_along_its_box() -> None:
    # a line read right to left, upside down: its box starts at the right
    line = Line("ab cd", 0.9, [[100, 20], [0, 20], [0, 0], [100, 0]])
    first, second = words_of(line)
    assert bbox(first.box) == (60, 0, 100, 20) and bbox(second.box) == (0, 0, 40, 20)


def test_a_column_of_vertical_chinese_reads_downwards() -> None:
    # as the engine gives a column: its upright rectangle, the characters down its middle
    column = Line("竖排文字", 0.9, [[110, 20], [150, 20], [150, 180], [110, 180]],
                  [Char(ch, 0.9, 130, 40 + 40 * i) for i, ch in enumerate("竖排文字")])
    assert reading_box(column) == [[150, 20], [150, 180], [110, 180], [110, 20]]
    assert [bbox(w.box, outward=False) for w in words_of(column)] == [
        (110, 20, 150, 60), (110, 60, 150, 100), (110, 100, 150, 140), (110, 140, 150, 180)]
    # without character positions: a column when much taller than wide
    assert reading_box(Line("竖排", 0.9, column.box)) == reading_box(column)
    assert reading_box(Line("好", 0.9, column.box)) == column.box
    # a line read across stays as it is, however long its box's left edge
    row = Line("ab", 0.9, [[0, 0], [10, 0], [10, 50], [0, 50]], [Char("a", 0.9, 3, 25), Char("b", 0.9, 7, 25)])
    assert reading_box(row) == row.box


def test_whitespace_only_lines_have_no_words() -> None:
    assert words_of(Line("  ", 0.9, [[0, 0], [9, 0], [9, 9], [0, 9]])) == []
    assert words_of(Line("", 0.9, [[0, 0], [9, 0], [9, 9], [0, 9]])) == []


def test_wide_characters() -> None:
    assert [is_wide(c) for c in "中あ한，！Ａa1.-"] == [True] * 6 + [False] * 4


# ---------------------------------------------------------------- hOCR
def hocr_tree(result: OcrResult | DocumentResult) -> ET.Element:
    return ET.fromstring(render(result, "hocr"))


def title_of(el: ET.Element) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in el.get("title", "").split(";") if part.strip()}


def test_hocr_pages_lines_and_words() -> None:
    root = hocr_tree(sample_document())
    metas = {m.get("name"): m.get("content") for m in root.iter(f"{XHTML}meta") if m.get("name")}
    assert metas["ocr-system"].startswith("ocr-engine ") and "toy 1.2" in metas["ocr-system"]
    assert set(metas["ocr-capabilities"].split()) >= {"ocr_page", "ocr_line", "ocrx_word"}
    pages = [d for d in root.iter(f"{XHTML}div") if d.get("class") == "ocr_page"]
    assert [title_of(p)["ppageno"] for p in pages] == [["2"], ["3"], ["4"]]  # source pages 3-5, from 0
    assert title_of(pages[0])["bbox"] == ["0", "0", "400", "120"] and title_of(pages[0])["scan_res"] == ["150", "150"]
    (area,) = [d for d in pages[0] if d.get("class") == "ocr_carea"]  # one block: all the lines
    (par,) = [e for e in area if e.get("class") == "ocr_par"]
    assert title_of(area)["bbox"] == title_of(par)["bbox"] == ["10", "10", "310", "100"]
    lines = [s for s in par if s.get("class") == "ocr_line"]
    assert [title_of(s)["x_wconf"] for s in lines] == [["95"], ["80"]]
    words = [[w.text for w in s if w.get("class") == "ocrx_word"] for s in lines]
    assert words == [["欢", "迎", "使", "用"], ["Total", "128.50", "元"]]
    assert "".join(pages[1].itertext()).strip() == "a<b & c"  # escaped, and the spaces kept
    assert len(pages[2]) == 0


def test_hocr_has_a_paragraph_per_block_in_reading_order() -> None:
    page = hocr_tree(blocked_page()).find(f".//{XHTML}div[@class='ocr_page']")
    areas = [d for d in page if d.get("class") == "ocr_carea"]
    assert len(areas) == len(page)  # the page holds content areas only
    pars = [[p for p in area if p.get("class") == "ocr_par"] for area in areas]
    assert all(len(p) == 1 and p[0].tag == f"{XHTML}p" for p in pars)
    pars = [p[0] for p in pars]
    assert [title_of(a)["bbox"] for a in areas] == [title_of(p)["bbox"] for p in pars] == [
        ["200", "150", "390", "190"], ["10", "10", "210", "75"], ["10", "200", "110", "230"]]
    assert [[line.get("id") for line in p] for p in pars] == [["line_1_3"], ["line_1_1", "line_1_2"], ["line_1_5"]]
    assert [p.get("id") for p in pars] == ["par_1_1", "par_1_2", "par_1_3"]
    assert {"ocr_carea", "ocr_par"} <= set(hocr_tree(blocked_page()).find(
        f".//{XHTML}meta[@name='ocr-capabilities']").get("content").split())


def test_hocr_is_html_too() -> None:
    """Served as text/html: nothing self-closed but the void elements, the text escaped."""
    body = render(sample_document(), "hocr").decode()
    assert not re.search(r"<(?!meta\b)[a-z]+[^>]*/>", body)
    assert ">a&lt;b</span> <span" in body and ">&amp;</span>" in body
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html')


# ---------------------------------------------------------------- ALTO
def test_alto_pages_blocks_lines_strings_and_spaces() -> None:
    root = ET.fromstring(render(sample_document(), "alto"))
    assert root.tag == f"{ALTO}alto"
    assert root.find(f"{ALTO}Description/{ALTO}MeasurementUnit").text == "pixel"
    pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [(p.get("PHYSICAL_IMG_NR"), p.get("WIDTH"), p.get("HEIGHT")) for p in pages] == [
        ("3", "400", "120"), ("4", "400", "120"), ("5", "400", "120")]
    assert pages[2].find(f"{ALTO}PrintSpace/{ALTO}TextBlock") is None
    line = pages[0].findall(f".//{ALTO}TextLine")[1]
    assert [(c.tag[len(ALTO):], c.get("CONTENT")) for c in line] == [
        ("String", "Total"), ("SP", None), ("String", "128.50"), ("SP", None), ("String", "元")]
    assert [c.get("WC") for c in line if c.tag == f"{ALTO}String"] == ["0.8"] * 3
    assert pages[1].find(f".//{ALTO}String").get("CONTENT") == "a<b"
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids))


def test_alto_has_a_text_block_per_block_in_reading_order() -> None:
    root = ET.fromstring(render(blocked_page(), "alto"))
    space = root.find(f"{ALTO}Layout/{ALTO}Page/{ALTO}PrintSpace")
    blocks = list(space)
    assert all(b.tag == f"{ALTO}TextBlock" for b in blocks)
    assert [(b.get("ID"), b.get("HPOS"), b.get("VPOS"), b.get("WIDTH"), b.get("HEIGHT")) for b in blocks] == [
        ("p1_b1", "200", "150", "190", "40"), ("p1_b2", "10", "10", "200", "65"), ("p1_b3", "10", "200", "100", "30")]
    assert [[line.get("ID") for line in b] for b in blocks] == [["p1_l3"], ["p1_l1", "p1_l2"], ["p1_l5"]]
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- Textract
def test_textract_shape_of_an_image_and_of_a_document() -> None:
    single = json.loads(render(sample_page(), "textract"))
    assert set(single) == {"DocumentMetadata", "Blocks", "DetectDocumentTextModelVersion"}
    assert single["DocumentMetadata"] == {"Pages": 1} and single["DetectDocumentTextModelVersion"] == "toy 1.2"
    doc = json.loads(render(sample_document(), "textract"))
    assert doc["JobStatus"] == "SUCCEEDED" and doc["DocumentMetadata"] == {"Pages": 9}
    assert [(b["BlockType"], b["Page"]) for b in doc["Blocks"] if b["BlockType"] != "WORD"] == [
        ("PAGE", 3), ("LINE", 3), ("LINE", 3), ("PAGE", 4), ("LINE", 4), ("PAGE", 5)]


def test_textract_blocks_are_tied_and_placed() -> None:
    blocks = json.loads(render(sample_page(), "textract"))["Blocks"]
    by_id = {b["Id"]: b for b in blocks}
    assert len(by_id) == len(blocks) and all(uuid.UUID(i) for i in by_id)
    page, *_ = blocks
    lines = [by_id[i] for i in page["Relationships"][0]["Ids"]]
    assert [line["Text"] for line in lines] == ["欢迎使用", "Total 128.50 元"]
    words = [[by_id[i]["Text"] for i in line["Relationships"][0]["Ids"]] for line in lines]
    assert words == [["欢", "迎", "使", "用"], ["Total", "128.50", "元"]]
    assert lines[0]["Geometry"]["BoundingBox"] == {"Width": 0.5, "Height": 0.333333, "Left": 0.025, "Top": 0.083333}
    assert lines[0]["Geometry"]["Polygon"][1] == {"X": 0.525, "Y": 0.083333}
    assert lines[1]["Confidence"] == 80.0
    assert all(by_id[i]["TextType"] == "PRINTED" for i in lines[1]["Relationships"][0]["Ids"])


def test_textract_keeps_its_line_and_word_blocks_when_the_result_has_blocks() -> None:
    page = blocked_page()
    kinds = [b["BlockType"] for b in json.loads(render(page, "textract"))["Blocks"]]
    assert set(kinds) == {"PAGE", "LINE", "WORD"} and kinds.count("LINE") == 4


def test_textract_ids_depend_on_content_only() -> None:
    assert render(sample_document(), "textract") == render(sample_document(), "textract")
    other = sample_page()
    other.lines[0].text = other.lines[0].text[::-1]
    ids = {b["Id"] for b in json.loads(render(sample_page(), "textract"))["Blocks"]}
    other_ids = {b["Id"] for b in json.loads(render(other, "textract"))["Blocks"]}
    assert ids != other_ids and ids & other_ids  # the changed line and its words only


# ---------------------------------------------------------------- PDF
@pytest.fixture
def pdfium():
    """pypdfium2, the PDF reader the checks use."""
    return pytest.importorskip("pypdfium2")


def test_a_searchable_pdf_of_an_image(pdfium) -> None:
    page = sample_page()
    pdf = render(page, "pdf", source=png_of(400, 120))
    assert pdf == render(page, "pdf", source=png_of(400, 120))  # reproducible
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 1
    width, height = doc[0].get_size()
    assert (width, height) == pytest.approx((400 * 72 / DEFAULT_DPI, 120 * 72 / DEFAULT_DPI), abs=0.01)
    text = doc[0].get_textpage()
    assert text.get_text_range().split("\r\n") == ["欢迎使用", "Total 128.50 元"]
    scale = 72 / DEFAULT_DPI
    assert text.get_text_bounded(10 * scale, height - 50 * scale, 210 * scale, height - 10 * scale) == "欢迎使用"


def test_a_searchable_pdf_of_a_result_with_blocks(pdfium) -> None:
    page = blocked_page()
    doc = pdfium.PdfDocument(render(page, "pdf", source=png_of(400, 300)))
    text = doc[0].get_textpage().get_text_range()
    assert sorted(t.strip() for t in text.split("\r\n") if t.strip()) == sorted(
        line.text for line in page.lines if line.text.strip())


def test_turned_and_vertical_lines_are_in_the_text_layer(pdfium) -> None:
    page = OcrResult(width=200, height=200, lines=[
        Line("竖排文字", 0.9, [[110, 20], [150, 20], [150, 180], [110, 180]]),  # a column, read downwards
        Line("upside", 0.9, [[90, 60], [10, 60], [10, 40], [90, 40]]),  # read right to left
    ])
    doc = pdfium.PdfDocument(render(page, "pdf", source=png_of(200, 200)))
    text = doc[0].get_textpage()
    assert re.sub(r"\s", "", text.get_text_range()) == "竖排文字upside"
    width, height = doc[0].get_size()
    scale = 72 / DEFAULT_DPI
    assert text.get_text_bounded(105 * scale, height - 185 * scale, 155 * scale, height - 15 * scale).strip() == "竖排文字"


def test_characters_the_font_lacks_come_out_as_replacement_characters(pdfium) -> None:
    assert layer_text("a\U00020000b\x07") == "a\ufffdb\ufffd"
    page = OcrResult(width=100, height=40, lines=[Line("x\U0001f600y", 0.9, [[0, 0], [90, 0], [90, 30], [0, 30]])])
    doc = pdfium.PdfDocument(render(page, "pdf", source=png_of(100, 40)))
    assert doc[0].get_textpage().get_text_range() == "x\ufffdy"


def test_the_text_layer_font_is_small_and_fixed() -> None:
    font = build_font()
    assert font == build_font() and len(font) < 2000


def test_the_shipped_text_layer_font_is_what_its_tool_builds() -> None:
    pytest.importorskip("fontTools")
    from fontTools.ttLib import TTFont

    from tools.build_text_layer_font import build

    assert build_font() == build(), "rerun: python3 tools/build_text_layer_font.py"
    font = TTFont(io.BytesIO(build_font()))
    assert font.getGlyphOrder() == [".notdef", "narrow", "wide"]
    cmap = font.getBestCmap()
    assert cmap[ord("A")] == "narrow" and cmap[ord("中")] == "wide"
    assert font["hmtx"]["narrow"][0] * 2 == font["hmtx"]["wide"][0] == font["head"].unitsPerEm
    # the cmap covers exactly what the PDF writer sets in the font (the rest becomes U+FFFD)
    assert all((code in cmap) == (layer_text(chr(code)) == chr(code)) for code in range(0x10000))


def test_pdf_refusals() -> None:
    with pytest.raises(InvalidInput, match="needs the source"):
        render(sample_page(), "pdf")
    with pytest.raises(InvalidInput, match="source is 300x120 pixels"):
        render(sample_page(), "pdf", source=png_of(300, 120))
    with pytest.raises(InvalidInput, match="needs its PDF or TIFF"):
        render(sample_document(), "pdf", source=png_of(400, 120))


def test_a_missing_reportlab_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "reportlab.pdfgen", None)
    with pytest.raises(ConfigError, match=r"pip install 'ocr-engine\[pdf\]'"):
        render(sample_page(), "pdf", source=png_of(400, 120))
