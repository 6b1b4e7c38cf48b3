"""A local stand-in for API Gateway HTTP API: real HTTP in, payload-format-2.0 events out.

Each request is turned into the event API Gateway would send to the function (lower-case
headers, ``rawPath``, ``routeKey``, ``requestContext.http``, base64-encoded non-text
bodies with ``isBase64Encoded``), the handler is called with a Lambda-like context, and
its response dict is written back. With ``default_route`` (the template's ``$default``
route) requests no declared route matches go to the function too, with ``routeKey``
``$default``, and the function answers 404 / 405 in its own error shape; without it they get
API Gateway's own ``{"message":"Not Found"}``. Events over Lambda's 6 MB synchronous payload
limit are refused with 413 before the function runs, as in AWS, and a function that raises
is a 500. Those two answers come from the gateway, not the function: AWS's body is
``{"message": ...}``; here it also carries the function's error shape
(``success``, ``error.code/message/status``) so clients see one shape locally.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
    ) -> None:
        self.handler = handler
        self.routes = {(m.upper(), p) for m, p in routes}
        self.default_route = default_route
        self.function_name = function_name
        self._server = ThreadingHTTPServer((host, port), self._request_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        # Lambda gives an execution environment one event at a time; the handler relies on
        # it (powertools' resolver keeps the current event in a class attribute), so
        # concurrent HTTP requests are handed over one by one, never interleaved.
        self._invoke_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> LocalGateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

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

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "local-gateway"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > API_MAX_BODY:
                    status, headers, payload = _error(413, "payload_too_large", "Request Entity Too Large")
                    self.close_connection = True
                else:
                    body = self.rfile.read(length) if length else b""
                    status, headers, payload = gateway.invoke(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

            def log_message(self, fmt: str, *args: Any) -> None:
                log.info("%s %s", self.address_string(), fmt % args)

        return Handler
