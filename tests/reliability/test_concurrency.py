"""Concurrent requests through the local gateway each get their own answer.

Lambda hands one event at a time to an execution environment; the local gateway serves
HTTP from several threads, and powertools' resolver keeps the current event in a class
attribute, so without serialisation one request could be answered with another's body.
"""

from __future__ import annotations

import base64
import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from support.hostile_corpus import CANARY


class SlowEngine:
    """Answers every image after a short pause (widens any race between requests)."""

    def model_info(self) -> dict[str, Any]:
        return {"name": "slow", "version": "0"}

    def run(self, data: bytes, direction: str | None = None) -> Any:
        from ocr_engine.schema import Line, ModelInfo, OcrResult

        time.sleep(0.005)
        return OcrResult(width=10, height=10, lines=[Line(f"{len(data)}", 0.9, [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0],
                                                                                 [0.0, 9.0]])],
                         model=ModelInfo("slow", "0"), timings_ms={"total": 5.0})


@pytest.fixture
def gateway() -> Any:
    from infra.gateway import LocalGateway
    from ocr_service.handlers import http_api, runtime

    previous = runtime._engine
    runtime.set_engine(SlowEngine())
    gw = LocalGateway(http_api.handler, [("POST", "/ocr"), ("POST", "/ocr/batch")], "127.0.0.1", 0).start()
    try:
        yield gw
    finally:
        gw.stop()
        runtime.set_engine(previous)


def test_concurrent_requests_are_never_answered_with_another_requests_body(gateway: Any) -> None:
    port = int(gateway.url.rsplit(":", 1)[1].strip("/"))
    image = base64.b64encode(CANARY()).decode()
    wrong: list[str] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for i in range(25):
                n = 1 + (worker + i) % 5  # each request has its own number of images
                body = json.dumps({"images": [{"name": f"w{worker}-{i}-{k}", "image": image} for k in range(n)]})
                conn.request("POST", "/ocr/batch", body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                doc = json.loads(resp.read())
                names = [item.get("name") for item in doc.get("results", [])]
                if resp.status != 200 or names != [f"w{worker}-{i}-{k}" for k in range(n)]:
                    with lock:
                        wrong.append(f"worker {worker} request {i}: {resp.status} {names[:3]}")
        finally:
            conn.close()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up at once
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(client, range(8)))
    finally:
        sys.setswitchinterval(interval)
    assert wrong == [], f"{len(wrong)} of 200 requests answered with another body: {wrong[:3]}"
