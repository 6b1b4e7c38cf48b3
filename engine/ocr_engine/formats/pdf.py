"""The ``pdf`` format: a searchable PDF, one page per page of the result.

Each page shows the page image under an invisible (text render mode 3), selectable text
layer. The image: an image source decoded as the engine decodes it; a PDF or multi-page
TIFF source rendered again by :func:`ocr_engine.document.render_pages`, at the resolution
the result says its pages were read at. The text layer: each line's text set on its box,
along the way it reads (:func:`~ocr_engine.formats.words.reading_box`: turned lines and
columns of vertical Chinese follow their box), the font size the box's height across the
text, stretched to the box's length. The font is a blank one built by
:mod:`~ocr_engine.formats.textfont`, embedded as a subset with its ``ToUnicode`` map, so the
Chinese comes back out of any PDF reader's text extraction (a non-embedded CID font such as
``STSong-Light`` does not: pdftotext needs poppler's language pack for it). Characters the
font does not cover (outside the Basic Multilingual Plane, control characters) are set as
U+FFFD.

A page is its image's pixel size at 72/dpi points a pixel, dpi the resolution the page was
rendered at; :data:`DEFAULT_DPI` when it is unknown (images, most TIFFs). Each page image
goes in as PNG (lossless) or JPEG (quality :data:`JPEG_QUALITY`), whichever is smaller.
The output is reproducible: the same inputs give the same bytes.

Needs the optional ``pdf`` extra (reportlab): ``pip install 'ocr-engine[pdf]'``.

Example:
    >>> import cv2, numpy as np
    >>> from ocr_engine.schema import Line, OcrResult
    >>> png = cv2.imencode(".png", np.full((40, 100), 255, np.uint8))[1].tobytes()
    >>> page = OcrResult(width=100, height=40, lines=[Line("你好", 0.97, [[2, 3], [90, 3], [90, 30], [2, 30]])])
    >>> render_pdf(page, png)[:8]
    b'%PDF-1.3'
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from ocr_engine.errors import ConfigError, InvalidInput
from ocr_engine.formats.words import Page, pages_of, reading_box
from ocr_engine.schema import DocumentResult, Line, OcrResult

DEFAULT_DPI = 300.0  # assumed resolution of a page image that does not say
JPEG_QUALITY = 90
FONT = "OcrTextLayer"
BASELINE = 0.2  # the baseline sits this fraction of the line box's height above its bottom
ASPECT_TOLERANCE = 0.02  # a page image may differ this much in shape from the page it was read as


def _covered(ch: str) -> bool:
    """Whether the text-layer font has a glyph for ``ch`` (see textfont's cmap)."""
    o = ord(ch)
    return 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD


def layer_text(text: str) -> str:
    """The text as the text layer carries it (uncovered characters as U+FFFD).

    Example:
        >>> layer_text("a😀b")
        'a\\ufffdb'
    """
    return "".join(ch if _covered(ch) else "\ufffd" for ch in text)


@functools.cache
def _register_font() -> Any:
    """Register the text-layer font with reportlab (once a process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from ocr_engine.formats.textfont import build_font

    font = TTFont(FONT, io.BytesIO(build_font()))
    pdfmetrics.registerFont(font)
    return font


def _encode(image: np.ndarray) -> bytes:
    """The page image as PNG or JPEG bytes, whichever is smaller (grey when it has no colour)."""
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        b, g, r = image[..., 0], image[..., 1], image[..., 2]
        if np.array_equal(b, g) and np.array_equal(g, r):
            image = np.ascontiguousarray(g)
    png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
    jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()
    return png if len(png) <= len(jpeg) else jpeg


def _document_kind(data: bytes) -> str | None:
    """``pdf`` or ``tiff`` for a document ``ocr_engine.document`` reads, else None."""
    try:
        from ocr_engine.document import document_kind
    except ImportError:  # no document reader in this build: every source is an image
        return None
    return document_kind(data)


def _page_images(pages: list[Page], source: bytes) -> Iterator[tuple[np.ndarray, float | None]]:
    """``(image, dpi it was rendered at or None)`` for each page, from the source."""
    if _document_kind(source) is None:
        if len(pages) != 1 or pages[0].number != 1:
            raise InvalidInput("a document result needs its PDF or TIFF as the source of the pdf format")
        from ocr_engine.image.decode import decode_image

        yield decode_image(source).image, None
        return
    from ocr_engine.document import DocumentLimits, render_pages

    # rendered at the resolution they were read at (a page too large for it is lowered as it was)
    dpis = [page.dpi for page in pages if page.dpi]
    limits = DocumentLimits(dpi=max(dpis)) if dpis else DocumentLimits()
    seen = 0
    for _, image, dpi in render_pages(source, first=pages[0].number, last=pages[-1].number, limits=limits):
        seen += 1
        yield image, dpi
    if seen != len(pages):
        raise InvalidInput(f"the source has {seen} of the result's {len(pages)} pages")


def _line_ops(text_obj: Any, line: Line, scale: float, page_height: float) -> bool:
    """Set one line on its box in the text object; False when the box is too small to hold text."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = layer_text(line.text)
    if not text.strip():
        return False
    (tlx, tly), (trx, try_), _, (blx, bly) = [(x * scale, page_height - y * scale) for x, y in reading_box(line)]
    ux, uy = trx - tlx, try_ - tly
    length = math.hypot(ux, uy)
    if length < 0.5:
        return False
    ux, uy = ux / length, uy / length
    vx, vy = tlx - blx, tly - bly
    size = abs(ux * vy - uy * vx)  # the box's height, across the text's direction
    natural = stringWidth(text, FONT, size) if size >= 0.5 else 0.0
    if natural <= 0:
        return False
    nx, ny = -uy, ux  # "up" from the baseline
    ox, oy = blx + nx * size * BASELINE, bly + ny * size * BASELINE
    text_obj.setFont(FONT, size)
    text_obj.setHorizScale(100.0 * length / natural)
    text_obj.setTextTransform(ux, uy, -uy, ux, ox, oy)
    text_obj.textOut(text)
    return True


def render_pdf(result: OcrResult | DocumentResult, source: bytes) -> bytes:
    """A searchable PDF of the result over the pages of ``source`` (the image or document read).

    Raises:
        InvalidInput: The source does not match the result (other pages, another shape).
        ConfigError: reportlab (the ``pdf`` extra) is not installed.
        OcrError: The source cannot be decoded or rendered again.
    """
    try:
        from reportlab.lib.utils import ImageReader
        from reportlab.pdfgen import canvas
    except ImportError as err:
        raise ConfigError("the pdf format needs reportlab: pip install 'ocr-engine[pdf]'") from err
    from ocr_engine import __version__

    _register_font()
    pages = pages_of(result)
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, invariant=1, pageCompression=1)
    pdf.setCreator(f"ocr-engine {__version__} ({result.model.name} {result.model.version})")
    for set_empty in (pdf.setTitle, pdf.setAuthor, pdf.setSubject):  # not reportlab's placeholders
        set_empty("")
    for page, (image, rendered_dpi) in zip(pages, _page_images(pages, source)):
        width, height = page.result.width, page.result.height
        ih, iw = image.shape[:2]
        if width <= 0 or height <= 0 or abs(iw / ih - width / height) > ASPECT_TOLERANCE * width / height:
            raise InvalidInput(f"page {page.number} of the source is {iw}x{ih} pixels, "
                               f"the result's is {width}x{height}")
        dpi = page.dpi or rendered_dpi or DEFAULT_DPI
        scale = 72.0 / dpi
        pw, ph = width * scale, height * scale
        pdf.setPageSize((pw, ph))
        pdf.drawImage(ImageReader(io.BytesIO(_encode(image))), 0, 0, width=pw, height=ph)
        text_obj = pdf.beginText()
        text_obj.setTextRenderMode(3)
        if sum(_line_ops(text_obj, line, scale, ph) for line in page.result.lines):
            pdf.drawText(text_obj)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
