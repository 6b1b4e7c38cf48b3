"""Documents: PDF and multi-page TIFF input, read one page at a time within :class:`DocumentLimits`.

:func:`document_kind` tells a document from a single image by its bytes, :func:`page_count`
counts pages without rendering, :func:`render_pages` yields page images one at a time, and
:meth:`OcrEngine.run_document <ocr_engine.engine.OcrEngine.run_document>` (through
:func:`read_document`) reads them into a :class:`~ocr_engine.schema.DocumentResult`.

Everything a limit can refuse is refused before any page is drawn: the bytes, the page count
of the range asked for, and the size of every page in it (PDF: from the page's box; TIFF:
from its directory). A PDF page is rendered at :attr:`DocumentLimits.dpi`, lowered for a page
too large for the pixel limit (down to ``min_dpi``; below that the page is refused). PDFs go
through PDFium (``pypdfium2``, the ``pdf`` extra, :mod:`~ocr_engine.image.pdf`) in a child
process with its own memory and time limits (:mod:`~ocr_engine.image.isolate`); TIFF pages
through OpenCV (:mod:`~ocr_engine.image.tiff_pages`).

Example:
    >>> document_kind(b"%PDF-1.7\\n..."), document_kind(b"\\x89PNG\\r\\n\\x1a\\n...")
    ('pdf', None)
    >>> page_dpi(8.27, 11.69, DocumentLimits())   # A4
    200.0
    >>> page_dpi(100, 100, DocumentLimits())      # a 100 in poster: held to 40 Mpx
    63.23
    >>> for number, page, dpi in render_pages(open("scan.pdf", "rb").read(), 2, 3):  # doctest: +SKIP
    ...     print(number, page.shape, dpi)
    2 (2339, 1654, 3) 200.0
    3 (2339, 1654, 3) 200.0
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ocr_engine.config import check_direction
from ocr_engine.errors import (
    DocumentTooLarge,
    EmptyImage,
    EncryptedDocument,
    InvalidInput,
    PageTooLarge,
    TooManyPages,
    UndecodableDocument,
)
from ocr_engine.image.decode import decode_image
from ocr_engine.image.headers import read_header, sniff_format
from ocr_engine.image.isolate import isolated
from ocr_engine.image.limits import DecodeLimits
from ocr_engine.image.pdf import PdfPages, is_pdf
from ocr_engine.image.pdf_streams import StreamLimits
from ocr_engine.image.tiff_pages import TiffPages, ifd_offsets
from ocr_engine.schema import DocumentResult, ModelInfo, OcrResult

if TYPE_CHECKING:
    from ocr_engine.engine import OcrEngine

__all__ = [
    "DEFAULT_DPI", "DocumentLimits", "DocumentTooLarge", "EncryptedDocument", "PageTooLarge", "TooManyPages",
    "UndecodableDocument", "document_kind", "page_count", "page_dpi", "read_document", "render_pages",
]

# Render resolution of PDF pages. The recogniser reads lines 32 px high: at 200 dpi the body
# text of a typeset page (9-12 pt) is 25-33 px per em. On A4 pages of Chinese and English text
# at 9, 10.5 and 12 pt, 200 dpi read 96-100 % of lines exactly, 150 dpi 82-94 %, 250 and 300 dpi
# no better (92-98 %) and took longer (larger pages to clean and search for lines).
DEFAULT_DPI = 200.0
# A TIFF's directory chain is walked at most this far, whatever the page limit.
MAX_TIFF_PAGES = 100_000

Page = tuple[int, np.ndarray, "float | None"]


@dataclass(frozen=True)
class DocumentLimits:
    """Limits enforced on every document.

    Attributes:
        max_pages: Most pages read in one call (a page range longer than this, or a whole
            document with more pages, is refused: ``too_many_pages``); :func:`page_count`
            refuses a document with more pages.
        max_page_inches: Longest page side accepted (a 200 x 200 in page is refused unrendered).
        dpi: Resolution PDF pages are rendered at, lowered for a page that would exceed the
            pixel limits of ``image``.
        min_dpi: The lowest resolution a large page is lowered to; a page that fits the pixel
            limit only below it is refused (``page_too_large``).
        max_bytes: Largest document accepted, in bytes.
        image: Pixel limits of one page (``max_pixels``, ``max_side``, decode memory); ``None``:
            the engine's own (:attr:`OcrConfig.limits <ocr_engine.config.OcrConfig.limits>`)
            in ``run_document``, :class:`DecodeLimits` defaults elsewhere.
        max_image_pixels: Largest image drawn on a PDF page (width x height, from its
            dictionary or its JPEG / JPEG 2000 header).
        max_stream_bytes: Largest inflated PDF stream other than an image or a font (those
            may inflate to 4 bytes per pixel of ``max_image_pixels``).
        max_inflated_bytes: All streams of a PDF together, inflated.
        max_page_objects: Most drawing objects on one PDF page.
        render_memory_bytes: Memory the PDF renderer's process may take beyond what it shares.
        render_seconds: Longest wait for one PDF page (the first one includes opening the file).
        isolate: Render PDFs in a child process (Linux); ``False``: in this process.
    """

    max_pages: int = 2000
    max_page_inches: float = 100.0
    dpi: float = DEFAULT_DPI
    min_dpi: float = 50.0
    max_bytes: int = 256 * 1024 * 1024
    image: DecodeLimits | None = None
    max_image_pixels: int = 100_000_000
    max_stream_bytes: int = 16 * 1024 * 1024
    max_inflated_bytes: int = 2 * 1024 * 1024 * 1024
    max_page_objects: int = 500_000
    render_memory_bytes: int = 1024 * 1024 * 1024
    render_seconds: float = 60.0
    isolate: bool = True

    def page_limits(self) -> DecodeLimits:
        """The pixel limits of one page (``image``, or the defaults), with this document's byte limit."""
        return dataclasses.replace(self.image or DecodeLimits(), max_bytes=self.max_bytes)

    def stream_limits(self) -> StreamLimits:
        """What a PDF's streams may inflate to."""
        return StreamLimits(max_stream_bytes=self.max_stream_bytes, max_image_bytes=4 * self.max_image_pixels,
                            max_total_bytes=self.max_inflated_bytes, max_image_pixels=self.max_image_pixels)


def document_kind(data: bytes) -> str | None:
    """``"pdf"``, ``"tiff"`` (a TIFF of two or more pages) or ``None`` (anything else: a single
    image for :meth:`OcrEngine.run <ocr_engine.engine.OcrEngine.run>`, or not an image at all).

    Raises:
        UndecodableDocument: A TIFF whose page chain loops.

    Example:
        >>> document_kind(b"%PDF-1.4\\n%\\xe2\\xe3\\xcf\\xd3\\n1 0 obj")
        'pdf'
    """
    head = bytes(data[:16])
    fmt = sniff_format(head) if head else None
    if fmt == "tiff":
        try:
            ifd_offsets(data, 1)
        except TooManyPages:
            return "tiff"
        return None
    if fmt is None and is_pdf(bytes(data[:1024])):
        return "pdf"
    return None


def page_count(data: bytes, limits: DocumentLimits | None = None) -> int:
    """Pages in ``data`` (1 for a single image), counted without rendering.

    Raises:
        TooManyPages: More than ``limits.max_pages`` pages.
        DocumentTooLarge, EncryptedDocument, UndecodableDocument: A PDF refused as it opens.
        OcrError: A single image whose header is refused (empty, unsupported...).
    """
    limits = limits or DocumentLimits()
    data = _checked_bytes(data, limits)
    kind = document_kind(data)
    if kind == "tiff":
        count = len(ifd_offsets(data, limits.max_pages))
    elif kind == "pdf":
        items = _pdf_items(data, 1, 0, limits, gray=False)
        try:
            count = next(items)[0]
        finally:
            items.close()
    else:
        read_header(data)
        return 1
    if count > limits.max_pages:
        raise TooManyPages(f"the document has {count} pages; the limit is {limits.max_pages}")
    return count


def render_pages(data: bytes, first: int = 1, last: int | None = None, limits: DocumentLimits | None = None, *,
                 gray: bool = False) -> Iterator[Page]:
    """Pages ``first`` to ``last`` (1-based, inclusive; ``None``: the last page) of a document,
    one at a time: ``(number, image, dpi)``.

    ``image`` is a BGR ``uint8`` array (``gray=True``: a 2-D gray one for PDF pages), ``dpi``
    the PDF render resolution (``None`` for a TIFF page). A single image gives itself as page 1.
    Limits are checked for the whole range before the first page is yielded.

    Raises:
        InvalidInput: A range that is empty or starts past the last page.
        TooManyPages, PageTooLarge, DocumentTooLarge, EncryptedDocument, UndecodableDocument:
            The document refused within ``limits``.
    """
    _, pages = _open(data, first, last, limits or DocumentLimits(), gray=gray)
    try:
        yield from pages
    finally:
        pages.close()


def page_dpi(width_in: float, height_in: float, limits: DocumentLimits, number: int = 1) -> float:
    """The resolution page ``number`` (``width_in`` x ``height_in`` inches) is rendered at.

    Raises:
        PageTooLarge: A side longer than ``limits.max_page_inches``, or a page that fits the
            pixel limits only below ``limits.min_dpi``.
        UndecodableDocument: A page with no area.
    """
    if max(width_in, height_in) > limits.max_page_inches:
        raise PageTooLarge(f"page {number} is {width_in:.1f} x {height_in:.1f} in; the limit is "
                           f"{limits.max_page_inches:g} in per side")
    if width_in <= 0 or height_in <= 0 or not math.isfinite(width_in * height_in):
        raise UndecodableDocument(f"page {number} has no area ({width_in:g} x {height_in:g} in)")
    pixels = limits.page_limits()
    dpi = limits.dpi
    if not _fits(width_in, height_in, dpi, pixels):
        # the largest dpi whose page, each side rounded up to a whole pixel, fits the limits:
        # (w d + 1)(h d + 1) <= max_pixels and max(w, h) d + 1 <= max_side
        area, perimeter = width_in * height_in, width_in + height_in
        dpi = min((math.sqrt(perimeter ** 2 + 4 * area * (pixels.max_pixels - 1)) - perimeter) / (2 * area),
                  (pixels.max_side - 1) / max(width_in, height_in))
    floor = min(limits.min_dpi, limits.dpi)
    if dpi < floor:
        raise PageTooLarge(f"page {number} is {width_in:.1f} x {height_in:.1f} in: over the limit of "
                           f"{pixels.max_pixels} pixels even at {floor:g} dpi")
    return math.floor(dpi * 100) / 100


def read_document(engine: OcrEngine, data: bytes, *, direction: str | None = None, first_page: int = 1,
                  last_page: int | None = None, limits: DocumentLimits | None = None,
                  detector: str | None = None) -> DocumentResult:
    """OCR pages ``first_page`` to ``last_page`` of a PDF, TIFF or single image with ``engine``
    (what :meth:`OcrEngine.run_document <ocr_engine.engine.OcrEngine.run_document>` does).

    A single image is read with ``engine.run`` as a one-page document of ``source_type``
    ``"image"``. Each page's ``timings_ms`` adds ``render`` (rendering or decoding it); the
    document's are ``render``, ``ocr`` (the pages' sums) and ``total``. ``direction`` and
    ``detector`` apply to every page (``None``: the engine's configured ones); both are
    checked before any page is read.
    """
    t0 = time.perf_counter()
    if direction is not None:
        check_direction(direction)
    if detector is not None:
        engine.detector_for(name=detector)  # an unknown detector, or one the engine lacks: InvalidInput
    limits = limits or DocumentLimits()
    if limits.image is None:
        limits = dataclasses.replace(limits, image=engine.config.limits)
    meta = engine.recognizer.meta
    model = ModelInfo(meta.model_name, meta.model_version)
    if document_kind(data) is None:
        _range(first_page, last_page, 1, limits)
        result = engine.run(data, direction, detector)
        render = result.timings_ms.get("decode", 0.0)
        return DocumentResult(pages=[result], source_type="image", page_count=1, first_page=1, dpi=[None],
                              model=model, timings_ms={"render": render, "ocr": round(_ms(t0) - render, 2),
                                                       "total": _ms(t0)})
    (kind, count), pages = _open(data, first_page, last_page, limits, gray=True)
    results: list[OcrResult] = []
    dpis: list[float | None] = []
    render_ms = ocr_ms = 0.0
    try:
        t_page = time.perf_counter()
        for _, image, dpi in pages:
            rendered = _ms(t_page)
            t_ocr = time.perf_counter()
            result = engine.run_array(image, direction, detector)
            del image
            result.timings_ms = {"render": rendered, **result.timings_ms}
            result.timings_ms["total"] = round(rendered + _ms(t_ocr), 2)
            render_ms += rendered
            ocr_ms += _ms(t_ocr)
            results.append(result)
            dpis.append(dpi)
            t_page = time.perf_counter()
    finally:
        pages.close()
    return DocumentResult(pages=results, source_type=kind, page_count=count, first_page=first_page, dpi=dpis,
                          model=model, timings_ms={"render": round(render_ms, 2), "ocr": round(ocr_ms, 2),
                                                   "total": _ms(t0)})


# ---------------------------------------------------------------- internals
def _fits(width_in: float, height_in: float, dpi: float, pixels: DecodeLimits) -> bool:
    w, h = math.ceil(width_in * dpi), math.ceil(height_in * dpi)
    return w * h <= pixels.max_pixels and max(w, h) <= pixels.max_side


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000.0, 2)


def _checked_bytes(data: bytes, limits: DocumentLimits) -> bytes:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"document data must be bytes, got {type(data).__name__}")
    if not data:
        raise EmptyImage("the upload is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(f"the document is {len(data)} bytes; the limit is {limits.max_bytes}")
    return data


def _range(first: int, last: int | None, count: int, limits: DocumentLimits) -> tuple[int, int]:
    """``(first, last)`` of the pages to read, ``last`` held to ``count``.

    Raises:
        InvalidInput: Not a range of pages of this document.
        TooManyPages: More than ``limits.max_pages`` pages in it.
    """
    if isinstance(first, bool) or not isinstance(first, int) or first < 1:
        raise InvalidInput(f"first page must be a page number (1 or more), got {first!r}")
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < first):
        raise InvalidInput(f"last page must be a page number not before the first ({first}), got {last!r}")
    if first > count:
        raise InvalidInput(f"page {first} was asked for; the document has {count} page{'s' * (count != 1)}")
    end = count if last is None else min(last, count)
    if end - first + 1 > limits.max_pages:
        what = f"the document has {count} pages" if (first, end) == (1, count) else \
            f"pages {first}-{end} are {end - first + 1} pages"
        raise TooManyPages(f"{what}; the limit is {limits.max_pages} per read")
    return first, end


class _Pages:
    """An iterator of pages with a ``close`` that stops its source (a child process, a file)."""

    def __init__(self, items: Iterator[Page]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Page]:
        return self._items

    def close(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


def _open(data: bytes, first: int, last: int | None, limits: DocumentLimits, *,
          gray: bool) -> tuple[tuple[str, int], _Pages]:
    """The kind and page count of ``data``, and its pages ``first``-``last``, every limit checked."""
    data = _checked_bytes(data, limits)
    kind = document_kind(data)
    if kind == "pdf":
        items = _pdf_items(data, first, last, limits, gray=gray)
        try:
            count = next(items)[0]
        except BaseException:
            items.close()
            raise
        return ("pdf", count), _Pages(items)  # type: ignore[arg-type]
    if kind == "tiff":
        tiff = TiffPages(data, limits.page_limits(), max_pages=MAX_TIFF_PAGES)
        first, end = _range(first, last, len(tiff), limits)
        numbers = range(first, end + 1)
        tiff.check_pages(numbers)
        pages = ((n, img, None) for n, img in zip(numbers, tiff.decode_pages(numbers)))
        return ("tiff", len(tiff)), _Pages(pages)
    _range(first, last, 1, limits)
    image = decode_image(data, limits.image).image
    return ("image", 1), _Pages(iter([(1, image, None)]))


def _pdf_items(data: bytes, first: int, last: int | None, limits: DocumentLimits, *,
               gray: bool) -> Iterator[tuple[int, np.ndarray | None, float | None]]:
    """The page count, then pages ``first``-``last`` (``last == 0``: none), from a child process."""

    def produce() -> Iterator[tuple[int, np.ndarray | None, float | None]]:
        with PdfPages(data, limits.stream_limits()) as pdf:
            count = len(pdf)
            yield count, None, None
            if last == 0:
                return
            start, end = _range(first, last, count, limits)
            numbers = range(start, end + 1)
            dpis = [page_dpi(*pdf.size_inches(n), limits, n) for n in numbers]  # every page, before any render
            for number, dpi in zip(numbers, dpis):
                yield number, pdf.render(number, dpi, gray=gray, max_objects=limits.max_page_objects,
                                         max_image_pixels=limits.max_image_pixels), dpi

    return isolated(produce, limits.render_memory_bytes, limits.render_seconds, enabled=limits.isolate,
                    what="the PDF")
