"""Soak test of the local stack: the HTTP API under concurrent load, then bulk S3 uploads.

``python -m infra.soak`` starts the local stack (moto server, queue worker, HTTP gateway,
all on 127.0.0.1), then:

1. sends ``--requests`` HTTP requests (default 2,000) from ``--concurrency`` clients
   (default 8), a fixed mix of valid images (raw, JSON base64, multipart, batches) and
   invalid ones (truncated, not an image, bomb, broken JSON, 17-image batch...), checking
   every answer against the status it must get;
2. uploads ``--uploads`` objects (default 500, 10 % of them corrupt) with odd key names
   (spaces, ``+``, ``%``, Chinese, emoji) and waits until each has its result or error record;
3. samples the process's resident memory every 0.25 s throughout.

It prints the figures (requests, errors, latency percentiles, peak RSS, memory growth,
uploads lost) and one ``SOAK {json}`` line, and exits non-zero if a valid request got a
5xx, any answer was unexpected, an upload was lost, a dead letter appeared, the function
triggered on its own output, or memory grew by more than ``--max-growth-mb`` in the second
half of the HTTP run. Everything is bounded by ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import cv2
import numpy as np

from infra.multipart import encode as encode_multipart
from infra.procmem import peak_rss_mb, rss_mb


# ---------------------------------------------------------------- payloads
def _page(width: int, height: int, lines: int, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    img = np.full((height, width, 3), 255, np.uint8)
    for i in range(lines):
        y = int((i + 1) * height / (lines + 1)) + 8
        words = " ".join(rng.choice(["OCR", "invoice", "2024", "total", "12.50", "Hello", "world", "No."])
                         for _ in range(rng.randint(2, 5)))
        cv2.putText(img, words, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    return img


def _enc(ext: str, img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


@dataclass(frozen=True)
class Request:
    kind: str
    valid: bool
    method: str
    path: str
    content_type: str | None
    body: bytes
    status: int  # the status it must get
    code: str | None = None  # the error code it must get


def request_mix() -> list[Request]:
    """The fixed mix of requests, cycled through by the clients (about 60 % valid)."""
    small = _enc(".png", _page(480, 120, 2, 1))
    medium = _enc(".jpg", _page(900, 400, 6, 2))
    wide = _enc(".png", _page(1600, 60, 1, 3))
    b64 = base64.b64encode(small).decode()
    mp_type, mp_body = encode_multipart([("image", "页 1.png", small)])
    bt_type, bt_body = encode_multipart([("image", "a.png", small), ("image", "b.jpg", medium)])
    js = "application/json"
    bomb = bytearray(small)
    bomb[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width/height
    return [
        Request("raw_png", True, "POST", "/ocr", "image/png", small, 200),
        Request("raw_jpeg", True, "POST", "/ocr", "image/jpeg", medium, 200),
        Request("raw_wide_line", True, "POST", "/ocr", "application/octet-stream", wide, 200),
        Request("json_base64", True, "POST", "/ocr", js, json.dumps({"image": b64}).encode(), 200),
        Request("multipart", True, "POST", "/ocr", mp_type, mp_body, 200),
        Request("batch_multipart_2", True, "POST", "/ocr/batch", bt_type, bt_body, 200),
        Request("batch_json_3", True, "POST", "/ocr/batch", js, json.dumps({"images": [b64] * 3}).encode(), 200),
        Request("health", True, "GET", "/health", None, b"", 200),
        Request("raw_png_2", True, "POST", "/ocr", "image/png", small, 200),
        Request("raw_jpeg_2", True, "POST", "/ocr", "image/jpeg", medium, 200),
        Request("truncated_png", False, "POST", "/ocr", "image/png", small[: len(small) // 2], 422, "undecodable_image"),
        Request("text_as_jpeg", False, "POST", "/ocr", "image/jpeg", b"hello, not an image" * 10, 415,
                "unsupported_image_type"),
        Request("png_bomb", False, "POST", "/ocr", "image/png", bytes(bomb), 413, "image_too_large"),
        Request("tiny_1x1", False, "POST", "/ocr", "image/png", _enc(".png", np.zeros((1, 1), np.uint8)), 422,
                "image_too_small"),
        Request("broken_base64", False, "POST", "/ocr", js, b'{"image": "@@@"}', 400, "invalid_input"),
        Request("batch_17", False, "POST", "/ocr/batch", js, json.dumps({"images": [b64] * 17}).encode(), 400,
                "too_many_images"),
        Request("empty_body", False, "POST", "/ocr", "image/png", b"", 400, "empty_image"),
    ]


# ---------------------------------------------------------------- measurement
class MemorySampler:
    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.samples: list[tuple[float, float, str]] = []
        self.phase = "start"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), rss_mb(), self.phase))
            self._stop.wait(self.every)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def of(self, phase: str) -> list[float]:
        return [r for _, r, p in self.samples if p == phase]


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000, 1)

    return {"p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(ordered[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1)}


@dataclass
class HttpStats:
    sent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    server_errors_valid: int = 0
    server_errors: int = 0
    latencies_valid: list[float] = field(default_factory=list)
    latencies_invalid: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def _check(req: Request, status: int, payload: bytes) -> str | None:
    """None if the answer is the documented one, else what was wrong."""
    if status != req.status:
        return f"{req.kind}: status {status}, expected {req.status}: {payload[:200]!r}"
    try:
        doc = json.loads(payload)
    except ValueError:
        return f"{req.kind}: body is not JSON"
    if req.status == 200:
        if doc.get("success") is not True:
            return f"{req.kind}: success is not true"
        if req.path == "/ocr/batch" and doc.get("failed") != 0:
            return f"{req.kind}: {doc.get('failed')} batch items failed"
        return None
    error = doc.get("error") or {}
    if doc.get("success") is not False or error.get("code") != req.code or error.get("status") != status:
        return f"{req.kind}: error body {doc!r:.200}"
    return None


def run_http(base_url: str, total: int, concurrency: int, deadline: float, sampler: MemorySampler,
             seed: int = 7) -> HttpStats:
    mix = request_mix()
    rng = random.Random(seed)
    order = [rng.randrange(len(mix)) for _ in range(total)]
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    assert host in ("127.0.0.1", "localhost"), "the soak only ever targets this machine"
    stats = HttpStats()
    lock = threading.Lock()
    counter = iter(range(total))

    def client(_: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if i == total // 2:
                    sampler.phase = "http-second-half"
                req = mix[order[i]]
                headers = {"Content-Type": req.content_type} if req.content_type else {}
                t0 = time.perf_counter()
                try:
                    conn.request(req.method, req.path, body=req.body or None, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException) as err:
                    status, payload = 599, str(err).encode()
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=120)
                seconds = time.perf_counter() - t0
                problem = _check(req, status, payload)
                with lock:
                    stats.sent += 1
                    stats.by_kind[req.kind] = stats.by_kind.get(req.kind, 0) + 1
                    stats.statuses[status] = stats.statuses.get(status, 0) + 1
                    (stats.latencies_valid if req.valid else stats.latencies_invalid).append(seconds)
                    if status >= 500:
                        stats.server_errors += 1
                        stats.server_errors_valid += req.valid
                    if problem:
                        stats.unexpected.append(problem)
        finally:
            conn.close()

    sampler.phase = "http-first-half"
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    return stats


ODD_NAMES = ["收据 {i}.png", "scan+{i}.png", "100% {i}.jpg", "emoji 😀 {i}.png", "a  b {i}.tif", "plain-{i}.png",
             "发票/二〇二四/{i}.jpeg", "q'\"<x>{i}.png"]


def _upload_body(i: int) -> tuple[bytes, bool]:
    """(bytes, valid) for upload ``i``: every tenth one is corrupt."""
    img = _page(360 + (i % 5) * 60, 100 + (i % 3) * 30, 1 + i % 3, 1000 + i)
    name = ODD_NAMES[i % len(ODD_NAMES)]
    ext = ".jpg" if name.endswith((".jpg", ".jpeg")) else ".tif" if name.endswith(".tif") else ".png"
    data = _enc(ext, img)
    if i % 10 == 9:
        return data[: len(data) // 3], False
    return data, True


def run_uploads(stack: Any, count: int, deadline: float, sampler: MemorySampler) -> dict[str, Any]:
    import boto3

    sampler.phase = "s3"
    s3 = boto3.client("s3", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    bucket = stack.spec.bucket_name
    uploads_prefix = os.environ.get("OCR_UPLOADS_PREFIX", "uploads/")
    results_prefix = os.environ.get("OCR_RESULTS_PREFIX", "results/")
    run_id = uuid.uuid4().hex[:8]
    keys: dict[str, bool] = {}
    bodies = []
    for i in range(count):
        data, valid = _upload_body(i)
        key = f"{uploads_prefix}soak-{run_id}/{i:04d} " + ODD_NAMES[i % len(ODD_NAMES)].format(i=i)
        keys[key] = valid
        bodies.append((key, data))
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), bodies))
    upload_seconds = time.monotonic() - t0
    prefix = f"{results_prefix}{uploads_prefix}soak-{run_id}/"
    found: dict[str, str] = {}
    while time.monotonic() < deadline:
        found.clear()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                k = obj["Key"][len(results_prefix):]
                if k.endswith(".error.json"):
                    found[k[: -len(".error.json")]] = "error"
                elif k.endswith(".json"):
                    found.setdefault(k[: -len(".json")], "ok")
        if len(found) >= count:
            break
        time.sleep(1.0)
    all_seconds = time.monotonic() - t0
    lost = [k for k in keys if k not in found]
    wrong = [k for k, valid in keys.items() if k in found and (found[k] == "ok") != valid]
    sqs = stack.sqs
    dlq = sqs.get_queue_attributes(QueueUrl=stack.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    return {
        "uploads": count,
        "corrupt_uploads": sum(1 for v in keys.values() if not v),
        "records_found": len(found),
        "uploads_lost": len(lost),
        "lost_examples": lost[:5],
        "wrong_outcome": len(wrong),
        "wrong_examples": wrong[:5],
        "dead_letters": int(dlq["Attributes"]["ApproximateNumberOfMessages"]),
        "upload_seconds": round(upload_seconds, 1),
        "all_records_seconds": round(all_seconds, 1),
        "throughput_per_s": round(len(found) / all_seconds, 1) if all_seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak the local stack (127.0.0.1 only).")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--uploads", type=int, default=500)
    parser.add_argument("--deadline", type=float, default=1500.0, help="seconds for the whole run")
    parser.add_argument("--max-growth-mb", type=float, default=50.0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    import logging

    logging.basicConfig(level=logging.ERROR)
    from infra.local_stack import LocalStack

    start = time.monotonic()
    deadline = start + args.deadline
    sampler = MemorySampler().start()
    stack = LocalStack("127.0.0.1", 0, 0, visibility_timeout=30).start()
    seen: dict[str, int] = {"records": 0, "self_triggered": 0}
    results_prefix = os.environ.get("OCR_RESULTS_PREFIX", "results/")
    inner = stack.worker.handler

    def counting_handler(event: dict[str, Any], context: Any) -> Any:
        for record in event.get("Records", []):
            seen["records"] += 1
            try:
                notes = json.loads(record.get("body", "")).get("Records") or []
                keys = [unquote_plus(n["s3"]["object"]["key"]) for n in notes]
            except (ValueError, KeyError, TypeError, AttributeError):
                keys = []
            seen["self_triggered"] += sum(1 for k in keys if k.startswith(results_prefix))
        return inner(event, context)

    stack.worker.handler = counting_handler
    figures: dict[str, Any] = {"model": os.path.basename(os.environ.get("OCR_MODEL_PATH", "") or "none")}
    try:
        base = stack.gateway.url
        rss_before = rss_mb()
        t0 = time.monotonic()
        http_stats = run_http(base, args.requests, args.concurrency, deadline, sampler)
        http_seconds = time.monotonic() - t0
        first, second = sampler.of("http-first-half"), sampler.of("http-second-half")
        growth = (statistics.median(second[-max(1, len(second) // 4):]) - statistics.median(second[: max(1, len(second) // 4)])
                  if len(second) >= 4 else 0.0)
        figures["http"] = {
            "requests": http_stats.sent,
            "concurrency": args.concurrency,
            "seconds": round(http_seconds, 1),
            "throughput_per_s": round(http_stats.sent / http_seconds, 1) if http_seconds else None,
            "valid": len(http_stats.latencies_valid),
            "invalid": len(http_stats.latencies_invalid),
            "statuses": dict(sorted(http_stats.statuses.items())),
            "server_errors": http_stats.server_errors,
            "server_errors_valid": http_stats.server_errors_valid,
            "unexpected_answers": len(http_stats.unexpected),
            "unexpected_examples": http_stats.unexpected[:5],
            "latency_valid": percentiles(http_stats.latencies_valid),
            "latency_invalid": percentiles(http_stats.latencies_invalid),
            "latency_all": percentiles(http_stats.latencies_valid + http_stats.latencies_invalid),
            "rss_before_mb": round(rss_before, 1),
            "rss_first_half_median_mb": round(statistics.median(first), 1) if first else None,
            "rss_second_half_median_mb": round(statistics.median(second), 1) if second else None,
            "rss_growth_second_half_mb": round(growth, 1),
        }
        s3_figures = run_uploads(stack, args.uploads, deadline, sampler)
        s3_figures["messages_processed"] = seen["records"]
        s3_figures["self_triggered"] = seen["self_triggered"]
        figures["s3"] = s3_figures
    finally:
        sampler.stop()
        stack.stop()
    all_rss = [r for _, r, _ in sampler.samples]
    s3_rss = sampler.of("s3")
    if s3_rss:
        figures["s3"]["rss_median_mb"] = round(statistics.median(s3_rss), 1)
        figures["s3"]["rss_max_mb"] = round(max(s3_rss), 1)
    figures["peak_rss_mb"] = round(max(all_rss + [peak_rss_mb()]), 1)
    figures["rss_end_mb"] = round(all_rss[-1], 1) if all_rss else None
    figures["seconds"] = round(time.monotonic() - start, 1)

    h, s = figures["http"], figures["s3"]
    failures = []
    if h["requests"] < args.requests:
        failures.append(f"only {h['requests']} of {args.requests} requests sent before the deadline")
    if h["server_errors_valid"]:
        failures.append(f"{h['server_errors_valid']} valid requests got a 5xx")
    if h["unexpected_answers"]:
        failures.append(f"{h['unexpected_answers']} unexpected answers")
    if h["rss_growth_second_half_mb"] > args.max_growth_mb:
        failures.append(f"memory grew {h['rss_growth_second_half_mb']} MiB during the second half")
    if s["uploads_lost"] or s["wrong_outcome"] or s["dead_letters"] or s["self_triggered"]:
        failures.append("uploads lost / wrong / dead-lettered / self-triggered")
    figures["ok"] = not failures
    figures["failures"] = failures

    lat = h["latency_valid"]
    print(f"HTTP  {h['requests']} requests, {h['concurrency']} clients, {h['seconds']} s "
          f"({h['throughput_per_s']}/s); valid {h['valid']}, invalid {h['invalid']}; statuses {h['statuses']}")
    print(f"      5xx: {h['server_errors']} (valid: {h['server_errors_valid']}); unexpected answers: {h['unexpected_answers']}")
    print(f"      latency valid  p50 {lat.get('p50_ms')} ms  p95 {lat.get('p95_ms')} ms  p99 {lat.get('p99_ms')} ms  "
          f"max {lat.get('max_ms')} ms")
    li = h["latency_invalid"]
    print(f"      latency invalid p50 {li.get('p50_ms')} ms  p95 {li.get('p95_ms')} ms  p99 {li.get('p99_ms')} ms")
    print(f"      RSS median first half {h['rss_first_half_median_mb']} MiB, second half "
          f"{h['rss_second_half_median_mb']} MiB, growth within second half {h['rss_growth_second_half_mb']} MiB")
    print(f"S3    {s['uploads']} uploads ({s['corrupt_uploads']} corrupt) -> {s['records_found']} records in "
          f"{s['all_records_seconds']} s ({s['throughput_per_s']}/s); lost {s['uploads_lost']}, wrong {s['wrong_outcome']}, "
          f"dead letters {s['dead_letters']}, self-triggered {s['self_triggered']}, messages {s['messages_processed']}; "
          f"RSS median {s.get('rss_median_mb')} MiB, max {s.get('rss_max_mb')} MiB")
    print(f"Peak RSS {figures['peak_rss_mb']} MiB; total {figures['seconds']} s; {'OK' if figures['ok'] else 'FAILED: ' + '; '.join(failures)}")
    print("SOAK " + json.dumps(figures, ensure_ascii=False), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, ensure_ascii=False, indent=2)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
