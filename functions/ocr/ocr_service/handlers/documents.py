"""Documents and output formats of an upload.

**Documents** (PDF, multi-page TIFF; ``.tif`` of one page stays an image): one of at most
``OCR_PAGES_PER_TASK`` pages is read in one invocation, its record is the ``DocumentResult``.
One of more than ``OCR_MAX_PAGES`` pages gets a ``too_many_pages`` error record. A longer one
is fanned out in page ranges (:mod:`ocr_service.handlers.page_ranges`).

**Output formats**: besides the JSON, the formats of ``OCR_OUTPUT_FORMATS`` and of the upload's
metadata ``ocr-formats`` (``text,pdf``...; an unknown name is an ``invalid_input`` error) are
written to ``<results-prefix><key>.<extension>`` (:func:`ocr_engine.formats.render`, with the
upload's bytes as the source), just before the JSON record; for a fanned-out document, once,
at assembly.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ocr_engine.errors import InvalidInput
from ocr_engine.schema import DocumentResult, OcrResult
from ocr_service.handlers import object_state as shared
from ocr_service.handlers.object_job import _Job
from ocr_service.keys import output_key, status_key
from ocr_service.observability import metrics
from ocr_service.settings import OUTPUT_FORMATS

# Upload metadata (x-amz-meta-ocr-formats): more output formats for that upload, e.g. "pdf,alto".
META_FORMATS = "ocr-formats"
# Uploads with these suffixes may be documents: read up to OCR_MAX_DOCUMENT_BYTES.
DOCUMENT_SUFFIXES = (".pdf", ".tif", ".tiff")


def _documents() -> ModuleType | None:
    """The engine's document support (PDF, multi-page TIFF), or ``None`` without it.

    Imported on first use (pdfium loads only in containers that see a document). An engine
    layer older than the function code has none: every upload is then read as an image.
    """
    try:
        from ocr_engine import document
    except ImportError:
        return None
    return document


def _document_limits() -> Any:
    docs = _documents()
    return None if docs is None else docs.DocumentLimits(max_pages=shared.SETTINGS.max_pages)


def _size_limit(key: str) -> int | None:
    """The byte limit of reading upload ``key``: a document's for the document suffixes."""
    if key.lower().endswith(DOCUMENT_SUFFIXES):
        return max(shared.SETTINGS.max_document_bytes, shared.SETTINGS.max_image_bytes)
    return None


def _document_pages(data: bytes) -> tuple[str | None, int]:
    """``(kind, pages)``: ``("pdf" | "tiff", n)`` for a document, ``(None, 1)`` for an image.

    A TIFF of one page is an image (its record stays an image's).

    Raises:
        TooManyPages: more pages than ``OCR_MAX_PAGES``.
        OcrError: a document that cannot be opened (encrypted, undecodable).
    """
    docs = _documents()
    if docs is None:
        return None, 1
    kind = docs.document_kind(data)
    if kind is None:
        return None, 1
    pages = int(docs.page_count(data, limits=_document_limits()))
    if pages > shared.SETTINGS.max_pages:
        raise docs.TooManyPages(f"the document has {pages} pages; at most {shared.SETTINGS.max_pages} are read")
    if kind == "tiff" and pages == 1:
        return None, 1
    return kind, pages


def _output_formats(metadata: dict[str, str]) -> list[str]:
    """The formats to write for an upload: ``OCR_OUTPUT_FORMATS`` plus its metadata ``ocr-formats``.

    Raises:
        InvalidInput: the metadata names a format that is not one of :data:`OUTPUT_FORMATS`.
    """
    names = list(shared.SETTINGS.output_formats)
    raw = metadata.get(META_FORMATS)
    if raw is not None:
        asked = [name.strip().lower() for name in raw.split(",") if name.strip()]
        unknown = [name for name in asked if name not in OUTPUT_FORMATS]
        if unknown:
            raise InvalidInput(
                f"metadata {META_FORMATS}: unknown format(s) {', '.join(unknown)}; known: {', '.join(OUTPUT_FORMATS)}"
            )
        names += asked
    return list(dict.fromkeys(names))


def _write_formats(job: _Job, result: OcrResult | DocumentResult, formats: list[str], source: bytes | None) -> str | None:
    """Write every format but JSON beside the record; ``"stale"`` if a newer upload replaced this one."""
    wanted = [name for name in formats if name != "json"]
    if not wanted:
        return None
    from ocr_engine import formats as renderers  # reportlab and pdfium: only where outputs are asked for

    if not shared.store.is_current(job.bucket, job.key, job.version.etag, job.version.version_id):
        return "stale"
    for name in wanted:
        spec = renderers.FORMATS[name]
        body = renderers.render(result, name, source=source)
        key = output_key(job.key, shared.SETTINGS.results_prefix, spec.extension)
        if key in (job.out_key, job.err_key, status_key(job.key, shared.SETTINGS.results_prefix)):
            key = output_key(job.key, shared.SETTINGS.results_prefix, f"{name}.{spec.extension}")
        shared.store.write_output(job.out_bucket, key, body, content_type=spec.media_type,
                                  source_etag=job.version.etag, source_version=job.version.version_id)
    metrics.add_metric(name="OutputsWritten", unit=MetricUnit.Count, value=len(wanted))
    return None

