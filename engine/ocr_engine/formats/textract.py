"""The ``textract`` format: the JSON shape of Amazon Textract's text detection, UTF-8.

An image result takes the shape of a ``DetectDocumentText`` response; a document result
(PDF, TIFF) the shape of ``GetDocumentTextDetection`` (``JobStatus: SUCCEEDED``), whatever
its page count. ``Blocks`` hold, page by page, a ``PAGE`` block, its ``LINE`` blocks and
their ``WORD`` blocks (each Chinese character a word, other text split on whitespace), tied
by ``CHILD`` relationships; every block has its ``Page`` (1-based, in the source).
``Geometry`` is relative to the page (0-1): the axis-aligned ``BoundingBox`` and the
4-point ``Polygon`` (top-left, top-right, bottom-right, bottom-left of the text as read:
:func:`~ocr_engine.formats.words.reading_box`).
``Confidence`` is a percentage. ``Id``s are UUIDs made from the page, the block's place and
its text, so the same result always gives the same JSON. ``DetectDocumentTextModelVersion``
is the recognition model's name and version.

Example:
    >>> import json
    >>> from ocr_engine.schema import Line, OcrResult
    >>> page = OcrResult(width=100, height=40, lines=[Line("你好", 0.97, [[2, 3], [90, 3], [90, 30], [2, 30]])])
    >>> out = json.loads(render_textract(page))
    >>> [(b["BlockType"], b.get("Text")) for b in out["Blocks"]]
    [('PAGE', None), ('LINE', '你好'), ('WORD', '你'), ('WORD', '好')]
    >>> out["Blocks"][1]["Geometry"]["BoundingBox"]
    {'Width': 0.88, 'Height': 0.675, 'Left': 0.02, 'Top': 0.075}
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ocr_engine.formats.words import pages_of, reading_box, words_of
from ocr_engine.schema import DocumentResult, OcrResult, Point

# Namespace of the block ids (uuid5 of the block's page, place and text).
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ocr-engine:textract-blocks")


def _block_id(*parts: object) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _geometry(points: list[Point], width: int, height: int) -> dict[str, Any]:
    """Textract geometry of a quadrilateral in page pixels."""

    def rel(v: float, size: int) -> float:
        return min(max(v / max(size, 1), 0.0), 1.0)

    xs = [rel(x, width) for x, _ in points]
    ys = [rel(y, height) for _, y in points]
    return {
        "BoundingBox": {"Width": round(max(xs) - min(xs), 6), "Height": round(max(ys) - min(ys), 6),
                        "Left": round(min(xs), 6), "Top": round(min(ys), 6)},
        "Polygon": [{"X": round(x, 6), "Y": round(y, 6)} for x, y in zip(xs, ys)],
    }


def _percent(confidence: float) -> float:
    return round(min(max(confidence, 0.0), 1.0) * 100.0, 3)


def blocks(result: OcrResult | DocumentResult) -> list[dict[str, Any]]:
    """The ``Blocks`` list of the result: PAGE, then its LINEs, then their WORDs, page by page."""
    out: list[dict[str, Any]] = []
    for page in pages_of(result):
        w, h = page.result.width, page.result.height
        page_id = _block_id(page.number, "PAGE")
        lines, words = [], []
        for li, line in enumerate(page.result.lines, start=1):
            line_words = words_of(line)
            if not line_words:
                continue
            line_id = _block_id(page.number, "LINE", li, line.text)
            word_ids = [_block_id(page.number, "WORD", li, wi, word.text) for wi, word in enumerate(line_words, 1)]
            lines.append({
                "BlockType": "LINE", "Confidence": _percent(line.confidence), "Text": line.text,
                "Geometry": _geometry(reading_box(line), w, h), "Id": line_id,
                "Relationships": [{"Type": "CHILD", "Ids": word_ids}], "Page": page.number,
            })
            words += [{
                "BlockType": "WORD", "Confidence": _percent(word.confidence), "Text": word.text,
                "TextType": "PRINTED", "Geometry": _geometry(word.box, w, h), "Id": word_id, "Page": page.number,
            } for word, word_id in zip(line_words, word_ids)]
        page_block: dict[str, Any] = {
            "BlockType": "PAGE", "Geometry": _geometry([[0, 0], [w, 0], [w, h], [0, h]], w, h), "Id": page_id,
        }
        if lines:
            page_block["Relationships"] = [{"Type": "CHILD", "Ids": [b["Id"] for b in lines]}]
        page_block["Page"] = page.number
        out += [page_block, *lines, *words]
    return out


def response(result: OcrResult | DocumentResult) -> dict[str, Any]:
    """The Textract-shaped response as a dict (see the module docstring for which shape)."""
    version = f"{result.model.name} {result.model.version}"
    if isinstance(result, DocumentResult):
        return {
            "DocumentMetadata": {"Pages": max(result.page_count, len(result.pages))},
            "JobStatus": "SUCCEEDED",
            "Blocks": blocks(result),
            "DetectDocumentTextModelVersion": version,
        }
    return {"DocumentMetadata": {"Pages": 1}, "Blocks": blocks(result), "DetectDocumentTextModelVersion": version}


def render_textract(result: OcrResult | DocumentResult) -> bytes:
    """:func:`response` as JSON bytes."""
    return json.dumps(response(result), ensure_ascii=False).encode("utf-8")
