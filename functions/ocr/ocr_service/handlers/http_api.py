"""HTTP API (API Gateway HTTP API, payload format 2.0).

Routes:

* ``POST /ocr`` – one image or one document (PDF, multi-page TIFF): raw body, multipart
  ``image`` field, or JSON base64; the query chooses the answer (see below);
* ``POST /ocr/batch`` – up to ``OCR_MAX_BATCH_IMAGES`` images, one result per image, in order;
* ``GET /health`` – liveness plus model information;
* ``GET /`` – the upload page.

``POST /ocr`` query parameters, each optional and checked before the body is read:

* ``direction`` – ``auto``, ``horizontal`` or ``vertical`` (both routes);
* ``detector`` – ``opencv`` (the OpenCV line finder), ``learned`` (the DB text detector) or
  ``auto`` (chosen per image) (both routes; default: the configured ``OCR_DETECTOR``); one the
  engine lacks (no learned model) is a 400 like an unknown one. The result's ``meta.detector``
  says which finder found the lines;
* ``format`` – ``json`` (the default: the JSON envelope), ``text``, ``hocr``, ``alto``,
  ``pdf`` or ``textract``: the body is :func:`ocr_engine.formats.render` of the result,
  with its media type (binary answers are base64-encoded for API Gateway);
* ``pages`` – documents only: ``3`` or ``2-5`` or ``4-`` (1-based, inclusive); at most
  ``OCR_MAX_HTTP_PAGES`` pages are read per request (more: 413 ``too_many_pages``);
* ``previews`` – ``1``: each page of a document answered as JSON carries a small JPEG of
  the page (a ``data:`` URL) for the upload page to draw its boxes on.

Whether the upload is a document is decided by its bytes (:func:`ocr_engine.document.document_kind`),
never by the declared type alone. The batch route reads images only: a PDF item fails alone
(``unsupported_image_type``), a multi-page TIFF item is read from its first page.

Every error is JSON ``{"success": false, "error": {"code", "message", "status"}}`` whatever
the ``format``; a typed :class:`~ocr_engine.errors.OcrError` gets its status from
:mod:`ocr_service.status`, in :func:`error_response` only. The template's ``$default`` route
sends every other request here too: an unknown path is a 404 ``not_found``, another method
on a known path a 405 ``method_not_allowed`` with an ``Allow`` header (:data:`ROUTE_METHODS`).
The API is described in ``openapi.yaml`` at the repo root.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ocr_engine.config import check_direction
from ocr_engine.document import DocumentLimits, document_kind
from ocr_engine.errors import ImageTooLarge, InvalidInput, OcrError, TooManyPages, UnsupportedImageType
from ocr_engine.formats import FORMATS, render
from ocr_engine.schema import DocumentResult, OcrResult
from ocr_service import __version__
from ocr_service.handlers import previews, runtime
from ocr_service.handlers.requests import Upload, uploads_from_event
from ocr_service.handlers.results import (
    error_document,
    http_document,
    http_document_result,
    ocr_error_document,
    safe_text,
)
from ocr_service.observability import logger, metrics, tracer
from ocr_service.settings import OUTPUT_FORMATS, get_settings
from ocr_service.status import http_status

SETTINGS = get_settings()
app = APIGatewayHttpResolver()
INDEX_HTML = resources.files("ocr_service.web").joinpath("index.html").read_text(encoding="utf-8")
runtime.init_engine(logger)

JSON_TYPE = "application/json; charset=utf-8"
# Lambda's synchronous response payload limit (the whole response object, base64 body
# included); an answer that would not fit is refused with 413 result_too_large instead.
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
RESPONSE_MARGIN = 16 * 1024  # status, headers and the JSON around the body
# The answers a rendered format is served with: no script, no plugin, nothing fetched.
RENDERED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class ResultTooLarge(ImageTooLarge):
    """The answer would not fit in Lambda's response payload (6 MB, base64 included)."""

    code = "result_too_large"


def _inline_hashes(tag: str, html: str) -> str:
    """CSP sources for the page's inline ``<tag>`` elements: ``'sha256-…'`` of each one's text.

    Computed from the HTML actually served, so the hashes always match it; no inline element
    (or an edited one) runs or applies unless listed. ``'none'`` when the page has none.
    """
    import base64
    import hashlib
    import re

    bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") for body in bodies)
    return " ".join(f"'sha256-{d}'" for d in digests) or "'none'"


# No 'unsafe-inline': the inline script and style run only because their hashes are listed.
# The script's element.style assignments (CSSOM) are not inline styles, so the style hash suffices.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {_inline_hashes('script', INDEX_HTML)}; "
        f"style-src {_inline_hashes('style', INDEX_HTML)}; "
        "img-src blob: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


# path -> the methods it is served with, filled in by :func:`_route` (405 answers list them).
ROUTE_METHODS: dict[str, tuple[str, ...]] = {}


def _route(method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.route`` that also records the route in :data:`ROUTE_METHODS`."""
    ROUTE_METHODS[path] = (*ROUTE_METHODS.get(path, ()), method)
    return app.route(path, method)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body.setdefault("request_id", _request_id())
    text = safe_text(json.dumps(body, ensure_ascii=False))  # always encodable as UTF-8
    if status < 400 and len(text.encode("utf-8")) > LAMBDA_RESPONSE_LIMIT - RESPONSE_MARGIN:
        raise ResultTooLarge(
            f"the answer would be {len(text.encode('utf-8'))} bytes, over Lambda's 6 MB response limit; "
            "ask for fewer pages (pages=), no previews, or upload the document to the bucket"
        )
    return Response(
        status_code=status,
        content_type=JSON_TYPE,
        body=text,
        headers={"X-Content-Type-Options": "nosniff", **(headers or {})},
    )


def _request_id() -> str | None:
    try:
        return app.current_event.request_context.request_id
    except Exception:  # noqa: BLE001 - outside a request
        return None


def error_response(err: OcrError) -> Response:
    """The one place where typed errors become HTTP responses."""
    metrics.add_metric(name="RequestErrors", unit=MetricUnit.Count, value=1)
    return _json(http_status(err), ocr_error_document(err))


@app.exception_handler(OcrError)
def _handle_ocr_error(err: OcrError) -> Response:
    if http_status(err) >= 500:
        logger.exception("server-side OCR error", extra={"error": err.code})
    else:
        logger.info("request refused", extra={"error": err.code, "detail": err.message})
    return error_response(err)


@app.exception_handler(Exception)
def _handle_unexpected(err: Exception) -> Response:
    logger.exception("unexpected error")
    metrics.add_metric(name="RequestErrors", unit=MetricUnit.Count, value=1)
    return _json(500, error_document("internal_error", "internal server error", 500))


@app.not_found
def _not_found(_: Exception) -> Response:
    """No route matched: 405 (with ``Allow``) for a known path, else 404; both the error shape."""
    event = app.current_event
    method, path = event.request_context.http.method, event.raw_path
    allowed = ROUTE_METHODS.get(path)
    if allowed and method not in allowed:
        allow = ", ".join(allowed)
        message = f"{method} is not allowed on {path}; allowed: {allow}"
        return _json(405, error_document("method_not_allowed", message, 405), {"Allow": allow})
    return _json(404, error_document("not_found", f"no route for {method} {path}", 404))


@tracer.capture_method(capture_response=False)
def _read_image(upload: Upload, direction: str | None, detector: str | None = None) -> tuple[OcrResult, float]:
    """OCR one image: the result and the milliseconds it took (metrics and log recorded)."""
    start = time.perf_counter()
    result = runtime.get_engine().run(upload.data, direction, **runtime.chosen_detector(detector))
    elapsed_ms = round((time.perf_counter() - start) * 1000, 1)
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=len(result.lines))
    logger.info("image processed", extra={"bytes": len(upload.data), "lines": len(result.lines),
                                           "detector": result.detector, "latency_ms": elapsed_ms})
    return result, elapsed_ms


def _ocr(upload: Upload, direction: str | None = None, detector: str | None = None) -> dict[str, Any]:
    """The JSON answer (:func:`~ocr_service.handlers.results.http_document`) of one image."""
    result, elapsed_ms = _read_image(upload, direction, detector)
    body = http_document(result)
    body["latency_ms"] = elapsed_ms
    return body


@tracer.capture_method(capture_response=False)
def _read_document(upload: Upload, direction: str | None, pages: tuple[int, int | None] | None,
                   detector: str | None = None) -> tuple[DocumentResult, float]:
    """OCR the pages of a document, at most ``SETTINGS.max_http_pages`` of them.

    Raises:
        TooManyPages: More pages to read than the HTTP limit; the message says the limit, how
            to ask for a range and that the bucket takes larger documents.
    """
    first, last = pages or (1, None)
    limit = SETTINGS.max_http_pages
    start = time.perf_counter()
    try:
        document = runtime.get_engine().run_document(
            upload.data, direction=direction, first_page=first, last_page=last, limits=_document_limits(),
            **runtime.chosen_detector(detector),
        )
    except TooManyPages as err:
        raise TooManyPages(
            f"{err.message.rstrip('.')}. Over HTTP at most {limit} page(s) are read per request: ask for a "
            f"range (pages=1-{limit}), or upload the document to the bucket (under {SETTINGS.uploads_prefix or '/'}), "
            f"which reads documents of up to {SETTINGS.max_pages} pages"
        ) from err
    elapsed_ms = round((time.perf_counter() - start) * 1000, 1)
    lines = sum(len(page.lines) for page in document.pages)
    metrics.add_metric(name="DocumentsProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PagesProcessed", unit=MetricUnit.Count, value=len(document.pages))
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=lines)
    logger.info("document processed", extra={"bytes": len(upload.data), "source_type": document.source_type,
                                              "pages": len(document.pages), "page_count": document.page_count,
                                              "lines": lines, "latency_ms": elapsed_ms})
    return document, elapsed_ms


def _document_limits() -> DocumentLimits:
    """The limits of a document read over HTTP: the engine's, with ``OCR_MAX_HTTP_PAGES`` pages."""
    return DocumentLimits(max_pages=SETTINGS.max_http_pages)


def _query() -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _direction() -> str | None:
    """The ``direction`` query parameter (``auto``, ``horizontal``, ``vertical``), if given.

    Raises:
        InvalidInput: Any other value.
    """
    raw = _query().get("direction")
    return None if raw is None else check_direction(raw)


def _detector() -> str | None:
    """The ``detector`` query parameter (``opencv``, ``learned``, ``auto``), if given.

    Raises:
        InvalidInput: Any other value, or a detector the engine lacks.
    """
    raw = _query().get("detector")
    return None if raw is None else runtime.check_request_detector(raw)


def _format() -> str:
    """The ``format`` query parameter, lower-cased; ``json`` when absent.

    Raises:
        InvalidInput: A format that is not one of :data:`~ocr_service.settings.OUTPUT_FORMATS`.
    """
    raw = _query().get("format")
    if raw is None or not raw.strip():
        return "json"
    name = raw.strip().lower()
    if name not in OUTPUT_FORMATS:
        raise InvalidInput(f"unknown format {raw[:40]!r}; the formats are {', '.join(OUTPUT_FORMATS)}")
    return name


_PAGES = re.compile(r"[ \t]*([0-9]{1,6})[ \t]*(?:(-)[ \t]*([0-9]{1,6})?[ \t]*)?")


def _pages() -> tuple[int, int | None] | None:
    """The ``pages`` query parameter: ``(first, last)``, 1-based and inclusive (``last`` ``None``:
    to the end); ``None`` when absent.

    Raises:
        InvalidInput: Not ``N``, ``N-M`` or ``N-``, a page 0, or a range that ends before it starts.
    """
    raw = _query().get("pages")
    if raw is None or not raw.strip():
        return None
    match = _PAGES.fullmatch(raw)
    if match is None:
        raise InvalidInput(f"pages must be N, N-M or N- (1-based page numbers), got {raw[:40]!r}")
    first = int(match.group(1))
    last = first if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
    if first < 1 or (last is not None and last < first):
        raise InvalidInput(f"pages {raw[:40]!r} is not a range of pages (they start at 1; N-M needs M >= N)")
    return first, last


def _flag(name: str) -> bool:
    """A yes/no query parameter: ``1``, ``true``, ``yes`` or ``on`` is yes."""
    return (_query().get(name) or "").strip().lower() in ("1", "true", "yes", "on")


def _download_name(upload: Upload, extension: str) -> str | None:
    """``<the upload's name, its extension replaced>.<extension>``; ``None`` without a client name."""
    if not upload.filename:
        return None
    stem = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    if "." in stem.strip("."):
        stem = stem.rsplit(".", 1)[0]
    return f"{stem.strip() or 'result'}.{extension}"


def _content_disposition(kind: str, filename: str) -> str:
    """``attachment; filename="..."`` with an ASCII fallback, and ``filename*`` (RFC 6266) if needed."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%;' else "_" for c in filename)
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _rendered(result: OcrResult | DocumentResult, fmt: str, upload: Upload) -> Response:
    """The answer in ``fmt`` (not ``json``): the rendered bytes with the format's media type.

    Text formats are answered as text, binary ones (``pdf``) as bytes, which the resolver sends
    base64-encoded with ``isBase64Encoded: true`` (API Gateway decodes them for the client).
    A PDF is always an attachment (``<upload name>.pdf``, ``result.pdf`` without a name); the
    other formats carry the upload's name, when it had one, inline.
    """
    spec = FORMATS[fmt]
    payload = render(result, fmt, source=upload.data)
    media_type = spec.media_type
    textual = media_type.startswith("text/") or media_type.split(";")[0].endswith(("json", "xml"))
    if textual and "charset" not in media_type:
        media_type += "; charset=utf-8"
    encoded = len(payload) if textual else (len(payload) + 2) // 3 * 4
    if encoded > LAMBDA_RESPONSE_LIMIT - RESPONSE_MARGIN:
        raise ResultTooLarge(
            f"the {fmt} answer would be {encoded} bytes, over Lambda's 6 MB response limit; ask for "
            "fewer pages (pages=) or upload the document to the bucket"
        )
    headers = dict(RENDERED_HEADERS)
    name = _download_name(upload, spec.extension)
    if fmt == "pdf":
        headers["Content-Disposition"] = _content_disposition("attachment", name or f"result.{spec.extension}")
    elif name:
        headers["Content-Disposition"] = _content_disposition("inline", name)
    body: str | bytes = payload.decode("utf-8", "replace") if textual else payload
    return Response(status_code=200, content_type=media_type, body=body, headers=headers)


@_route("POST", "/ocr")
def ocr_one() -> Response:
    direction, detector, fmt = _direction(), _detector(), _format()
    pages, with_previews = _pages(), _flag("previews")
    upload = uploads_from_event(
        app.current_event.raw_event,
        max_bytes=SETTINGS.max_request_bytes,
        max_images=1,
        batch=False,
    )[0]
    if document_kind(upload.data) is None:
        if pages is not None and pages[0] > 1:
            raise InvalidInput(f"pages={pages[0]}-: the upload is an image, which has one page")
        result, elapsed_ms = _read_image(upload, direction, detector)
        if fmt != "json":
            return _rendered(result, fmt, upload)
        body = http_document(result)
        body["latency_ms"] = elapsed_ms
        return _json(200, body)
    document, elapsed_ms = _read_document(upload, direction, pages, detector)
    if fmt != "json":
        return _rendered(document, fmt, upload)
    body = http_document_result(document)
    if with_previews:
        shown = previews.page_previews(upload.data, document, _document_limits())
        for item, preview in zip(body["pages"], shown, strict=True):
            item["preview"] = preview
    body["latency_ms"] = elapsed_ms
    return _json(200, body)


@_route("POST", "/ocr/batch")
def ocr_batch() -> Response:
    direction, detector = _direction(), _detector()
    if _format() != "json":
        raise InvalidInput("format= applies to POST /ocr; a batch is answered as JSON")
    uploads = uploads_from_event(
        app.current_event.raw_event,
        max_bytes=SETTINGS.max_request_bytes,
        max_images=SETTINGS.max_batch_images,
        batch=True,
    )
    items: list[dict[str, Any]] = []
    for index, upload in enumerate(uploads):
        try:
            if upload.error is not None:
                raise upload.error
            if document_kind(upload.data) == "pdf":
                raise UnsupportedImageType(
                    "a PDF is a document: send it alone to POST /ocr (up to "
                    f"{SETTINGS.max_http_pages} pages), or upload it to the bucket; a batch reads images"
                )
            item = _ocr(upload, direction, detector)
        except OcrError as err:
            metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
            item = ocr_error_document(err)
        items.append({"index": index, "name": upload.name, **item})
    failed = sum(1 for item in items if not item["success"])
    return _json(200, {"success": True, "count": len(items), "failed": failed, "results": items})


@_route("GET", "/health")
def health() -> Response:
    body: dict[str, Any] = {"success": True, "status": "ok", "version": __version__}
    try:
        runtime.get_engine()
        body.update(runtime.engine_info())
    except Exception as err:  # noqa: BLE001 - health reports, it does not raise
        logger.exception("engine unavailable")
        return _json(503, {"success": False, "status": "unavailable", "error": {"code": "model_unavailable", "message": str(err), "status": 503}})
    return _json(200, body)


@_route("GET", "/")
def index() -> Response:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=INDEX_HTML, headers=PAGE_HEADERS)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point for the HTTP API."""
    return app.resolve(event, context)
