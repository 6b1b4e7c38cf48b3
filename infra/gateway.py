"""A local stand-in for API Gateway HTTP API: real HTTP in, payload-format-2.0 events out.

Each request is turned into the event API Gateway would send to the function (lower-case
headers, ``rawPath``, ``routeKey``, ``requestContext.http``, base64-encoded non-text
bodies with ``isBase64Encoded``), the handler is called with a Lambda-like context, and
its response dict is written back. With ``default_route`` (the template's ``$default``
route) requests no declared route matches go to the function too, with ``routeKey``
``$default``, and the function answers 404 / 405 in its own error shape; without it they get
API Gateway's own ``{"message":"Not Found"}``. Events over Lambda's 6 MB synchronous payload
limit are refused with 413 before the function runs, as in AWS; a function that raises, or
whose response is over that limit (a big binary body counts base64-encoded), is a 500.
Those answers come from the gateway, not the function: AWS's body is
``{"message": ...}``; here it also carries the function's error shape
(``success``, ``error.code/message/status``) so clients see one shape locally. A response
with ``isBase64Encoded`` (a PDF, say) is decoded and sent as bytes, as API Gateway does.

HTTP itself is served by waitress, not by hand-written framing: strict HTTP/1.1 parsing
(a Content-Length that is not one plain number, negative or repeated, is a 400 before any
body byte is read), chunked request bodies decoded (a request that declares both
Content-Length and chunked, or chunks over HTTP/1.0, is a 400: never a second request made of
its body), bodies over HTTP API's 10 MB refused with 413 as soon as the headers say so (or
as soon as a chunked body passes it), a listen backlog that takes hundreds of simultaneous
connections, idle connections closed after ``idle_timeout`` seconds, and an asynchronous
reader, so a client that sends slowly holds no worker thread. The errors the server itself
answers (400, 413, 431, 501) carry the same JSON error shape.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from infra.lambda_context import LambdaContext

LAMBDA_SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # bytes of the invocation event
API_MAX_BODY = 10 * 1024 * 1024  # HTTP API's own request limit
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)

log = logging.getLogger("infra.gateway")


def _is_text(content_type: str) -> bool:
    ct = content_type.split(";", 1)[0].strip().lower()
    return ct.startswith(TEXT_TYPES) or ct.endswith("+json") or ct.endswith("+xml")


def build_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    route_key: str,
    source_ip: str = "127.0.0.1",
    host: str = "localhost",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for one request."""
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[lname] = f"{merged[lname]},{value}" if lname in merged else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = datetime.now(UTC)
    request_id = uuid.uuid4().hex[:16]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        content_type = merged.get("content-type", "")
        if _is_text(content_type):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"success": False, "message": message, "error": {"code": code, "message": message, "status": status}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


BACKLOG = 1024  # listen(2) backlog: hundreds of simultaneous connects queue instead of being reset
CONNECTION_LIMIT = 512  # open connections served at once; more wait in the backlog
IDLE_TIMEOUT = 60  # seconds a connection may stay silent (no request in progress) before it is closed
_LOOP_TIMEOUT = 1.0  # seconds between the I/O loop's checks of the stop flag and idle connections
# Response headers the server frames itself (hop-by-hop headers; WSGI forbids an application to set them).
_FRAMING_HEADERS = frozenset(
    ("connection", "content-length", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "trailers", "transfer-encoding", "upgrade")
)
_SERVER_ERROR_CODES = {
    400: "bad_request",
    411: "length_required",
    413: "payload_too_large",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}


class _StrictParser(HTTPRequestParser):
    """waitress's request parser, minus the two framings that could smuggle a second request."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding: chunked in one request")
        if "TRANSFER_ENCODING" in self.headers:  # waitress takes it off HTTP/1.1 requests only
            raise ParsingError("Transfer-Encoding on an HTTP/1.0 request")


class _JsonErrorTask(ErrorTask):
    """The errors the server answers itself (bad framing, oversized body...) in the gateway's error shape."""

    def execute(self) -> None:
        err = self.request.error
        message = err.reason if err.code == 413 else f"{err.reason}: {err.body}"
        status, headers, body = _error(err.code, _SERVER_ERROR_CODES.get(err.code, "bad_request"), message)
        self.status = f"{status} {err.reason}"
        self.response_headers.extend(headers.items())
        # The connection ends after this answer; without this waitress would still promise an
        # HTTP/1.0 keep-alive client "Connection: Keep-Alive" next to "Connection: close".
        self.request.headers["CONNECTION"] = "close"
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    parser_class = _StrictParser
    error_task_class = _JsonErrorTask


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def server_close(self) -> None:
        """Closes the listening socket and every connection, and ends the worker threads."""
        wasyncore.close_all(self._map)
        self.task_dispatcher.shutdown(timeout=5)


def _request_headers(environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The request's headers back from a WSGI environ (repeated headers come joined with ``", "``)."""
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            yield key[5:].replace("_", "-").lower(), value
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            yield key.replace("_", "-").lower(), value


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class LocalGateway:
    """Serves ``handler`` (an HTTP API Lambda handler) on ``http://host:port``.

    Args:
        handler: ``handler(event, context) -> response`` (payload format 2.0).
        routes: ``(METHOD, path)`` pairs declared for the API.
        host: Interface to bind (127.0.0.1 by default: never exposed).
        port: 0 picks a free port.
        default_route: The API has a ``$default`` route to the function: requests matching
            none of ``routes`` are handed to it (``routeKey`` ``$default``) instead of
            getting API Gateway's 404.
        idle_timeout: Seconds (whole, at least 1) after which a connection with no request in
            progress and no traffic is closed.
        threads: Worker threads answering complete requests (the function itself still runs
            one event at a time); reading and writing sockets never takes one.
    """

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        routes: Iterable[tuple[str, str]],
        host: str = "127.0.0.1",
        port: int = 0,
        function_name: str = "HttpOcrFunction",
        *,
        default_route: bool = False,
        idle_timeout: int = IDLE_TIMEOUT,
        threads: int = 4,
    ) -> None:
        self.handler = handler
        self.routes = {(m.upper(), p) for m, p in routes}
        self.default_route = default_route
        self.function_name = function_name
        idle_timeout = max(1, int(idle_timeout))
        adjustments = Adjustments(
            host=host,
            port=port,
            ident="local-gateway",
            backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=idle_timeout,
            cleanup_interval=max(1, min(30, idle_timeout // 2)),
            # waitress refuses a body of max_request_body_size bytes or more: API_MAX_BODY itself passes.
            max_request_body_size=API_MAX_BODY + 1,
            clear_untrusted_proxy_headers=False,  # X-Forwarded-* reach the function as sent
            expose_tracebacks=False,
            asyncore_use_poll=True,
        )
        self._threads = max(1, threads)
        self._map: dict[int, Any] = {}
        self._stopping = threading.Event()
        # Worker threads start with start(): a gateway only used through invoke() runs none.
        self._server = _Server(self._wsgi, map=self._map, dispatcher=ThreadedTaskDispatcher(), adj=adjustments)
        self._thread: threading.Thread | None = None
        # Lambda gives an execution environment one event at a time; the handler relies on
        # it (powertools' resolver keeps the current event in a class attribute), so
        # concurrent HTTP requests are handed over one by one, never interleaved.
        self._invoke_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self._server.effective_port}/"

    def start(self) -> LocalGateway:
        if self._thread is None:
            self._server.task_dispatcher.set_thread_count(self._threads)
            self._stopping.clear()
            self._thread = threading.Thread(target=self._serve_forever, name="local-gateway", daemon=True)
            self._thread.start()
        return self

    def _serve_forever(self) -> None:
        while not self._stopping.is_set():
            wasyncore.loop(timeout=_LOOP_TIMEOUT, map=self._map, use_poll=True, count=1)

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._server.trigger.pull_trigger()  # wakes the loop at once
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # waitress has checked the framing: CONTENT_LENGTH is one plain number (a chunked body's
        # decoded length) within max_request_body_size, and the body is all there.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        status, headers, payload = self.invoke(
            environ["REQUEST_METHOD"], target, list(_request_headers(environ)), body, environ.get("REMOTE_ADDR", "")
        )
        out = [(name, value) for name, value in headers.items() if name.lower() not in _FRAMING_HEADERS]
        out.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {_reason(status)}", out)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [payload]

    def invoke(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path or "/"
        if (method, path) in self.routes:
            route_key = f"{method} {path}"
        elif self.default_route:
            route_key = "$default"
        else:
            return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
        if len(body) > API_MAX_BODY:
            return _error(413, "payload_too_large", "Request Entity Too Large")
        host = next((v for k, v in headers if k.lower() == "host"), "localhost")
        event = build_event(method, target, headers, body, route_key=route_key, source_ip=client_ip, host=host)
        if len(json.dumps(event)) > LAMBDA_SYNC_PAYLOAD_LIMIT:
            return _error(413, "payload_too_large", "Request Entity Too Large: the request exceeds the 6 MB Lambda payload limit")
        try:
            with self._invoke_lock:
                response = self.handler(event, LambdaContext(self.function_name))
        except Exception:  # noqa: BLE001 - what API Gateway answers when the function fails
            log.exception("function error")
            return _error(500, "internal_error", "Internal Server Error")
        if len(json.dumps(response, ensure_ascii=False).encode("utf-8", "surrogatepass")) > LAMBDA_SYNC_PAYLOAD_LIMIT:  # Lambda refuses it
            log.error("function response over the 6 MB Lambda payload limit")
            return _error(500, "internal_error", "Internal Server Error: the response exceeds the 6 MB Lambda payload limit")
        status = int(response.get("statusCode", 200))
        out_headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[name] = ",".join(str(v) for v in values)
        raw = response.get("body") or ""
        payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        cookies = response.get("cookies") or []
        if cookies:
            out_headers["Set-Cookie"] = cookies[0]
        return status, out_headers, payload
