"""Small JPEG previews of a document's pages, for the upload page to draw the boxes on.

A browser shows PDF pages (and TIFF ones, in most browsers) only through a viewer the page
cannot draw on, so ``POST /ocr?previews=1`` answers each page read with a ``data:`` URL of a
JPEG no longer than :data:`MAX_SIDE` pixels on its longest side. A preview has the page's
aspect ratio, not its size: the boxes stay in the page's own pixels (``meta.width`` /
``meta.height``) and are scaled onto the preview by the page.

The pages are drawn again by the engine's own :func:`ocr_engine.document.render_pages`, within
the same limits as the OCR (PDFs in its isolated renderer), in colour and at a resolution that
makes the largest page about :data:`MAX_SIDE` pixels, so a preview costs a fraction of the
page's OCR. All previews of one answer together are at most :data:`BUDGET` characters; a
page past the budget, or one that cannot be drawn again, has ``None`` (the page says "no
preview"): a preview never fails the request.
"""

from __future__ import annotations

import base64
import dataclasses

import numpy as np

from ocr_engine.document import DocumentLimits, render_pages
from ocr_engine.schema import DocumentResult
from ocr_service.observability import logger

MAX_SIDE = 1000  # pixels, the longest side of a preview
QUALITY = 70  # JPEG quality
BUDGET = 3_000_000  # characters of data URLs per answer (Lambda answers at most 6 MB)


def page_previews(data: bytes, document: DocumentResult, limits: DocumentLimits) -> list[str | None]:
    """One preview per page of ``document`` (read from ``data`` within ``limits``), in order."""
    count = len(document.pages)
    out: list[str | None] = [None] * count
    if not count:
        return out
    used = 0
    try:
        first = document.first_page
        pages = render_pages(data, first, first + count - 1, _preview_limits(document, limits))
        for number, image, _ in pages:
            index = number - first
            if not 0 <= index < count:
                continue
            url = _data_url(image)
            if url is not None and used + len(url) <= BUDGET:
                out[index] = url
                used += len(url)
    except Exception:  # noqa: BLE001 - a preview is a convenience: the answer goes out without it
        logger.warning("page previews failed", exc_info=True, extra={"source_type": document.source_type})
    return out


def _preview_limits(document: DocumentResult, limits: DocumentLimits) -> DocumentLimits:
    """``limits`` with the PDF render resolution that draws the largest page ~:data:`MAX_SIDE` px."""
    inches = [max(page.width, page.height) / dpi for page, dpi in zip(document.pages, document.dpi, strict=False)
              if dpi and page.width and page.height]
    if not inches:  # raster pages (TIFF): drawn at their own size, scaled down below
        return limits
    dpi = max(1.0, min(limits.dpi, MAX_SIDE / max(inches)))
    return dataclasses.replace(limits, dpi=dpi, min_dpi=min(limits.min_dpi, dpi))


def _data_url(image: np.ndarray) -> str | None:
    """``data:image/jpeg;base64,...`` of a BGR (or gray) image, scaled to :data:`MAX_SIDE` at most."""
    import cv2

    height, width = image.shape[:2]
    if not height or not width:
        return None
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    scale = min(1.0, MAX_SIDE / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
