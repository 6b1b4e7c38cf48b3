"""Test documents made on the spot, and a document reader for the fake engine.

``pdf_of(images)`` puts rendered page images into a PDF (reportlab), one page each, at
``dpi``; ``tiff_of(images)`` makes a multi-page TIFF (Pillow). :func:`fake_run_document`
stands in for ``OcrEngine.run_document`` beside the handler tests' fake engine: it counts
the real pages (pypdfium2 / Pillow) and answers two known lines per page, so the handler
and the page are checked whatever the model reads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ocr_engine.schema import DocumentResult, Line, ModelInfo, OcrResult

FAKE_DPI = 144.0  # the fake reader "renders" PDF pages at this resolution


def page_image(width: int, height: int, blocks: Sequence[Sequence[int]] = (), color: str = "white") -> Any:
    """A PIL image with a dark block in each ``[x0, y0, x1, y1]``."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in blocks:
        draw.rectangle([x0, y0, x1, y1], fill=(30, 30, 30))
    return img


def pdf_of(images: Sequence[Any], dpi: float = 72.0) -> bytes:
    """A PDF with one page per image, each page the image's size at ``dpi``."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for img in images:
        width, height = img.size[0] * 72.0 / dpi, img.size[1] * 72.0 / dpi
        pdf.setPageSize((width, height))
        pdf.drawImage(ImageReader(img.convert("RGB")), 0, 0, width=width, height=height)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def tiff_of(images: Sequence[Any]) -> bytes:
    """A multi-page TIFF of ``images``."""
    buf = io.BytesIO()
    first, *rest = [img.convert("RGB") for img in images]
    first.save(buf, format="TIFF", save_all=True, append_images=rest)
    return buf.getvalue()


def page_sizes(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """``("pdf" | "tiff", [(width, height) in rendered pixels, ...])`` of a document."""
    if data.lstrip()[:5] == b"%PDF-":
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        try:
            sizes = []
            for index in range(len(pdf)):
                w, h = pdf[index].get_size()
                sizes.append((round(w * FAKE_DPI / 72), round(h * FAKE_DPI / 72)))
            return "pdf", sizes
        finally:
            pdf.close()
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    sizes = []
    for index in range(getattr(img, "n_frames", 1)):
        img.seek(index)
        sizes.append(img.size)
    return "tiff", sizes


def fake_page(width: int, height: int, number: int) -> OcrResult:
    """Two lines inside a ``width`` x ``height`` page: ``page N`` on top, a Chinese line below."""
    x1, y = width * 0.6, height * 0.1
    return OcrResult(
        width=width,
        height=height,
        lines=[
            Line(f"page {number} <i>top</i>", 0.95, [[width * 0.1, y], [x1, y], [x1, y * 2], [width * 0.1, y * 2]]),
            Line(f"第{number}页", 0.6, [[width * 0.2, height * 0.5], [width * 0.7, height * 0.5],
                                       [width * 0.7, height * 0.8], [width * 0.2, height * 0.8]]),
        ],
        model=ModelInfo(name="fake", version="0"),
        timings_ms={"total": 1.0},
    )


def fake_run_document(calls: list[dict[str, Any]]):
    """A ``run_document`` for the fake engine; each call is recorded in ``calls`` (with its
    ``detector`` when one was chosen: the pages' ``detector``, as ``FakeEngine.run`` says it)."""

    def run_document(data: bytes, *, direction: str | None = None, first_page: int = 1,
                     last_page: int | None = None, limits: Any = None, **chosen: Any) -> DocumentResult:
        from ocr_engine import errors

        calls.append({"bytes": len(data), "direction": direction, "first_page": first_page,
                      "last_page": last_page, "max_pages": getattr(limits, "max_pages", None), **chosen})
        kind, sizes = page_sizes(data)
        last = len(sizes) if last_page is None else min(last_page, len(sizes))
        if first_page > len(sizes):
            raise errors.InvalidInput(f"page {first_page} was asked for; the document has {len(sizes)} pages")
        wanted = last - first_page + 1
        if limits is not None and wanted > limits.max_pages:
            raise errors.TooManyPages(f"{wanted} pages to read; the limit is {limits.max_pages}")
        pages = [fake_page(w, h, first_page + i) for i, (w, h) in enumerate(sizes[first_page - 1:last])]
        for page in pages:
            page.detector = {None: "opencv", "auto": "learned"}.get(chosen.get("detector"), chosen.get("detector"))
        return DocumentResult(pages=pages, source_type=kind, page_count=len(sizes), first_page=first_page,
                              dpi=[FAKE_DPI if kind == "pdf" else None] * len(pages),
                              model=ModelInfo(name="fake", version="0"), timings_ms={"total": 1.0})

    return run_document

