"""The ``text`` format: the plain text, UTF-8, one line per text line and a final newline;
the blocks (paragraphs) of a page are separated by a blank line (as ``OcrResult.text``), the
pages of a document by a form feed (as ``DocumentResult.text``).

Example:
    >>> from ocr_engine.schema import Line, OcrResult
    >>> page = OcrResult(width=9, height=9, lines=[Line("你好", 0.9, [[0, 0], [9, 0], [9, 9], [0, 9]])])
    >>> render_text(page)
    b'\\xe4\\xbd\\xa0\\xe5\\xa5\\xbd\\n'
    >>> render_text(OcrResult(width=9, height=9))
    b''
"""

from __future__ import annotations

from ocr_engine.schema import DocumentResult, OcrResult


def render_text(result: OcrResult | DocumentResult) -> bytes:
    """The result's text and a newline (nothing at all for an image without text)."""
    text = result.text
    return (text + "\n").encode("utf-8") if text else b""
