"""The output formats of what the real model reads, checked by the tools their users read them with.

The inputs: ``infra/sample/sample_zh_en.png`` (Chinese and English lines), the same result
with its lines in two blocks (paragraphs), the second read first, and a two-page document (a
PDF made here of two page images, read with ``OcrEngine.run_document`` when the engine has its
document reader; else the two pages' results put in a DocumentResult by hand).

* ALTO: valid against the official ALTO 4.4 schema (xmlschema), one TextBlock a block, and its
  Strings give back the text in reading order.
* hOCR: well-formed XHTML (``xml.etree``) that ``html.parser`` reads too; page, content area,
  paragraph (one a block), line, word, each inside its parent's bbox; the words give back the
  lines in reading order.
* PDF: the text layer extracted by ``pdftotext`` and by pypdfium2 is the OCR text, line for
  line (whitespace normalised), each line found back inside its box; page count and size.
* Textract: valid against the output shape of botocore's Textract service model (a
  validator over the shape objects, and botocore's own ``ParamValidator``), and read by
  ``trp`` (amazon-textract-response-parser) into the same pages, lines and words.
"""

from __future__ import annotations

import copy
import io
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import botocore.session
import cv2
import numpy as np
import pypdfium2
import pytest
import trp
import xmlschema
from botocore.validate import ParamValidator

from ocr_engine import OcrEngine
from ocr_engine.formats import render
from ocr_engine.formats.pdf import DEFAULT_DPI
from ocr_engine.schema import DocumentResult, OcrResult, blocks_from_groups

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "infra" / "sample" / "sample_zh_en.png"
ALTO_XSD = REPO.parent / "shared" / "schemas" / "alto-4-4.xsd"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"

# The ALTO schema imports XLink (for an attribute group no document here uses) from the web:
# offline, this local stand-in for the XLink 1.0 namespace is given instead.
XLINK_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xlink="http://www.w3.org/1999/xlink"
           targetNamespace="http://www.w3.org/1999/xlink" attributeFormDefault="qualified">
  <xs:attribute name="type" type="xs:string" fixed="simple"/>
  <xs:attribute name="href" type="xs:anyURI"/>
  <xs:attribute name="role" type="xs:anyURI"/>
  <xs:attribute name="arcrole" type="xs:anyURI"/>
  <xs:attribute name="title" type="xs:string"/>
  <xs:attribute name="show" type="xs:string"/>
  <xs:attribute name="actuate" type="xs:string"/>
  <xs:attributeGroup name="simpleLink">
    <xs:attribute ref="xlink:type"/>
    <xs:attribute ref="xlink:href"/>
    <xs:attribute ref="xlink:role"/>
    <xs:attribute ref="xlink:arcrole"/>
    <xs:attribute ref="xlink:title"/>
    <xs:attribute ref="xlink:show"/>
    <xs:attribute ref="xlink:actuate"/>
  </xs:attributeGroup>
</xs:schema>
"""


@dataclass
class Case:
    """A result, the bytes it was read from (None: no source the pdf format can use) and its name."""

    name: str
    result: OcrResult | DocumentResult
    source: bytes | None

    @property
    def pages(self) -> list[OcrResult]:
        return self.result.pages if isinstance(self.result, DocumentResult) else [self.result]

    def dpi(self, i: int) -> float:
        dpi = self.result.dpi[i] if isinstance(self.result, DocumentResult) and i < len(self.result.dpi) else None
        return dpi or DEFAULT_DPI


def squash(text: str) -> str:
    """Runs of whitespace as one space, none at the ends."""
    return " ".join(text.split())


def nonblank_lines(text: str) -> list[str]:
    return [squash(t) for t in re.split(r"\r\n|\n|\r", text) if t.strip()]


def page_lines(page: OcrResult) -> list[str]:
    return [squash(line.text) for line in page.lines if line.text.strip()]


def reading_groups(page: OcrResult) -> list[list[str]]:
    """The page's lines with text, block by block in reading order (blocks without such lines left out)."""
    groups = [[squash(page.lines[i].text) for i in group if page.lines[i].text.strip()] for group in page.block_lines()]
    return [g for g in groups if g]


def reading_lines(page: OcrResult) -> list[str]:
    return [line for group in reading_groups(page) for line in group]


def swapped_sample() -> bytes:
    """The sample with its lower lines moved to the top: a second page that reads otherwise."""
    image = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)
    cut = image.shape[0] // 2 + 6  # between the second and third lines
    return cv2.imencode(".png", np.vstack([image[cut:], image[:cut]]))[1].tobytes()


def pdf_of_pngs(pngs: list[bytes], dpi: float = 100.0) -> bytes:
    """A PDF of one page a PNG, each its pixel size at ``dpi``."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, invariant=1)
    for png in pngs:
        h, w = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED).shape[:2]
        pdf.setPageSize((w * 72 / dpi, h * 72 / dpi))
        pdf.drawImage(ImageReader(io.BytesIO(png)), 0, 0, w * 72 / dpi, h * 72 / dpi)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def real_engine() -> OcrEngine:
    return OcrEngine()


@pytest.fixture(scope="module")
def image_case(real_engine: OcrEngine) -> Case:
    data = SAMPLE.read_bytes()
    result = real_engine.run(data)
    assert len(result.lines) >= 3 and any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
    return Case("image", result, data)


@pytest.fixture(scope="module")
def document_case(real_engine: OcrEngine) -> Case:
    pngs = [SAMPLE.read_bytes(), swapped_sample()]
    if hasattr(real_engine, "run_document"):
        data = pdf_of_pngs(pngs)
        result = real_engine.run_document(data)
        assert isinstance(result, DocumentResult) and len(result.pages) == 2
        return Case("document", result, data)
    pages = [real_engine.run(png) for png in pngs]  # no document reader yet: the pages by hand
    return Case("document", DocumentResult(pages=pages, source_type="pdf", page_count=2,
                                           model=pages[0].model), None)


@pytest.fixture(scope="module")
def blocked_case(image_case: Case) -> Case:
    """The image's result with its lines in two blocks, the later lines' block read first."""
    result = copy.deepcopy(image_case.result)
    n = len(result.lines)
    result.blocks = blocks_from_groups(result.lines, [list(range(n // 2, n)), list(range(n // 2))])
    return Case("blocked", result, image_case.source)


@pytest.fixture(params=["image", "blocked", "document"])
def case(request: pytest.FixtureRequest) -> Case:
    return request.getfixturevalue(f"{request.param}_case")


def test_the_two_pages_read_differently(document_case: Case) -> None:
    first, second = document_case.pages
    assert page_lines(first) and page_lines(second) and page_lines(first) != page_lines(second)


# ---------------------------------------------------------------- ALTO
@pytest.fixture(scope="module")
def alto_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not ALTO_XSD.is_file():
        pytest.skip(f"no ALTO schema at {ALTO_XSD}")
    xlink = tmp_path_factory.mktemp("xlink") / "xlink.xsd"
    xlink.write_text(XLINK_XSD, encoding="utf-8")
    return xmlschema.XMLSchema(str(ALTO_XSD), locations={"http://www.w3.org/1999/xlink": str(xlink)}, allow="local")


def test_alto_is_valid_against_the_official_schema(case: Case, alto_schema: Any) -> None:
    doc = render(case.result, "alto")
    errors = list(alto_schema.iter_errors(doc.decode("utf-8")))
    assert not errors, "\n".join(str(e) for e in errors[:3])
    root = ET.fromstring(doc)
    pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [(int(p.get("WIDTH")), int(p.get("HEIGHT"))) for p in pages] == [(r.width, r.height) for r in case.pages]
    for page_el, page in zip(pages, case.pages):
        blocks = page_el.findall(f"{ALTO}PrintSpace/{ALTO}TextBlock")
        read = [[squash("".join(" " if el.tag == f"{ALTO}SP" else el.get("CONTENT") for el in line))
                 for line in block.iter(f"{ALTO}TextLine")] for block in blocks]
        assert read == reading_groups(page)
        for block in blocks:  # each line inside its block
            bx, by = int(block.get("HPOS")), int(block.get("VPOS"))
            bw, bh = int(block.get("WIDTH")), int(block.get("HEIGHT"))
            for line in block.iter(f"{ALTO}TextLine"):
                x, y, w, h = (int(line.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
                assert bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh


def test_a_broken_alto_document_fails_the_schema(image_case: Case, alto_schema: Any) -> None:
    doc = render(image_case.result, "alto").decode("utf-8")
    assert list(alto_schema.iter_errors(doc.replace('WC="', 'WC="7', 1)))  # a confidence over 1
    assert list(alto_schema.iter_errors(doc.replace("<MeasurementUnit>pixel", "<MeasurementUnit>px")))


# ---------------------------------------------------------------- hOCR
class HocrReader(HTMLParser):
    """The hOCR elements as an HTML parser sees them: (class, title properties, parent index, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self.stack: list[int | None] = []
        self.metas: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta":
            if a.get("name"):
                self.metas[a["name"]] = a.get("content") or ""
            return
        cls = a.get("class") or ""
        if cls.startswith("ocr"):
            parents = [i for i in self.stack if i is not None]
            props = {p.split()[0]: p.split()[1:] for p in (a.get("title") or "").split(";") if p.strip()}
            self.elements.append({"class": cls, "props": props, "parent": parents[-1] if parents else None,
                                  "text": ""})
            self.stack.append(len(self.elements) - 1)
        else:
            self.stack.append(None)

    def handle_endtag(self, tag: str) -> None:
        if tag != "meta" and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for i in self.stack:
            if i is not None:
                self.elements[i]["text"] += data


def test_hocr_is_well_formed_and_every_box_is_inside_its_page_and_parent(case: Case) -> None:
    doc = render(case.result, "hocr")
    ET.fromstring(doc)  # well-formed XML (XHTML)
    reader = HocrReader()
    reader.feed(doc.decode("utf-8"))
    elements = reader.elements
    assert reader.metas["ocr-system"].startswith("ocr-engine")
    assert {e["class"] for e in elements} <= set(reader.metas["ocr-capabilities"].split())
    pages = [e for e in elements if e["class"] == "ocr_page"]
    assert [p["props"]["bbox"] for p in pages] == [["0", "0", str(r.width), str(r.height)] for r in case.pages]
    assert [int(p["props"]["ppageno"][0]) for p in pages] == list(range(len(pages)))
    parent_class = {"ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par", "ocrx_word": "ocr_line"}
    for e in elements:
        if e["class"] == "ocr_page":
            assert e["parent"] is None
            continue
        x0, y0, x1, y1 = map(int, e["props"]["bbox"])
        assert x0 <= x1 and y0 <= y1
        if e["class"] in ("ocr_line", "ocrx_word"):
            assert 0 <= int(e["props"]["x_wconf"][0]) <= 100
        parent = elements[e["parent"]]
        assert parent["class"] == parent_class[e["class"]], (e["class"], parent["class"])
        px0, py0, px1, py1 = map(int, parent["props"]["bbox"])
        assert px0 <= x0 and py0 <= y0 and x1 <= px1 and y1 <= py1, (e, parent["props"])
    for page_el, page in zip(pages, case.pages):
        page_index = elements.index(page_el)
        areas = [i for i, e in enumerate(elements) if e["parent"] == page_index]
        pars = [[i for i, e in enumerate(elements) if e["parent"] == a] for a in areas]
        assert all(len(p) == 1 for p in pars)  # a paragraph a content area
        groups = [[i for i, e in enumerate(elements) if e["parent"] == p] for (p,) in pars]
        assert [[squash(elements[i]["text"]) for i in g] for g in groups] == reading_groups(page)
        for i in (i for g in groups for i in g):
            words = [e["text"] for e in elements if e["class"] == "ocrx_word" and e["parent"] == i]
            assert "".join(words) == "".join(elements[i]["text"].split())


# ---------------------------------------------------------------- searchable PDF
@pytest.fixture
def pdf_of_case(case: Case) -> bytes:
    if case.source is None:
        pytest.skip("the document was not read from a PDF here (no document reader in the engine yet)")
    return render(case.result, "pdf", source=case.source)


def test_pdftotext_extracts_the_ocr_text(case: Case, pdf_of_case: bytes, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf_of_case)
    for i, page in enumerate(case.pages, start=1):
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(i), "-l", str(i), str(path), "-"],
                             capture_output=True, check=True)
        assert out.stderr == b""  # no missing font, CMap or language pack
        assert nonblank_lines(out.stdout.decode("utf-8").replace("\f", "")) == page_lines(page)


def test_pypdfium2_extracts_the_ocr_text_each_line_on_its_box(case: Case, pdf_of_case: bytes) -> None:
    doc = pypdfium2.PdfDocument(pdf_of_case)
    assert len(doc) == len(case.pages)
    size_per_page = len(pdf_of_case) / len(doc)
    assert size_per_page < 100_000, f"{size_per_page:.0f} bytes a page"
    for i, page in enumerate(case.pages):
        pdf_page = doc[i]
        scale = 72.0 / case.dpi(i)
        width, height = pdf_page.get_size()
        assert (width, height) == pytest.approx((page.width * scale, page.height * scale), abs=0.01)
        text = pdf_page.get_textpage()
        assert nonblank_lines(text.get_text_range()) == page_lines(page)
        for line in page.lines:
            xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
            found = text.get_text_bounded(min(xs) * scale, height - max(ys) * scale,
                                          max(xs) * scale, height - min(ys) * scale)
            assert squash(found) == squash(line.text)


# ---------------------------------------------------------------- Textract
def textract_output_shape(operation: str) -> Any:
    return botocore.session.get_session().get_service_model("textract").operation_model(operation).output_shape


def shape_errors(value: Any, shape: Any, path: str = "$") -> list[str]:
    """What in ``value`` breaks a botocore shape: unknown or missing members, types, enums,
    patterns, lengths and ranges (recursively)."""
    kind, meta = shape.type_name, shape.metadata
    errors: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        errors += [f"{path}.{k}: no such member of {shape.name}" for k in value if k not in shape.members]
        errors += [f"{path}: {k} is required" for k in shape.required_members if k not in value]
        for k, v in value.items():
            if k in shape.members:
                errors += shape_errors(v, shape.members[k], f"{path}.{k}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", math.inf):
            errors.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            errors += shape_errors(item, shape.member, f"{path}[{i}]")
        return errors
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        for k, v in value.items():
            errors += shape_errors(k, shape.key, f"{path} key {k!r}") + shape_errors(v, shape.value, f"{path}.{k}")
        return errors
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: not a string"]
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} is none of {shape.enum}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {meta['pattern']!r}")
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", math.inf):
            errors.append(f"{path}: length {len(value)}")
        return errors
    if kind in ("integer", "long", "float", "double"):
        types = (int,) if kind in ("integer", "long") else (int, float)
        if isinstance(value, bool) or not isinstance(value, types) or not math.isfinite(value):
            return [f"{path}: not a {kind}"]
        if value < meta.get("min", -math.inf) or value > meta.get("max", math.inf):
            errors.append(f"{path}: {value} out of range")
        return errors
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: not a boolean"]
    return [f"{path}: shape type {kind} is not checked"]


def param_validator_errors(value: Any, shape: Any) -> str:
    """botocore's own validator (written for requests, it reads any shape)."""
    report = ParamValidator().validate(value, shape)
    return report.generate_report() if report.has_errors() else ""


def test_textract_json_fits_the_service_models_output_shape(case: Case) -> None:
    response = json.loads(render(case.result, "textract"))
    operation = "GetDocumentTextDetection" if isinstance(case.result, DocumentResult) else "DetectDocumentText"
    shape = textract_output_shape(operation)
    assert shape_errors(response, shape) == []
    assert param_validator_errors(response, shape) == ""
    if operation == "GetDocumentTextDetection":
        assert response["JobStatus"] == "SUCCEEDED"
        # the same blocks also fit the synchronous shape (one page at a time)
        assert shape_errors({k: v for k, v in response.items() if k != "JobStatus"},
                            textract_output_shape("DetectDocumentText")) == []


def test_the_shape_validators_catch_what_is_wrong(image_case: Case) -> None:
    shape = textract_output_shape("DetectDocumentText")
    good = json.loads(render(image_case.result, "textract"))
    for breakage, expected in [
        (lambda r: r["Blocks"][1].update(Confidence=101.0), "out of range"),
        (lambda r: r["Blocks"][1].update(BlockType="SENTENCE"), "is none of"),
        (lambda r: r["Blocks"][1].update(Colour="red"), "no such member"),
        (lambda r: r["Blocks"][1]["Geometry"]["BoundingBox"].update(Left="0.1"), "not a float"),
        (lambda r: r["Blocks"][1]["Relationships"][0].update(Ids="one"), "not a list"),
        (lambda r: r["DocumentMetadata"].update(Pages=1.5), "not a integer"),
    ]:
        bad = json.loads(json.dumps(good))
        breakage(bad)
        errors = shape_errors(bad, shape)
        assert errors and expected in " ".join(errors), errors
    bad = json.loads(json.dumps(good))
    bad["Blocks"][0]["Extra"] = 1
    assert "Unknown parameter" in param_validator_errors(bad, shape)


def test_trp_reads_back_the_pages_lines_and_words(case: Case) -> None:
    response = json.loads(render(case.result, "textract"))
    doc = trp.Document(response)
    assert len(doc.pages) == len(case.pages)
    for trp_page, page in zip(doc.pages, case.pages):
        assert [squash(line.text) for line in trp_page.lines] == page_lines(page)
        for trp_line in trp_page.lines:
            assert "".join(w.text for w in trp_line.words) == "".join(trp_line.text.split())
            assert 0 < trp_line.confidence <= 100
            box = trp_line.geometry.boundingBox
            assert 0 <= box.left <= box.left + box.width <= 1 and 0 <= box.top <= box.top + box.height <= 1
            for word in trp_line.words:
                wb = word.geometry.boundingBox
                assert box.left - 1e-6 <= wb.left and wb.left + wb.width <= box.left + box.width + 1e-6
    ids = [b["Id"] for b in response["Blocks"]]
    assert len(set(ids)) == len(ids) and render(case.result, "textract") == render(case.result, "textract")


def test_a_multi_page_tiff_becomes_a_searchable_pdf(real_engine: OcrEngine, tmp_path: Path) -> None:
    if not hasattr(real_engine, "run_document"):
        pytest.skip("no document reader in the engine")
    from PIL import Image

    pages = [Image.open(io.BytesIO(png)).convert("RGB") for png in (SAMPLE.read_bytes(), swapped_sample())]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    result = real_engine.run_document(buf.getvalue())
    assert isinstance(result, DocumentResult) and result.source_type == "tiff"
    pdf = render(result, "pdf", source=buf.getvalue())
    doc = pypdfium2.PdfDocument(pdf)
    assert len(doc) == 2
    for pdf_page, page in zip(doc, result.pages):
        assert pdf_page.get_size() == pytest.approx((page.width * 72 / DEFAULT_DPI, page.height * 72 / DEFAULT_DPI))
        assert nonblank_lines(pdf_page.get_textpage().get_text_range()) == page_lines(page)
