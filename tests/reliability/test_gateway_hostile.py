"""The local gateway (infra/gateway.py) against hostile HTTP: framing, floods, slow and idle clients.

Each test talks raw HTTP/1.x over a socket to 127.0.0.1, so the bytes on the wire are exactly
the ones under test. Every socket has a timeout and every loop a bound in count and time.
The function behind the gateway is a stub that records the events it is given: what matters
here is what reaches it (and what never does), not OCR.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from infra.gateway import API_MAX_BODY, LocalGateway

ROUTES = [("POST", "/ocr"), ("GET", "/health")]
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


class Recorder:
    """The function: answers 200 with what it was given, and keeps every event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
        doc = {"path": event["rawPath"], "body": event.get("body"), "b64": event["isBase64Encoded"]}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(doc)}

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [e["rawPath"] for e in self.events]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@contextmanager
def _gateway(recorder: Recorder, **kw: Any) -> Iterator[int]:
    gw = LocalGateway(recorder, ROUTES, "127.0.0.1", 0, **kw).start()
    try:
        yield int(gw.url.rsplit(":", 1)[1].strip("/"))
    finally:
        gw.stop()


@pytest.fixture
def port(recorder: Recorder) -> Iterator[int]:
    with _gateway(recorder) as p:
        yield p


@pytest.fixture
def short_idle_port(recorder: Recorder) -> Iterator[int]:
    with _gateway(recorder, idle_timeout=1) as p:
        yield p


def _connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def _read_until_closed(sock: socket.socket, limit_s: float = 5.0) -> tuple[bytes, bool]:
    """Everything the server sends, and whether it closed the connection within ``limit_s``."""
    data = b""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def _responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Splits pipelined HTTP/1.x responses (each with a Content-Length) into (status, headers, body)."""
    out = []
    for _ in range(100):
        if not data:
            break
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {data[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        length = int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def _exchange(port: int, data: bytes, limit_s: float = 5.0) -> tuple[list[tuple[int, dict[str, str], bytes]], bool]:
    with _connect(port) as sock:
        sock.sendall(data)
        raw, closed = _read_until_closed(sock, limit_s)
    return _responses(raw), closed


def _assert_error_shape(body: bytes, status: int, code: str) -> None:
    doc = json.loads(body)
    assert doc["success"] is False and doc["error"]["code"] == code and doc["error"]["status"] == status, doc
    assert set(doc["error"]) == {"code", "message", "status"}


# ---------------------------------------------------------------- many clients at once


def test_200_concurrent_requests_are_all_answered_without_a_reset(port: int, recorder: Recorder) -> None:
    n = 200
    barrier = threading.Barrier(n, timeout=30)

    def client(i: int) -> str:
        try:
            barrier.wait()  # all connect at the same moment
            with _connect(port, timeout=30) as sock:
                sock.sendall(f"GET /health?i={i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                raw, closed = _read_until_closed(sock, 30)
            got = _responses(raw)
            return "ok" if closed and len(got) == 1 and got[0][0] == 200 else f"bad answer {raw[:80]!r}"
        except OSError as err:  # ConnectionResetError, refused, timeout...
            return f"{type(err).__name__}: {err}"

    started = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        results = [f.result(timeout=60) for f in [pool.submit(client, i) for i in range(n)]]
    failures = [r for r in results if r != "ok"]
    assert failures == [], f"{len(failures)} of {n} failed: {sorted(set(failures))[:5]}"
    assert len(recorder.paths) == n and time.monotonic() - started < 60


# ---------------------------------------------------------------- Content-Length


@pytest.mark.parametrize(
    "lengths",
    [["abc"], ["-1"], ["+5"], ["5abc"], ["0x10"], ["1e3"], [""], ["5", "5"], ["5", "6"], ["5, 5"]],
    ids=["word", "negative", "plus", "trailing-junk", "hex", "float", "empty", "duplicate", "conflicting", "list"],
)
def test_a_content_length_that_is_not_one_plain_number_is_a_400_before_any_body(
    port: int, recorder: Recorder, lengths: list[str]
) -> None:
    head = "POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
    head += "".join(f"Content-Length: {v}\r\n" for v in lengths) + "\r\n"
    with _connect(port) as sock:
        sock.sendall(head.encode())  # no body follows, and the socket stays open: nothing to wait for
        started = time.monotonic()
        raw, closed = _read_until_closed(sock, 5)
    got = _responses(raw)
    assert [g[0] for g in got] == [400] and closed, raw[:300]
    assert time.monotonic() - started < 3  # answered at once, not after a read to the end of the stream
    _assert_error_shape(got[0][2], 400, "bad_request")
    assert recorder.paths == []


def test_a_negative_content_length_never_reads_the_stream(port: int, recorder: Recorder) -> None:
    """The old gateway read to the end of the stream (hundreds of MB in memory) for ``-1``."""
    with _connect(port) as sock:
        sock.sendall(b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        sent = 0
        try:
            for _ in range(64):  # keeps streaming; the server must answer and close regardless
                sock.sendall(b"\0" * 16384)
                sent += 16384
        except OSError:
            pass  # the server has closed: what was wanted
        raw, _ = _read_until_closed(sock, 5)
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:200]
    assert recorder.paths == []


def test_a_body_over_the_10mb_http_api_limit_is_a_413_before_it_is_read(port: int, recorder: Recorder) -> None:
    head = f"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {API_MAX_BODY + 1}\r\n\r\n"
    with _connect(port) as sock:
        sock.sendall(head.encode())  # the body never comes: the answer must not wait for it
        raw, closed = _read_until_closed(sock, 5)
    got = _responses(raw)
    assert [g[0] for g in got] == [413] and closed
    _assert_error_shape(got[0][2], 413, "payload_too_large")
    assert json.loads(got[0][2])["error"]["message"] == "Request Entity Too Large"
    assert recorder.paths == []


def test_a_body_of_exactly_10mb_is_read_and_meets_the_6mb_lambda_limit_instead(port: int, recorder: Recorder) -> None:
    head = f"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {API_MAX_BODY}\r\n\r\n"
    follow_up = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    got, closed = _exchange(port, head.encode() + b"a" * API_MAX_BODY + follow_up, 10)
    assert [g[0] for g in got] == [413, 200] and closed  # read whole (the connection lives on), refused by the event size
    _assert_error_shape(got[0][2], 413, "payload_too_large")
    assert "6 MB Lambda payload limit" in json.loads(got[0][2])["error"]["message"]
    assert recorder.paths == ["/health"]


def test_a_chunked_body_over_the_10mb_limit_is_refused_and_never_reaches_the_function(
    port: int, recorder: Recorder
) -> None:
    chunk = b"\0" * (1024 * 1024)
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with _connect(port, timeout=10) as sock:
        sock.sendall(b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(12):  # 12 MB, never terminated
                sock.sendall(frame)
        except OSError:
            pass  # refused while sending
        raw, closed = _read_until_closed(sock, 10)
    assert closed
    if raw:  # the answer, unless the close overtook it
        got = _responses(raw)
        assert got[0][0] == 413
        _assert_error_shape(got[0][2], 413, "payload_too_large")
    assert recorder.paths == []


# ---------------------------------------------------------------- Transfer-Encoding


def test_a_chunked_body_is_decoded_and_never_served_as_a_second_request(port: int, recorder: Recorder) -> None:
    half = len(SMUGGLED) // 2
    body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, SMUGGLED[:half], len(SMUGGLED) - half, SMUGGLED[half:])
    request = b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    follow_up = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    got, closed = _exchange(port, request + follow_up)
    assert [g[0] for g in got] == [200, 200] and closed
    assert json.loads(got[0][2]) == {"path": "/ocr", "body": SMUGGLED.decode(), "b64": False}
    assert recorder.paths == ["/ocr", "/health"]  # the chunks were the body, not a request of their own


@pytest.mark.parametrize(
    ("head", "body", "status"),
    [
        # CL.TE: a Content-Length that ends the body early; the rest would be a request of its own
        ("POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         b"0\r\n\r\n" + SMUGGLED, 400),
        # HTTP/1.0 has no chunks: the body would otherwise be read as the next request
        ("POST /ocr HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
         b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED), 400),
        ("POST /ocr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", b"zz\r\n" + SMUGGLED, 400),
        ("POST /ocr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhelloXX" + SMUGGLED, 400),
        ("POST /ocr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
         b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED), 501),
        ("POST /ocr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", SMUGGLED, 501),
    ],
    ids=["cl-and-te", "te-on-http-1.0", "bad-chunk-size", "bad-chunk-end", "gzip", "chunked-not-last"],
)
def test_a_framing_that_could_smuggle_a_request_is_refused_and_the_connection_closed(
    port: int, recorder: Recorder, head: str, body: bytes, status: int
) -> None:
    got, closed = _exchange(port, head.encode() + body)
    assert [g[0] for g in got] == [status] and closed, got
    assert got[0][1]["connection"] == "close" and "keep-alive" not in got[0][1]["connection"].lower()
    _assert_error_shape(got[0][2], status, "bad_request" if status == 400 else "not_implemented")
    assert "/smuggled" not in recorder.paths and recorder.paths == []


# ---------------------------------------------------------------- idle and slow clients


def test_a_silent_connection_is_closed_after_the_idle_timeout(short_idle_port: int) -> None:
    with _connect(short_idle_port) as sock:
        started = time.monotonic()
        raw, closed = _read_until_closed(sock, 8)
    assert closed and raw == b""
    assert 0.5 <= time.monotonic() - started < 6


def test_a_kept_alive_connection_is_closed_once_it_has_been_idle(short_idle_port: int, recorder: Recorder) -> None:
    with _connect(short_idle_port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive (HTTP/1.1's default)
        started = time.monotonic()
        raw, closed = _read_until_closed(sock, 8)
    got = _responses(raw)
    assert [g[0] for g in got] == [200] and closed
    assert 0.5 <= time.monotonic() - started < 6
    assert recorder.paths == ["/health"]


def test_a_partial_request_is_dropped_once_the_client_goes_quiet(short_idle_port: int, recorder: Recorder) -> None:
    for partial in (b"POST /ocr HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"):
        with _connect(short_idle_port) as sock:
            sock.sendall(partial)
            started = time.monotonic()
            _, closed = _read_until_closed(sock, 8)
        assert closed and time.monotonic() - started < 6
    assert recorder.paths == []


def test_slow_loris_clients_do_not_hold_up_other_clients(port: int, recorder: Recorder) -> None:
    """More dribbling clients than worker threads; every normal request is still answered at once."""
    lorises: list[socket.socket] = []
    stop = threading.Event()
    try:
        for i in range(12):  # headers that never end, and bodies that never end
            sock = _connect(port)
            if i % 2:
                sock.sendall(b"POST /ocr HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
            else:
                sock.sendall(b"POST /ocr HTTP/1.1\r\nHost: x\r\n")
            lorises.append(sock)

        def dribble() -> None:
            for _ in range(100):  # at most ~10 s
                if stop.wait(0.1):
                    return
                for i, sock in enumerate(lorises):
                    try:
                        sock.sendall(b"a" if i % 2 else b"X-A: b\r\n")
                    except OSError:
                        pass

        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        for i in range(20):
            started = time.monotonic()
            got, closed = _exchange(port, f"GET /health?n={i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert [g[0] for g in got] == [200] and closed
            assert time.monotonic() - started < 2, f"request {i} waited {time.monotonic() - started:.1f} s"
        assert recorder.paths == ["/health"] * 20  # no slow request has reached the function
    finally:
        stop.set()
        for sock in lorises:
            sock.close()
