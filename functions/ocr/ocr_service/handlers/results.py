"""Turn the core's ``OcrResult`` into the documents the handlers return or store."""

from __future__ import annotations

import re
from typing import Any

# A lone UTF-16 surrogate (JSON "\ud800" escapes decode to one) cannot be encoded as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def result_document(result: Any) -> dict[str, Any]:
    """The stored / returned form of one result: ``{"success": true, **result.to_dict()}``."""
    body = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    document: dict[str, Any] = {"success": True}
    document.update(body)
    document["success"] = True
    if "text" not in document and hasattr(result, "text"):
        document["text"] = result.text
    return document


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


def http_document(result: Any) -> dict[str, Any]:
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


def error_document(code: str, message: str, status: int) -> dict[str, Any]:
    """The error body used by every HTTP error response and batch item failure."""
    return {"success": False, "error": {"code": code, "message": message, "status": status}}
