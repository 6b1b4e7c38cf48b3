"""HTTP API (API Gateway HTTP API, payload format 2.0).

Routes:

* ``POST /ocr`` – one image (raw body, multipart ``image`` field, or JSON base64);
* ``POST /ocr/batch`` – up to ``OCR_MAX_BATCH_IMAGES`` images, one result per image, in order;
* ``GET /health`` – liveness plus model information;
* ``GET /`` – the upload page.

Every error is JSON ``{"success": false, "error": {"code", "message", "status"}}``; a typed
:class:`~ocr_engine.errors.OcrError` gets its status from :mod:`ocr_service.status`, in
:func:`error_response` only. The template's ``$default`` route sends every other request
here too: an unknown path is a 404 ``not_found``, another method on a known path a 405
``method_not_allowed`` with an ``Allow`` header (:data:`ROUTE_METHODS`). The API is
described in ``openapi.yaml`` at the repo root.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ocr_engine.config import check_direction
from ocr_engine.errors import OcrError
from ocr_service import __version__
from ocr_service.handlers import runtime
from ocr_service.handlers.requests import Upload, uploads_from_event
from ocr_service.handlers.results import error_document, http_document, ocr_error_document, safe_text
from ocr_service.observability import logger, metrics, tracer
from ocr_service.settings import get_settings
from ocr_service.status import http_status

SETTINGS = get_settings()
app = APIGatewayHttpResolver()
INDEX_HTML = resources.files("ocr_service.web").joinpath("index.html").read_text(encoding="utf-8")
runtime.init_engine(logger)

JSON_TYPE = "application/json; charset=utf-8"


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
    return Response(
        status_code=status,
        content_type=JSON_TYPE,
        body=safe_text(json.dumps(body, ensure_ascii=False)),  # always encodable as UTF-8
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
def _ocr(upload: Upload, direction: str | None = None) -> dict[str, Any]:
    start = time.perf_counter()
    result = runtime.get_engine().run(upload.data, direction)
    elapsed_ms = (time.perf_counter() - start) * 1000
    body = http_document(result)
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=len(body["data"]))
    logger.info("image processed", extra={"bytes": len(upload.data), "lines": len(body["data"]), "latency_ms": round(elapsed_ms, 1)})
    body["latency_ms"] = round(elapsed_ms, 1)
    return body


def _direction() -> str | None:
    """The ``direction`` query parameter (``auto``, ``horizontal``, ``vertical``), if given.

    Raises:
        InvalidInput: Any other value.
    """
    raw = (app.current_event.query_string_parameters or {}).get("direction")
    return None if raw is None else check_direction(raw)


@_route("POST", "/ocr")
def ocr_one() -> Response:
    direction = _direction()
    uploads = uploads_from_event(
        app.current_event.raw_event,
        max_bytes=SETTINGS.max_request_bytes,
        max_images=1,
        batch=False,
    )
    return _json(200, _ocr(uploads[0], direction))


@_route("POST", "/ocr/batch")
def ocr_batch() -> Response:
    direction = _direction()
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
            item = _ocr(upload, direction)
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
