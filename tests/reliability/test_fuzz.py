"""Property-based fuzzing of decode -> preprocess -> detect -> recognise and of the event parsers.

Properties:

* the engine answers any bytes with an ``OcrResult`` or an ``OcrError`` whose status is 4xx
  (never another exception type, never a 5xx for bad input), within a time bound;
* the object handler answers any SQS batch with a ``batchItemFailures`` list naming only its
  own messages (or the documented ``BatchProcessingError`` when every message failed), and
  any direct event with ``{"results": [...]}`` or the documented ``RuntimeError``;
* the HTTP handler answers any request with JSON and a 2xx/4xx status.

Profiles (``OCR_FUZZ_PROFILE``): ``fast`` (default, a few seconds per property) and
``long`` (``OCR_FUZZ_PROFILE=long pytest tests/reliability/test_fuzz.py``, minutes).
``--hypothesis-show-statistics`` prints how many examples ran.
"""

from __future__ import annotations

import json
import os
import struct
import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infra.procmem import peak_rss_mb
from support.hostile_corpus import CANARY, _jpeg, _png, _png_to, text_page
from support.reliability import http_event, s3_record, sqs_event, sqs_message

BOUND_SECONDS = 10.0  # no single input may take longer (hang guard), on a loaded 2-core machine

settings.register_profile(
    "fast", max_examples=40, deadline=timedelta(seconds=BOUND_SECONDS), derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long", max_examples=2000, deadline=timedelta(seconds=BOUND_SECONDS),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
PROFILE = os.environ.get("OCR_FUZZ_PROFILE", "fast")
FUZZ = settings.get_profile(PROFILE)  # applied per test: other suites keep their own defaults

MAGICS = [b"", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*",
          b"II+\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBPVP8L", b"RIFF\x00\x00\x00\x00WEBPVP8X",
          b"GIF89a", b"GIF87a"]


def _seeds() -> list[bytes]:
    page = text_page(160, 48, 1)
    return [_png(page), _jpeg(page), _png_to("bmp", page), _png_to("tiff", page), _png_to("webp", page),
            _png(page[:, :, 0]), _jpeg(page, [1, 30])]  # 1 = IMWRITE_JPEG_QUALITY


SEEDS = _seeds()


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """A valid small image with a few byte-level mutations (flip, overwrite, cut, insert, size)."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "header_int", "delete"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[pos:pos + len(chunk)] = chunk
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        else:  # header_int: a big or odd integer where sizes usually live
            value = draw(st.sampled_from([0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            at = draw(st.integers(0, min(len(data), 64)))
            data[at:at + 4] = struct.pack(">I", value)
    return bytes(data)


@st.composite
def shaped_images(draw: st.DrawFn) -> bytes:
    """Valid PNGs of extreme shapes and contents, all within the decoder's limits."""
    import numpy as np

    thin = draw(st.integers(8, 40))
    long = draw(st.integers(8, 20_000))
    h, w = (thin, long) if draw(st.booleans()) else (long, thin)
    kind = draw(st.sampled_from(["const", "noise", "stripes", "dots"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "const":
        img = np.full((h, w), draw(st.integers(0, 255)), np.uint8)
    elif kind == "noise":
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
    elif kind == "stripes":
        period = draw(st.integers(1, 16))
        img = (((np.arange(w)[None, :] // period) % 2) * 255 * np.ones((h, 1))).astype(np.uint8)
    else:
        img = ((rng.random((h, w)) < 0.05) * 255).astype(np.uint8)
    return _png(img)


@pytest.fixture(scope="module")
def engine(real_engine: Any) -> Any:
    return real_engine


def _run_engine(engine: Any, data: bytes) -> None:
    from ocr_engine.errors import OcrError
    from ocr_service.status import http_status

    peak_before = peak_rss_mb()
    t0 = time.perf_counter()
    try:
        result = engine.run(data)
    except OcrError as err:
        assert 400 <= http_status(err) < 500, (err.code, err.message)
        assert err.code and err.message
    else:
        json.dumps(result.to_dict(), ensure_ascii=False)  # the result is always serialisable
    assert time.perf_counter() - t0 < BOUND_SECONDS
    assert peak_rss_mb() - peak_before < 400, "one small input raised the peak memory by > 400 MiB"


@FUZZ
@given(magic=st.sampled_from(MAGICS), tail=st.binary(max_size=2048))
def test_fuzz_engine_on_arbitrary_bytes(engine: Any, magic: bytes, tail: bytes) -> None:
    _run_engine(engine, magic + tail)


@FUZZ
@given(data=mutated_images())
@example(data=SEEDS[0][:33])  # PNG cut right after IHDR
@example(data=SEEDS[1][:-2])  # JPEG without EOI
@example(data=SEEDS[0][:33] + b"\xff\x00\x0e\x8a" + SEEDS[0][37:])  # chunk length ~4 GB (found by the long run)
def test_fuzz_engine_on_mutated_images(engine: Any, data: bytes) -> None:
    _run_engine(engine, data)


@FUZZ
@given(data=shaped_images())
@example(data=_png(__import__("numpy").full((8, 20_000), 255, __import__("numpy").uint8)))
def test_fuzz_engine_on_extreme_shapes(engine: Any, data: bytes) -> None:
    _run_engine(engine, data)


# ---------------------------------------------------------------- event parsers
JSON_LEAF = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(JSON_LEAF, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=20)


@st.composite
def broken_notifications(draw: st.DrawFn) -> Any:
    """A real S3 notification with some fields removed or replaced by arbitrary JSON."""
    key = draw(st.text(min_size=1, max_size=30).map(lambda s: "uploads/" + s))
    record = s3_record("fuzz-bucket", key, etag="0123456789abcdef")
    paths = [("eventName",), ("s3",), ("s3", "bucket"), ("s3", "bucket", "name"), ("s3", "object"),
             ("s3", "object", "key"), ("s3", "object", "eTag"), ("s3", "object", "versionId"), ("eventSource",)]
    for path in draw(st.lists(st.sampled_from(paths), max_size=3)):
        node: Any = record
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if draw(st.booleans()):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = draw(JSON)
    return {"Records": [record]} if draw(st.booleans()) else {"Records": record}


class FakeStore:
    """In-memory stand-in for ``S3Store``: every object is a small valid image."""

    def __init__(self) -> None:
        self.written: dict[tuple[str, str], dict[str, Any]] = {}

    def record_matches(self, bucket: str, key: str, etag: str, version_id: str | None) -> bool:
        return False

    def record_state(self, bucket: str, key: str) -> None:
        return None  # no record yet: every valid notification is processed

    def is_current(self, bucket: str, key: str, etag: str, version_id: str | None) -> bool:
        return True

    def try_claim(self, bucket: str, key: str, *, expires_at: float, **_: Any) -> Any:
        from ocr_service.store import Claim

        return Claim(key, True, "claim-etag", expires_at)

    def release_claim(self, bucket: str, claim: Any) -> None:
        pass

    def read(self, bucket: str, key: str, version_id: str | None = None, **_: Any) -> Any:
        from ocr_service.store import SourceObject

        body = CANARY()
        return SourceObject(bucket, key, body, "etag", version_id, "image/png", len(body))

    def write_record(self, bucket: str, key: str, document: dict[str, Any], **_: Any) -> str:
        json.dumps(document, ensure_ascii=False)
        self.written[(bucket, key)] = document
        return "record-etag"

    def delete(self, bucket: str, key: str, **_: Any) -> None:
        self.written.pop((bucket, key), None)


@pytest.fixture
def objects(use_real_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ocr_service.handlers import object_state
    from ocr_service.handlers import objects as module

    monkeypatch.setattr(object_state, "store", FakeStore())
    return module


@FUZZ
@given(bodies=st.lists(st.one_of(JSON.map(json.dumps), st.text(max_size=50), broken_notifications().map(json.dumps)),
                       min_size=1, max_size=4))
def test_fuzz_sqs_batches(objects: Any, context: Any, bodies: list[str]) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    messages = [sqs_message(body, f"m{i}") for i, body in enumerate(bodies)]
    t0 = time.perf_counter()
    try:
        out = objects.handler(sqs_event(*messages), context)
    except BatchProcessingError:
        return  # every message failed: the documented whole-batch failure (all are retried)
    assert set(out) == {"batchItemFailures"}
    failed = [f["itemIdentifier"] for f in out["batchItemFailures"]]
    assert set(failed) <= {m["messageId"] for m in messages} and len(failed) < len(messages)
    assert time.perf_counter() - t0 < BOUND_SECONDS


@FUZZ
@given(event=st.one_of(JSON, broken_notifications(), st.dictionaries(st.just("Records"), JSON)))
def test_fuzz_direct_events(objects: Any, context: Any, event: Any) -> None:
    from ocr_engine.errors import InvalidInput

    if not isinstance(event, dict):
        event = {"value": event}
    try:
        out = objects.handler(event, context)
    except RuntimeError:
        return  # documented: some objects failed; Lambda retries the asynchronous invocation
    except InvalidInput:
        return  # documented: "Records" is not a list of objects
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        pytest.fail(f"malformed direct event crashed the handler: {type(err).__name__}: {err}")
    assert set(out) == {"results"} and isinstance(out["results"], list)


@FUZZ
@given(body=st.one_of(st.binary(max_size=512), JSON.map(lambda v: json.dumps(v).encode()),
                      st.builds(lambda d: json.dumps({"image": d}).encode(), JSON)),
       ctype=st.sampled_from([None, "image/png", "application/json", "multipart/form-data; boundary=x",
                              "multipart/form-data", "text/plain", "application/octet-stream", "application/x+json"]),
       path=st.sampled_from(["/ocr", "/ocr/batch"]), b64=st.booleans())
def test_fuzz_http_requests(use_real_engine: Any, context: Any, body: bytes, ctype: str | None, path: str,
                            b64: bool) -> None:
    from ocr_service.handlers import http_api

    if b64:
        event = http_event("POST", path, body, content_type=ctype)
    else:
        event = http_event("POST", path, body.decode("utf-8", "replace"), content_type=ctype, base64_body=False)
    response = http_api.handler(event, context)
    assert response["statusCode"] < 500, response["body"][:500]
    doc = json.loads(response["body"])
    assert isinstance(doc["success"], bool)
    if response["statusCode"] >= 400:
        assert doc["error"]["status"] == response["statusCode"] and doc["error"]["code"]
