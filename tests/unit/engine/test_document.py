"""Documents in: PDF (pypdfium2) and multi-page TIFF pages read by ``OcrEngine.run_document``.

The PDFs are made here: pages of text rendered with a real font (support/render.py), put into
a PDF at a known resolution with pypdfium2; the TIFFs with ``cv2.imwritemulti``. A page read
from a document must give what ``OcrEngine.run`` gives on the same image.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_engine.config import OcrConfig
from ocr_engine.document import (
    DEFAULT_DPI,
    DocumentLimits,
    document_kind,
    page_count,
    page_dpi,
    render_pages,
)
from ocr_engine.engine import OcrEngine
from ocr_engine.errors import (
    DocumentTooLarge,
    EmptyImage,
    EncryptedDocument,
    ImageTooLarge,
    InvalidInput,
    PageTooLarge,
    TooManyPages,
    UndecodableDocument,
    UndecodableImage,
    UnsupportedImageType,
)
from ocr_engine.image.isolate import isolated
from ocr_engine.image.limits import DecodeLimits
from ocr_engine.schema import DocumentResult
from ocr_eval.metrics import cer, normalize
from support.reliability import find_model
from support.render import render_page, require_font

pdfium = pytest.importorskip("pypdfium2", reason="PDF input needs the engine's pdf extra")

TRUTH = [
    ["识别中文和英文", "Hello World 2024"],
    ["今天天气很好", "The quick brown fox"],
    ["纯天然植物精华", "Invoice number 7731"],
]


def pdf_of(images: list[np.ndarray], dpi: float = DEFAULT_DPI) -> bytes:
    """A PDF with one page per gray / BGR image, each page the image's size at ``dpi``."""
    from PIL import Image

    doc = pdfium.PdfDocument.new()
    for img in images:
        height, width = img.shape[:2]
        page = doc.new_page(width * 72.0 / dpi, height * 72.0 / dpi)
        obj = pdfium.PdfImage.new(doc)
        obj.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(img if img.ndim == 2 else img[:, :, ::-1])))
        obj.set_matrix(pdfium.PdfMatrix().scale(width * 72.0 / dpi, height * 72.0 / dpi))
        page.insert_obj(obj)
        page.gen_content()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def tiff_of(images: list[np.ndarray], tmp_path: Path) -> bytes:
    path = tmp_path / "pages.tiff"
    assert cv2.imwritemulti(str(path), images)
    return path.read_bytes()


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


@pytest.fixture(scope="module")
def pages() -> list[np.ndarray]:
    font = require_font("gbsn")
    return [render_page(lines, font, size=32, width=560).image for lines in TRUTH]


@pytest.fixture(scope="module")
def pdf(pages: list[np.ndarray]) -> bytes:
    return pdf_of(pages)


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    model = find_model()
    if model is None:
        pytest.skip("no model file in engine/ocr_engine/weights")
    return OcrEngine.from_config(OcrConfig(model_path=model, threads=1))


# ---------------------------------------------------------------- kinds, counts, limits
def test_document_kind(pdf: bytes, pages: list[np.ndarray], tmp_path: Path) -> None:
    assert document_kind(pdf) == "pdf"
    assert document_kind(b"\x00" * 100 + pdf) == "pdf"  # a header within the first 1024 bytes
    assert document_kind(tiff_of(pages, tmp_path)) == "tiff"
    assert document_kind(tiff_of(pages[:1], tmp_path)) is None  # one page: a plain image
    assert document_kind(png(pages[0])) is None
    assert document_kind(b"") is None
    assert document_kind(b"hello") is None


def test_page_count(pdf: bytes, pages: list[np.ndarray], tmp_path: Path) -> None:
    assert page_count(pdf) == 3
    assert page_count(tiff_of(pages, tmp_path)) == 3
    assert page_count(png(pages[0])) == 1
    with pytest.raises(TooManyPages, match="3 pages; the limit is 2"):
        page_count(pdf, DocumentLimits(max_pages=2))
    with pytest.raises(TooManyPages):
        page_count(tiff_of(pages, tmp_path), DocumentLimits(max_pages=2))
    with pytest.raises(EmptyImage):
        page_count(b"")
    with pytest.raises(UnsupportedImageType):
        page_count(b"hello")
    with pytest.raises(DocumentTooLarge):
        page_count(pdf, DocumentLimits(max_bytes=100))


def test_the_errors_keep_the_app_status_mapping() -> None:
    assert issubclass(TooManyPages, ImageTooLarge) and TooManyPages.code == "too_many_pages"
    assert issubclass(PageTooLarge, ImageTooLarge) and PageTooLarge.code == "page_too_large"
    assert issubclass(DocumentTooLarge, ImageTooLarge) and DocumentTooLarge.code == "document_too_large"
    assert issubclass(EncryptedDocument, UndecodableImage) and EncryptedDocument.code == "encrypted_document"
    assert issubclass(UndecodableDocument, UndecodableImage) and UndecodableDocument.code == "undecodable_document"


def test_page_dpi_is_lowered_for_large_pages_down_to_a_floor() -> None:
    limits = DocumentLimits()
    assert page_dpi(8.27, 11.69, limits) == DEFAULT_DPI
    poster = page_dpi(40, 60, limits)  # 40 Mpx at most
    assert poster < DEFAULT_DPI and (40 * poster) * (60 * poster) <= 40_000_000
    assert page_dpi(2, 100, limits) == 200.0  # 400 x 20000 px: the side limit, exactly
    with pytest.raises(PageTooLarge, match="100 in per side"):
        page_dpi(200, 200, limits)
    with pytest.raises(PageTooLarge, match="even at 50 dpi"):
        page_dpi(100, 100, DocumentLimits(image=DecodeLimits(max_pixels=1_000_000)))
    with pytest.raises(UndecodableDocument):
        page_dpi(0, 11, limits)


# ---------------------------------------------------------------- rendering
def test_render_pages_yields_each_page_at_its_dpi(pdf: bytes, pages: list[np.ndarray]) -> None:
    got = list(render_pages(pdf))
    assert [(n, dpi) for n, _, dpi in got] == [(1, DEFAULT_DPI), (2, DEFAULT_DPI), (3, DEFAULT_DPI)]
    for (_, img, _), page in zip(got, pages):
        assert img.shape == (*page.shape, 3) and img.dtype == np.uint8  # BGR, the page's size at its dpi
        assert np.abs(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(int) - page).mean() < 1.0
    (n, gray, dpi), = render_pages(pdf, 2, 2, gray=True)
    assert n == 2 and gray.shape == pages[1].shape and np.array_equal(gray, pages[1])


def test_a_lower_dpi_renders_smaller_pages(pdf: bytes, pages: list[np.ndarray]) -> None:
    (n, img, dpi), = render_pages(pdf, 1, 1, DocumentLimits(dpi=100), gray=True)
    assert dpi == 100.0
    assert abs(img.shape[1] - pages[0].shape[1] / 2) <= 1 and abs(img.shape[0] - pages[0].shape[0] / 2) <= 1


def test_a_page_over_the_pixel_limit_is_rendered_at_a_lower_dpi() -> None:
    a4 = pdf_of([np.full((2339, 1654), 255, np.uint8)])  # A4 at 200 dpi
    (_, img, dpi), = render_pages(a4, limits=DocumentLimits(image=DecodeLimits(max_pixels=1_000_000)), gray=True)
    assert 100 < dpi < 102 and img.shape[0] * img.shape[1] <= 1_000_000


def test_the_renderer_in_this_process_gives_the_same_pages(pdf: bytes) -> None:
    isolated = [(n, img.tobytes(), dpi) for n, img, dpi in render_pages(pdf, gray=True)]
    inline = [(n, img.tobytes(), dpi) for n, img, dpi in render_pages(pdf, limits=DocumentLimits(isolate=False),
                                                                      gray=True)]
    assert isolated == inline


def test_tiff_pages_are_decoded_one_at_a_time(pages: list[np.ndarray], tmp_path: Path) -> None:
    tiff = tiff_of(pages, tmp_path)
    got = list(render_pages(tiff, 2))
    assert [(n, dpi) for n, _, dpi in got] == [(2, None), (3, None)]
    for (_, img, _), page in zip(got, pages[1:]):
        assert np.array_equal(img, cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))


def test_a_single_image_is_its_own_first_page(pages: list[np.ndarray]) -> None:
    (n, img, dpi), = render_pages(png(pages[0]))
    assert (n, img.shape, dpi) == (1, (*pages[0].shape, 3), None)
    with pytest.raises(InvalidInput, match="has 1 page"):
        list(render_pages(png(pages[0]), 2))


@pytest.mark.parametrize(("first", "last", "error"), [
    (0, None, InvalidInput), (4, None, InvalidInput), (2, 1, InvalidInput), (1, 3, TooManyPages),
])
def test_bad_or_too_long_page_ranges_are_refused(pdf: bytes, pages: list[np.ndarray], tmp_path: Path,
                                                 first: int, last: int | None, error: type) -> None:
    for data in (pdf, tiff_of(pages, tmp_path)):
        with pytest.raises(error):
            list(render_pages(data, first, last, DocumentLimits(max_pages=2)))
    # a range inside the limit of a longer document is read
    assert [n for n, _, _ in render_pages(pdf, 2, 99, DocumentLimits(max_pages=2))] == [2, 3]


def test_without_pypdfium2_a_pdf_is_refused_with_how_to_install_it(pdf: bytes,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # import pypdfium2 -> ImportError
    with pytest.raises(UnsupportedImageType, match=r"ocr-engine\[pdf\]"):
        list(render_pages(pdf, limits=DocumentLimits(isolate=False)))
    with pytest.raises(UnsupportedImageType, match=r"ocr-engine\[pdf\]"):
        page_count(pdf)


def test_the_renderer_process_running_out_of_time_or_memory_is_a_typed_refusal() -> None:
    def slow():  # noqa: ANN202
        time.sleep(10)
        yield 1, None, None

    def aborts():  # noqa: ANN202 - what PDFium does when an allocation fails
        os.abort()
        yield 1, None, None

    def hogs():  # noqa: ANN202
        yield 1, None, None
        yield 2, np.ones(1 << 30, np.uint8), None

    def exits():  # noqa: ANN202
        os._exit(3)
        yield 1, None, None

    def refuses():  # noqa: ANN202
        yield 1, None, None
        raise PageTooLarge("page 2 is too large")

    t0 = time.perf_counter()
    with pytest.raises(DocumentTooLarge, match="longer than the limit of 0.5 s"):
        list(isolated(slow, 256 << 20, 0.5))
    assert time.perf_counter() - t0 < 3
    with pytest.raises(DocumentTooLarge, match="more memory than the limit of 256 MiB"):
        list(isolated(aborts, 256 << 20, 10))
    with pytest.raises(DocumentTooLarge, match="more memory than the limit of 256 MiB"):
        list(isolated(hogs, 256 << 20, 10))
    with pytest.raises(UndecodableDocument, match="renderer stopped"):
        list(isolated(exits, 256 << 20, 10))
    got = []
    with pytest.raises(PageTooLarge, match="page 2 is too large"):
        got.extend(isolated(refuses, 256 << 20, 10))
    assert got == [(1, None, None)]


# ---------------------------------------------------------------- run_document
def test_run_document_reads_every_page_as_run_does(engine: OcrEngine, pdf: bytes, pages: list[np.ndarray]) -> None:
    doc = engine.run_document(pdf)
    assert (doc.source_type, doc.page_count, doc.first_page, len(doc.pages)) == ("pdf", 3, 1, 3)
    assert doc.dpi == [DEFAULT_DPI] * 3
    assert doc.model.name == engine.recognizer.meta.model_name
    assert set(doc.timings_ms) == {"render", "ocr", "total"}
    for page, image, truth in zip(doc.pages, pages, TRUTH):
        alone = engine.run(png(image))
        assert page.text == alone.text
        assert (page.width, page.height) == (image.shape[1], image.shape[0])
        assert [line.box for line in page.lines] == [line.box for line in alone.lines]
        assert cer(normalize("\n".join(truth)), normalize(page.text)) < 0.1, page.text
        assert {"render", "preprocess", "detect", "recognize", "total"} <= set(page.timings_ms)
    assert doc.text == "\n\f".join(page.text for page in doc.pages)
    assert DocumentResult.from_json(doc.to_json()) == doc


def test_run_document_reads_only_the_pages_asked_for(engine: OcrEngine, pdf: bytes) -> None:
    whole = engine.run_document(pdf)
    part = engine.run_document(pdf, first_page=2, last_page=2)
    assert (part.page_count, part.first_page, len(part.pages), part.dpi) == (3, 2, 1, [DEFAULT_DPI])
    assert part.pages[0].text == whole.pages[1].text
    tail = engine.run_document(pdf, first_page=3, last_page=10)
    assert [p.text for p in tail.pages] == [whole.pages[2].text]


def test_run_document_reads_a_multipage_tiff(engine: OcrEngine, pages: list[np.ndarray], tmp_path: Path) -> None:
    doc = engine.run_document(tiff_of(pages, tmp_path))
    assert (doc.source_type, doc.page_count, doc.dpi) == ("tiff", 3, [None, None, None])
    assert [p.text for p in doc.pages] == [engine.run(png(img)).text for img in pages]


def test_run_document_on_a_single_image_is_a_one_page_document(engine: OcrEngine, pages: list[np.ndarray]) -> None:
    doc = engine.run_document(png(pages[0]))
    assert (doc.source_type, doc.page_count, doc.first_page, doc.dpi) == ("image", 1, 1, [None])
    assert doc.pages[0].text == engine.run(png(pages[0])).text
    with pytest.raises(InvalidInput):
        engine.run_document(png(pages[0]), first_page=2)


def test_run_document_checks_the_direction_and_the_limits_before_reading(engine: OcrEngine, pdf: bytes) -> None:
    with pytest.raises(InvalidInput, match="direction"):
        engine.run_document(pdf, direction="diagonal")
    with pytest.raises(TooManyPages):
        engine.run_document(pdf, limits=DocumentLimits(max_pages=2))
    # the page pixel limits default to the engine's own
    small = OcrEngine(OcrConfig(model_path=engine.config.model_path, threads=1,
                                limits=DecodeLimits(max_pixels=20_000)), recognizer=engine.recognizer)
    doc = small.run_document(pdf, last_page=1)
    assert doc.dpi[0] < DEFAULT_DPI and doc.pages[0].width * doc.pages[0].height <= 20_000


def test_run_document_reads_every_page_with_the_detector_asked_for(engine: OcrEngine, pdf: bytes) -> None:
    from ocr_engine.detection import MorphologyDetector

    assert [p.detector for p in engine.run_document(pdf, last_page=2, detector="opencv").pages] == ["opencv"] * 2
    with pytest.raises(InvalidInput, match=r"^detector must be one of opencv, learned, auto, got 'yolo'$"):
        engine.run_document(pdf, detector="yolo")
    # an engine without the learned model refuses it before any page is read
    bare = OcrEngine(engine.config, recognizer=engine.recognizer, detector=MorphologyDetector())
    with pytest.raises(InvalidInput, match="'learned' is not available"):
        bare.run_document(pdf, detector="learned")
    if "learned" not in engine.detectors:
        pytest.skip("no learned detector model (python layers/fetch_detector.py)")
    doc = engine.run_document(pdf, first_page=2, last_page=3, detector="learned")
    assert [p.detector for p in doc.pages] == ["learned", "learned"]
    assert engine.run_document(pdf, last_page=1, detector="auto").pages[0].detector in ("opencv", "learned")


def test_an_unfiltered_stream_is_sized_by_its_own_bytes_not_the_rest_of_the_file() -> None:
    """A PDF bigger than the stream limit whose content streams are written uncompressed is fine."""
    import io

    from reportlab.pdfgen import canvas

    from ocr_engine.image.pdf_streams import StreamLimits, scan_streams

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pageCompression=0)
    pdf.drawString(72, 720, "uncompressed content stream")
    pdf.showPage()
    pdf.save()
    limits = StreamLimits()
    padded = buf.getvalue() + b"\n%" + b"x" * (limits.max_stream_bytes + 1024)  # a comment after %%EOF
    scan_streams(padded, limits)  # the content stream is a few dozen bytes: no refusal
