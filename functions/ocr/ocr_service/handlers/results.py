"""Turn the engine's ``OcrResult`` / ``DocumentResult`` (and errors) into the documents the
handlers return or store."""

from __future__ import annotations

import re
from typing import Any

from ocr_engine.errors import OcrError
from ocr_engine.schema import DocumentResult, OcrResult
from ocr_service.status import http_status

# A lone UTF-16 surrogate (JSON "\ud800" escapes decode to one) cannot be encoded as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def result_document(result: OcrResult) -> dict[str, Any]:
    """The stored / returned form of one result: ``{"success": true, **result.to_dict()}``."""
    return {"success": True, **result.to_dict()}


def line_items(document: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"text", "confidence", "box"}, ...]`` from a result document (the HTTP ``data`` list)."""
    items = []
    for line in document.get("lines") or []:
        items.append(
            {
                "text": line.get("text", ""),
                "confidence": line.get("confidence"),
                "box": line.get("box"),
            }
        )
    return items


def http_document(result: OcrResult) -> dict[str, Any]:
    """The ``POST /ocr`` body: ``success``, ``data`` (lines), ``text`` and the full ``result``."""
    document = result_document(result)
    body = {
        "success": True,
        "data": line_items(document),
        "text": document.get("text", ""),
    }
    extra = {k: v for k, v in document.items() if k not in {"success", "lines", "text"}}
    if extra:
        body["meta"] = extra
    return body


def http_document_result(document: DocumentResult) -> dict[str, Any]:
    """The ``POST /ocr`` body of a document (PDF, multi-page TIFF), parallel to :func:`http_document`.

    ``pages`` holds one item per page read, each shaped like an image answer (``data``,
    ``text``, ``meta`` with the page's ``width`` / ``height`` in rendered pixels) plus its
    1-based ``page`` number in the source; ``text`` is the document's text (pages separated
    by a form feed line); ``meta`` the document's fields (``source_type``, ``page_count``,
    ``first_page``, ``dpi``, ``model``, ``timings_ms``, ``schema_version``).
    """
    pages = []
    for offset, page in enumerate(document.pages):
        item = http_document(page)
        del item["success"]
        pages.append({"page": document.first_page + offset, **item})
    whole = document.to_dict()
    meta = {k: v for k, v in whole.items() if k not in {"pages", "text"}}
    return {"success": True, "pages": pages, "text": whole["text"], "meta": meta}


def error_document(code: str, message: str, status: int) -> dict[str, Any]:
    """The error body used by every HTTP error response and batch item failure."""
    return {"success": False, "error": {"code": code, "message": message, "status": status}}


def ocr_error_document(err: OcrError) -> dict[str, Any]:
    """:func:`error_document` of a typed error, with its status from :mod:`ocr_service.status`."""
    return error_document(err.code, err.message, http_status(err))
