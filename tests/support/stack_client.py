"""Helpers for the end-to-end tests: plain HTTP requests (multipart bodies: infra.multipart)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def request(method: str, url: str, body: bytes | None = None, content_type: str | None = None, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request; returns (status, headers, body) for 2xx and 4xx/5xx alike."""
    headers = {"Content-Type": content_type} if content_type else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def request_json(method: str, url: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict[str, Any]]:
    status, headers, payload = request(method, url, body, content_type)
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    return status, json.loads(payload)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.3):
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)


def lines_of(result_dict: dict[str, Any]) -> list[tuple[str, float]]:
    """(text, confidence rounded) per line, for comparing two runs of the same model."""
    return [(line["text"], round(float(line["confidence"]), 3)) for line in result_dict.get("lines") or result_dict.get("data") or []]
