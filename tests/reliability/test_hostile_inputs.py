"""Hostile and odd inputs, through the engine, the HTTP API and the S3 / SQS trigger.

Every input must get its documented answer (a 4xx JSON error over HTTP, an error record
in the results location for S3 uploads, or a normal result for odd-but-valid images), in
bounded time, and the process must stay healthy for the next request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.multipart import encode as multipart
from support.hostile_corpus import CANARY, STATUS, Case, build_corpus, build_heavy_cases
from support.reliability import (
    S3_TEST_EVENT,
    call_http,
    http_event,
    s3_event,
    s3_record,
    sqs_event,
    sqs_message,
)

HERE = Path(__file__).resolve().parent
CASES = build_corpus()
CASE_IDS = [c.name for c in CASES]
PER_CASE_SECONDS = 10.0  # generous: 2 shared cores, a training job running next door
BUCKET = "reliability-images"


def test_corpus_is_large_and_covers_every_class() -> None:
    assert len(CASES) >= 40
    kinds = Counter(c.kind for c in CASES)
    for kind in ("empty", "not an image", "truncated", "wrong magic", "bomb", "extreme size",
                 "odd encoding", "metadata", "content", "jpeg markers", "png chunks", "png zlib",
                 "decode memory", "header lies"):
        assert kinds[kind] >= 1, kind
    answers = Counter(e for c in CASES for e in c.expected)
    for code in ("ok", "empty_image", "unsupported_image_type", "undecodable_image", "image_too_large", "image_too_small"):
        assert answers[code] >= 1, code


# ---------------------------------------------------------------- engine, in a fresh process
@pytest.fixture(scope="module")
def engine_run(model_path: Path) -> dict[str, Any]:
    """The corpus through the real engine in a child process (3 passes, canary after each case)."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "corpus_runner.py"), str(model_path), "3"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stderr.splitlines()
    start = next((i for i, t in enumerate(table) if t.startswith("class ")), len(table))
    table = table[start:start + 1 + sum(1 for line in lines if "class" in line)]
    print("\nworst case per class (peak MB above the RSS before it, seconds):\n" + "\n".join(table))
    return {
        "start": lines[0],
        "cases": {line["case"]: line for line in lines if "case" in line},
        "passes": [line for line in lines if "pass" in line],
        "classes": {line["class"]: line for line in lines if "class" in line},
    }


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_engine_answers_each_hostile_input(engine_run: dict[str, Any], case: Case) -> None:
    got = engine_run["cases"][case.name]
    assert got["outcome"] in case.expected, got
    assert got["status"] == STATUS[got["outcome"]]
    assert got["status"] < 500
    assert got["seconds"] < PER_CASE_SECONDS, got
    assert got["canary"], "the engine failed on a valid image right after this input"
    # No input may cost much memory beyond its decoded pixels (the largest legal ones here
    # are 40 Mpx of RGBA, 16 Mpx of 16-bit RGBA): a lying header that makes a codec allocate
    # gigabytes fails this. The peak is the case's own (reset before each case on Linux):
    # at most 600 MB above the RSS before it, well inside the function's 2048 MB.
    assert got["peak_delta_mb"] < 600, got


def test_engine_reports_the_worst_case_of_each_class(engine_run: dict[str, Any]) -> None:
    classes = engine_run["classes"]
    assert set(classes) == {c.kind for c in CASES}
    for kind, line in classes.items():
        assert line["cases"] == sum(1 for c in CASES if c.kind == kind)
        assert line["worst_peak_mb"] == max(engine_run["cases"][c.name]["peak_delta_mb"] for c in CASES if c.kind == kind)


def test_engine_memory_is_bounded_and_flat(engine_run: dict[str, Any]) -> None:
    passes = engine_run["passes"]
    assert len(passes) == 3
    # Peak over the whole corpus (incl. a 16 Mpx zlib bomb inside the limits): bounded.
    assert passes[-1]["peak_rss_mb"] < 1500, passes
    # The same corpus again must not need more memory: no leak per request.
    growth = passes[2]["rss_mb"] - passes[0]["rss_mb"]
    assert growth < 40, f"RSS grew {growth:.1f} MiB between pass 1 and pass 3: {passes}"


@pytest.mark.slow
@pytest.mark.parametrize("case", build_heavy_cases(), ids=lambda c: c.name)
def test_heavy_noise_pages_send_a_bounded_number_of_crops(real_engine: Any, case: Case,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of noise specks once took minutes in the line merger; the work stays bounded.

    The bound is structural (crops handed to the recogniser); the time is printed, not asserted.
    """
    sizes = _counting_crops(real_engine, monkeypatch)
    t0 = time.perf_counter()
    real_engine.run(case.data)
    print(f"{case.name}: {time.perf_counter() - t0:.2f} s, {sum(sizes)} crops")
    assert sum(sizes) <= real_engine.detector.max_lines


def test_bombs_are_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decompression bombs and oversized inputs never reach the pixel decoder."""
    from ocr_engine.errors import ImageTooLarge
    from ocr_engine.image import decode

    calls: list[int] = []
    real = decode.cv2.imdecode

    def counting(buf: Any, flags: int) -> Any:
        calls.append(len(buf))
        return real(buf, flags)

    monkeypatch.setattr(decode.cv2, "imdecode", counting)
    for case in CASES:
        if case.expected == {"image_too_large"}:
            with pytest.raises(ImageTooLarge):
                decode.decode_image(case.data)
    assert calls == []


# ---------------------------------------------------------------- HTTP API


def assert_error(status: int, body: dict[str, Any], expected_status: int, code: str | None = None) -> None:
    assert status == expected_status, body
    assert body["success"] is False
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


def assert_healthy(http: Any, context: Any) -> None:
    status, body, _ = call_http(http, http_event("POST", "/ocr", CANARY(), content_type="image/png"), context)
    assert status == 200 and body["success"] is True


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_http_raw_body_answers_each_hostile_input(http: Any, context: Any, case: Case) -> None:
    event = http_event("POST", "/ocr", case.data, content_type="image/png")
    status, body, seconds = call_http(http, event, context)
    max_request = http.SETTINGS.max_request_bytes
    if len(case.data) > max_request:
        assert_error(status, body, 413, "image_too_large")
    elif not case.data:
        assert_error(status, body, 400, "empty_image")
    elif status == 200:  # an image answer has its lines in ``data``, a document's in ``pages``
        assert "ok" in case.expected and body["success"] is True
        assert isinstance(body["data"], list) if "pages" not in body else isinstance(body["pages"], list)
    else:
        assert status in case.statuses, body
        assert_error(status, body, status)
        assert body["error"]["code"] in case.expected
    assert seconds < PER_CASE_SECONDS
    assert_healthy(http, context)


def _json(doc: Any) -> str:
    return json.dumps(doc)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def request_cases() -> list[tuple[str, str, dict[str, Any], int, str | None]]:
    """(name, path, event, status, error code) of malformed HTTP requests."""
    png = CANARY()
    out: list[tuple[str, str, dict[str, Any], int, str | None]] = []

    def add(name: str, path: str, body: Any, ctype: str | None, status: int, code: str | None, **kw: Any) -> None:
        out.append((name, path, http_event("POST", path, body, content_type=ctype, **kw), status, code))

    add("json_broken_base64", "/ocr", _json({"image": "@@@not base64!!"}), "application/json", 400, "invalid_input")
    add("json_base64_bad_padding", "/ocr", _json({"image": "abc"}), "application/json", 400, "invalid_input")
    add("json_missing_image", "/ocr", _json({"picture": _b64(png)}), "application/json", 400, "invalid_input")
    add("json_image_is_number", "/ocr", _json({"image": 12345}), "application/json", 400, "invalid_input")
    add("json_image_is_null", "/ocr", _json({"image": None}), "application/json", 400, "invalid_input")
    add("json_image_is_object", "/ocr", _json({"image": {"data": _b64(png)}}), "application/json", 400, "invalid_input")
    add("json_body_is_list", "/ocr", _json([_b64(png)]), "application/json", 400, "invalid_input")
    add("json_body_is_string", "/ocr", _json("hello"), "application/json", 400, "invalid_input")
    add("json_not_json", "/ocr", "{'image': oops", "application/json", 400, "invalid_input")
    add("json_invalid_utf8", "/ocr", b"{\"image\": \"\xff\xfe\"}", "application/json", 400, "invalid_input")
    add("json_deeply_nested", "/ocr", "[" * 100_000 + "]" * 100_000, "application/json", 400, "invalid_input")
    add("json_empty_data_url", "/ocr", _json({"image": "data:image/png;base64,"}), "application/json", 400, None)
    add("json_base64_of_text", "/ocr", _json({"image": _b64(b"hello world")}), "application/json", 415,
        "unsupported_image_type")
    add("batch_17_images", "/ocr/batch", _json({"images": [_b64(png)] * 17}), "application/json", 400, "too_many_images")
    add("batch_images_not_list", "/ocr/batch", _json({"images": _b64(png)}), "application/json", 400, "invalid_input")
    add("batch_images_wrong_item_type", "/ocr/batch", _json({"images": [1, 2]}), "application/json", 400,
        "invalid_input")
    add("batch_empty_list", "/ocr/batch", _json({"images": []}), "application/json", 400, "invalid_input")
    ctype, body = multipart([("comment", None, b"no image here")])
    add("multipart_without_image_field", "/ocr", body, ctype, 400, "invalid_input")
    add("multipart_without_boundary", "/ocr", body, "multipart/form-data", 400, "invalid_input")
    add("multipart_garbage_body", "/ocr", b"garbage, not multipart at all", ctype, 400, "invalid_input")
    ctype, body = multipart([("image", "empty.png", b"")])
    add("multipart_empty_file", "/ocr", body, ctype, 400, "empty_image")
    add("body_over_6mb", "/ocr", png + bytes(6 * 1024 * 1024), "image/png", 413, "image_too_large")
    add("json_body_over_6mb", "/ocr", _json({"image": _b64(bytes(5 * 1024 * 1024))}), "application/json", 413,
        "image_too_large")
    add("empty_body", "/ocr", None, "image/png", 400, "empty_image")
    add("text_plain_content_type", "/ocr", "hello", "text/plain", 415, "unsupported_media_type")
    add("base64_flag_with_garbage", "/ocr", "%%%%", "image/png", 400, None, base64_body=False)
    out[-1][2]["isBase64Encoded"] = True
    return out


REQUEST_CASES = request_cases()


@pytest.mark.parametrize(("path", "event", "status", "code"), [c[1:] for c in REQUEST_CASES],
                         ids=[c[0] for c in REQUEST_CASES])
def test_http_malformed_requests_get_documented_4xx(http: Any, context: Any, path: str, event: dict[str, Any],
                                                    status: int, code: str | None) -> None:
    got, body, seconds = call_http(http, event, context)
    assert_error(got, body, status, code)
    assert seconds < PER_CASE_SECONDS
    assert_healthy(http, context)


def test_http_batch_mixes_results_and_per_image_errors(http: Any, context: Any) -> None:
    images = [c for c in CASES if len(c.data) < 400_000][:16]
    doc = {"images": [{"name": c.name, "image": _b64(c.data)} for c in images]}
    status, body, seconds = call_http(http, http_event("POST", "/ocr/batch", _json(doc), content_type="application/json"),
                                 context)
    assert status == 200 and body["count"] == len(images)
    for case, item in zip(images, body["results"]):
        assert item["name"] == case.name
        if item["success"]:
            assert "ok" in case.expected
        else:
            assert item["error"]["code"] in case.expected and item["error"]["status"] in case.statuses
    assert body["failed"] == sum(1 for item in body["results"] if not item["success"])
    assert seconds < 4 * PER_CASE_SECONDS


def test_http_unknown_routes_and_methods(http: Any, context: Any) -> None:
    for method, path in (("GET", "/../../etc/passwd"), ("GET", "/ocr%00"), ("POST", "/ocr/../health")):
        status, body, _ = call_http(http, http_event(method, path), context)
        assert_error(status, body, 404, "not_found")
    for method, path in (("DELETE", "/ocr"), ("PUT", "/"), ("PATCH", "/health")):
        status, body, _ = call_http(http, http_event(method, path), context)
        assert_error(status, body, 405, "method_not_allowed")


# ---------------------------------------------------------------- S3 / SQS trigger
@pytest.fixture
def objects(use_real_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The object handler wired to a versioned moto bucket."""
    with mock_aws():
        from ocr_service.handlers import object_state
        from ocr_service.handlers import objects as module
        from ocr_service.s3_store import S3Store

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        monkeypatch.setattr(object_state, "store", S3Store(s3, object_state.SETTINGS.max_image_bytes))
        monkeypatch.setattr(module, "s3_for_tests", s3, raising=False)
        yield module


def read_record(s3: Any, key: str) -> tuple[str, dict[str, Any]]:
    """``("ok"|"error", document)`` of the record written for upload ``key``."""
    for kind, suffix in (("ok", ".json"), ("error", ".error.json")):
        try:
            body = s3.get_object(Bucket=BUCKET, Key=f"results/{key}{suffix}")["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue
        return kind, json.loads(body)
    raise AssertionError(f"no result or error record for {key!r}")


def test_s3_uploads_of_the_whole_corpus_each_get_a_record(objects: Any, context: Any) -> None:
    """Every corpus file uploaded: a result or an error record; nothing retried, nothing lost."""
    s3 = objects.s3_for_tests
    messages = []
    for case in CASES:
        key = f"uploads/corpus/{case.name}"
        put = s3.put_object(Bucket=BUCKET, Key=key, Body=case.data)
        record = s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"], size=len(case.data))
        messages.append(sqs_message(s3_event(record), message_id=case.name))
    t0 = time.perf_counter()
    out: dict[str, Any] = {"batchItemFailures": []}
    for i in range(0, len(messages), 4):  # the template's batch size
        part = objects.handler(sqs_event(*messages[i:i + 4]), context)
        out["batchItemFailures"] += part["batchItemFailures"]
    seconds = time.perf_counter() - t0
    assert out["batchItemFailures"] == []  # permanent errors are recorded, not retried
    for case in CASES:
        kind, doc = read_record(s3, f"uploads/corpus/{case.name}")
        if kind == "ok":
            assert "ok" in case.expected and doc["success"] is True
        else:
            assert doc["success"] is False and doc["error"]["retryable"] is False
            assert doc["error"]["code"] in case.expected, (case.name, doc["error"])
            assert doc["error"]["status"] in case.statuses
            assert doc["source"]["key"] == f"uploads/corpus/{case.name}"
    assert seconds < len(CASES) * 2


ODD_KEYS = [
    "uploads/100% sure.png",
    "uploads/a+b=c.png",
    "uploads/with  two  spaces .png",
    "uploads/收据 2024年 发票.png",
    "uploads/emoji 😀🧾.png",
    "uploads/%2541 literal percent-2541.png",
    "uploads/../../../etc/passwd.png",
    "uploads/deep/" + "子目录/" * 20 + "x.png",
    "uploads/quote\"'<script>alert(1)</script>.png",
]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_s3_odd_keys_are_read_and_written_exactly(objects: Any, context: Any, key: str) -> None:
    s3 = objects.s3_for_tests
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=CANARY())
    event = s3_event(s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"]))
    out = objects.handler(sqs_event(sqs_message(event)), context)
    assert out == {"batchItemFailures": []}
    kind, doc = read_record(s3, key)
    assert kind == "ok" and doc["source"]["key"] == key
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(keys) == sorted([key, f"results/{key}.json"])


def test_s3_deleted_object_gets_an_error_record_and_is_not_retried(objects: Any, context: Any) -> None:
    s3 = objects.s3_for_tests
    key = "uploads/gone.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=CANARY())
    s3.delete_object(Bucket=BUCKET, Key=key, VersionId=put["VersionId"])
    event = s3_event(s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"]))
    assert objects.handler(sqs_event(sqs_message(event)), context) == {"batchItemFailures": []}
    kind, doc = read_record(s3, key)
    assert kind == "error" and doc["error"]["code"] == "source_missing" and doc["error"]["retryable"] is False


def test_s3_object_too_large_is_refused_without_download(objects: Any, context: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_service.handlers import object_state
    from ocr_service.s3_store import S3Store

    s3 = objects.s3_for_tests
    monkeypatch.setattr(object_state, "store", S3Store(s3, 1024 * 1024))
    engine_calls: list[int] = []
    real_run = objects.runtime.get_engine().run
    monkeypatch.setattr(objects.runtime.get_engine(), "run", lambda data, direction=None: engine_calls.append(len(data)) or real_run(data, direction))
    key = "uploads/too-large.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=CANARY() + bytes(1024 * 1024))
    event = s3_event(s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"]))
    assert objects.handler(sqs_event(sqs_message(event)), context) == {"batchItemFailures": []}
    kind, doc = read_record(s3, key)
    assert kind == "error" and doc["error"]["code"] == "image_too_large" and doc["error"]["status"] == 413
    assert engine_calls == []


def _record_without(path: tuple[str, ...]) -> dict[str, Any]:
    record = s3_record(BUCKET, "uploads/x.png", etag="abc")
    node = record
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return record


MISSING_FIELDS = [("s3",), ("s3", "bucket"), ("s3", "bucket", "name"), ("s3", "object"), ("s3", "object", "key"),
                  ("eventName",)]


@pytest.mark.parametrize("path", MISSING_FIELDS, ids=["-".join(p) for p in MISSING_FIELDS])
def test_sqs_s3_notification_with_missing_fields_goes_to_retry_and_dead_letter(objects: Any, context: Any,
                                                                                path: tuple[str, ...]) -> None:
    """A broken notification never crashes the batch: the good message is done, the broken one is
    reported as failed (so SQS retries it and, after maxReceiveCount, dead-letters it)."""
    s3 = objects.s3_for_tests
    put = s3.put_object(Bucket=BUCKET, Key="uploads/good.png", Body=CANARY())
    good = sqs_message(s3_event(s3_record(BUCKET, "uploads/good.png", etag=put["ETag"].strip('"'))), "good")
    bad = sqs_message(s3_event(_record_without(path)), "bad")
    out = objects.handler(sqs_event(good, bad), context)
    assert out == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert read_record(s3, "uploads/good.png")[0] == "ok"


@pytest.mark.parametrize("body", ["not json at all", "null", "[]", "42", '{"Records": 5}', '{"Records": [1, 2]}'],
                         ids=["text", "null", "list", "number", "records-number", "records-of-numbers"])
def test_sqs_garbage_messages_are_failed_not_fatal(objects: Any, context: Any, body: str) -> None:
    s3 = objects.s3_for_tests
    put = s3.put_object(Bucket=BUCKET, Key="uploads/good.png", Body=CANARY())
    good = sqs_message(s3_event(s3_record(BUCKET, "uploads/good.png", etag=put["ETag"].strip('"'))), "good")
    out = objects.handler(sqs_event(sqs_message(body, "bad"), good), context)
    assert out == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert read_record(s3, "uploads/good.png")[0] == "ok"


def test_sqs_message_that_is_not_an_s3_event_is_acknowledged(objects: Any, context: Any) -> None:
    s3 = objects.s3_for_tests
    out = objects.handler(sqs_event(sqs_message({"hello": "world"}), sqs_message(S3_TEST_EVENT)), context)
    assert out == {"batchItemFailures": []}
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_direct_s3_test_event_and_empty_event(objects: Any, context: Any) -> None:
    assert objects.handler(S3_TEST_EVENT, context) == {"results": []}
    assert objects.handler({}, context) == {"results": []}
    assert objects.handler({"Records": []}, context) == {"results": []}


def test_non_create_events_and_results_are_ignored(objects: Any, context: Any) -> None:
    s3 = objects.s3_for_tests
    events = [
        s3_record(BUCKET, "uploads/x.png", event_name="ObjectRemoved:Delete"),
        s3_record(BUCKET, "results/uploads/x.png.json"),
        s3_record(BUCKET, "results/uploads/x.png.error.json"),
        s3_record(BUCKET, "elsewhere/x.png"),
        s3_record(BUCKET, "uploads/folder/"),
    ]
    out = objects.handler(sqs_event(*(sqs_message(s3_event(r)) for r in events)), context)
    assert out == {"batchItemFailures": []}
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_direct_event_with_a_malformed_record_still_processes_the_valid_one(objects: Any, context: Any) -> None:
    s3 = objects.s3_for_tests
    put = s3.put_object(Bucket=BUCKET, Key="uploads/good.png", Body=CANARY())
    good = s3_record(BUCKET, "uploads/good.png", etag=put["ETag"].strip('"'))
    with pytest.raises(RuntimeError, match="1 of 2"):
        objects.handler(s3_event(_record_without(("s3", "object")), good), context)
    assert read_record(s3, "uploads/good.png")[0] == "ok"


def test_direct_event_whose_records_are_not_objects_is_invalid(objects: Any, context: Any) -> None:
    from ocr_engine.errors import InvalidInput

    for records in ({"s3": {}}, ["not a record"], [1, 2]):
        with pytest.raises(InvalidInput):
            objects.handler({"Records": records}, context)


# ---------------------------------------------------------------- salt-and-pepper pages
def _salt(shape: tuple[int, int], rate: float, dot: int, seed: int) -> bytes:
    """A black page with white dots of ``dot`` x ``dot`` pixels covering ``rate`` of the cells."""
    import cv2
    import numpy as np

    cells = (np.random.default_rng(seed).random((shape[0] // dot, shape[1] // dot)) < rate).astype(np.uint8) * 255
    page = cv2.resize(cells, (cells.shape[1] * dot, cells.shape[0] * dot), interpolation=cv2.INTER_NEAREST)
    return cv2.imencode(".png", page)[1].tobytes()


# page -> (bytes, most crops it may send; before despeckling all of them sent ~90-400)
SALT_PAGES = {
    "corpus_salt_400x300": (next(c.data for c in CASES if c.name == "noise_salt_400x300.png"), 10),
    "salt_1600x1200": (_salt((1200, 1600), 0.02, 1, 5), 10),
    # adjacent 2-pixel dots survive the median as small clusters: fewer, not none
    "pepper_2px_1600x1200": (_salt((1200, 1600), 0.02, 2, 6), 60),
}


def _counting_crops(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many crops each call hands to the engine's recogniser."""
    sent: list[int] = []
    real = engine.recognizer.recognize

    def counting(crops: Any, **options: Any) -> Any:
        sent.append(len(crops))
        return real(crops, **options)

    monkeypatch.setattr(engine.recognizer, "recognize", counting)
    return sent


@pytest.mark.parametrize("name", list(SALT_PAGES))
def test_salt_noise_sends_few_crops_to_the_recogniser(real_engine: Any, monkeypatch: pytest.MonkeyPatch,
                                                      name: str) -> None:
    """Dots of 1-2 pixels once became hundreds of lines (up to max_lines) to read: seconds per page."""
    data, most = SALT_PAGES[name]
    sent = _counting_crops(real_engine, monkeypatch)
    real_engine.run(data)
    assert sum(sent) <= most, sent


def test_salted_text_page_keeps_its_lines(real_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text page sprinkled with dots is read as its lines, not as hundreds of dot lines."""
    import cv2
    import numpy as np

    from support.hostile_corpus import text_page

    page = cv2.cvtColor(text_page(), cv2.COLOR_BGR2GRAY)
    clean = real_engine.run(cv2.imencode(".png", page)[1].tobytes())
    page[np.random.default_rng(3).random(page.shape) < 0.03] = 0
    sent = _counting_crops(real_engine, monkeypatch)
    salted = real_engine.run(cv2.imencode(".png", page)[1].tobytes())
    assert len(clean.lines) == 2
    assert sum(sent) <= 4, sent
    assert len(salted.lines) == len(clean.lines)


def test_a_texture_of_dots_is_not_read_turned_too(real_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """3-pixel dots survive the despeckling and fill the detector's line cap. On this page the
    deskew also finds "lines" running down the texture; reading it turned 90° both ways as well
    took 4.6 s instead of 1.5 s."""
    sent = _counting_crops(real_engine, monkeypatch)
    result = real_engine.run(_salt((1200, 1600), 0.05, 3, 7))
    cap = real_engine.detector.max_lines
    assert "sideways" not in result.timings_ms
    assert sent[0] == cap and sum(sent) <= 2 * cap, sent  # the lines, and at most a 180° retry of each
