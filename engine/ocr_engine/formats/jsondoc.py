"""The ``json`` format: the result's own JSON (:meth:`~ocr_engine.schema.OcrResult.to_json`), UTF-8.

Example:
    >>> from ocr_engine.schema import OcrResult
    >>> render_json(OcrResult(width=4, height=3)).startswith(b'{"width": 4')
    True
"""

from __future__ import annotations

from ocr_engine.schema import DocumentResult, OcrResult


def render_json(result: OcrResult | DocumentResult) -> bytes:
    """The result as JSON bytes (characters kept as is, no trailing newline)."""
    return result.to_json().encode("utf-8")
