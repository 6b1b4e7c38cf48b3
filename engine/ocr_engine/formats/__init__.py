"""Output formats of a result: JSON, plain text, hOCR, ALTO, searchable PDF, Textract-shaped JSON.

:func:`render` turns an :class:`~ocr_engine.schema.OcrResult` (an image) or a
:class:`~ocr_engine.schema.DocumentResult` (a PDF or TIFF) into the bytes of one format;
:data:`FORMATS` gives each format's media type and file extension. One module a format:
:mod:`~ocr_engine.formats.jsondoc`, :mod:`~ocr_engine.formats.text`,
:mod:`~ocr_engine.formats.hocr`, :mod:`~ocr_engine.formats.alto`,
:mod:`~ocr_engine.formats.pdf` (needs the ``pdf`` extra) and
:mod:`~ocr_engine.formats.textract`.

Example:
    >>> from ocr_engine.schema import Line, OcrResult
    >>> r = OcrResult(width=100, height=40, lines=[Line("你好 world", 0.97, [[2, 3], [90, 3], [90, 30], [2, 30]])])
    >>> render(r, "text").decode()
    '你好 world\\n'
    >>> FORMATS["alto"]
    Format(name='alto', media_type='application/xml', extension='alto.xml')
    >>> render(r, "docx")
    Traceback (most recent call last):
    ...
    ocr_engine.errors.InvalidInput: unknown format 'docx'; known: json, text, hocr, alto, pdf, textract
"""

from __future__ import annotations

from dataclasses import dataclass

from ocr_engine.errors import InvalidInput
from ocr_engine.formats.alto import render_alto
from ocr_engine.formats.hocr import render_hocr
from ocr_engine.formats.jsondoc import render_json
from ocr_engine.formats.text import render_text
from ocr_engine.formats.textract import render_textract
from ocr_engine.schema import DocumentResult, OcrResult


@dataclass(frozen=True)
class Format:
    """An output format: its name (``?format=``, ``--format``), media type and file extension
    (without the dot)."""

    name: str
    media_type: str
    extension: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("json", "application/json", "json"),
    Format("text", "text/plain; charset=utf-8", "txt"),
    Format("hocr", "text/html; charset=utf-8", "hocr"),
    Format("alto", "application/xml", "alto.xml"),
    Format("pdf", "application/pdf", "pdf"),
    Format("textract", "application/json", "textract.json"),
)}


def render(result: OcrResult | DocumentResult, fmt: str, *, source: bytes | None = None) -> bytes:
    """The result in format ``fmt`` (a key of :data:`FORMATS`).

    Args:
        result: What the engine read.
        fmt: The format's name.
        source: The bytes that were read (image, PDF or TIFF): needed by ``pdf`` only, whose
            pages show them.

    Raises:
        InvalidInput: An unknown format, or ``pdf`` without (or with a mismatched) source.
        ConfigError: ``pdf`` without reportlab installed.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "pdf":
        if source is None:
            raise InvalidInput("the pdf format needs the source image or document")
        from ocr_engine.formats.pdf import render_pdf

        return render_pdf(result, source)
    writers = {"json": render_json, "text": render_text, "hocr": render_hocr, "alto": render_alto,
               "textract": render_textract}
    return writers[fmt](result)


__all__ = ["FORMATS", "Format", "render"]
