"""The S3 / SQS object handler against moto buckets, with events from tests/events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from ocr_engine.schema import SCHEMA_VERSION
from support.lambda_events import corrupt_png, load_event, png_bytes

BUCKET = "test-images"


@pytest.fixture
def objects(engine, monkeypatch):
    """The handler module, wired to a moto bucket (versioned, like the template's)."""
    with mock_aws():
        from ocr_service.handlers import object_state
        from ocr_service.handlers import objects as module
        from ocr_service.s3_store import S3Store

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        monkeypatch.setattr(object_state, "store", S3Store(s3, object_state.SETTINGS.max_image_bytes))
        module.s3 = s3  # for the tests below
        yield module


def _get_json(s3, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_direct_s3_event_decodes_chinese_key_with_spaces(objects, engine, context):
    s3 = objects.s3
    key = "uploads/收据 2024 年.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    event = load_event("s3_put_direct.json", etag=put["ETag"].strip('"'), version=put["VersionId"])

    out = objects.handler(event, context)

    assert out == {"results": [{"key": key, "status": "ok"}]}
    record = _get_json(s3, f"results/{key}.json")
    assert record["success"] is True
    assert record["text"] == "Hello <b>world</b>\n你好 世界"
    assert [line["text"] for line in record["lines"]] == ["Hello <b>world</b>", "你好 世界"]
    assert record["schema_version"] == SCHEMA_VERSION  # the writer's
    assert record["blocks"] == []  # the fake engine groups no lines
    assert record["source"] == {
        "bucket": BUCKET,
        "key": key,
        "etag": put["ETag"].strip('"'),
        "version_id": put["VersionId"],
        "size": len(png_bytes()),
        "content_type": "binary/octet-stream",
    }
    head = s3.head_object(Bucket=BUCKET, Key=f"results/{key}.json")
    assert head["ContentType"].startswith("application/json")
    assert head["Metadata"]["source-version"] == put["VersionId"]


def test_same_object_version_is_processed_once(objects, engine, context):
    s3 = objects.s3
    key = "uploads/收据 2024 年.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    event = load_event("s3_put_direct.json", etag=put["ETag"].strip('"'), version=put["VersionId"])

    objects.handler(event, context)
    first = s3.head_object(Bucket=BUCKET, Key=f"results/{key}.json")["LastModified"]
    again = objects.handler(event, context)

    assert again == {"results": [{"key": key, "status": "duplicate"}]}
    assert len(engine.calls) == 1
    assert s3.head_object(Bucket=BUCKET, Key=f"results/{key}.json")["LastModified"] == first

    # A new version of the same key is new work.
    put2 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes(50, 20))
    event2 = load_event("s3_put_direct.json", etag=put2["ETag"].strip('"'), version=put2["VersionId"])
    assert objects.handler(event2, context)["results"][0]["status"] == "ok"
    assert _get_json(s3, f"results/{key}.json")["source"]["version_id"] == put2["VersionId"]


def test_sqs_batch_reports_only_transient_failures(objects, engine, context):
    s3 = objects.s3
    s3.put_object(Bucket=BUCKET, Key="uploads/good one.png", Body=png_bytes())
    s3.put_object(Bucket=BUCKET, Key="uploads/corrupt.png", Body=corrupt_png())
    s3.put_object(Bucket=BUCKET, Key="uploads/boom.png", Body=b"BOOM" + png_bytes())

    out = objects.handler(load_event("sqs_s3_batch.json"), context)

    # Only the crash is retried; the corrupt image is a permanent, recorded failure.
    assert out == {"batchItemFailures": [{"itemIdentifier": "msg-transient"}]}
    assert _get_json(s3, "results/uploads/good one.png.json")["success"] is True
    corrupt = _get_json(s3, "results/uploads/corrupt.png.error.json")
    assert corrupt["success"] is False
    assert corrupt["error"]["code"] == "undecodable_image"
    assert corrupt["error"]["status"] == 422
    assert corrupt["error"]["retryable"] is False
    assert corrupt["source"]["key"] == "uploads/corrupt.png"
    boom = _get_json(s3, "results/uploads/boom.png.error.json")
    assert boom["error"]["code"] == "internal_error"
    assert boom["error"]["retryable"] is True
    assert "results/uploads/boom.png.json" not in _keys(s3)


def test_success_after_a_failure_removes_the_error_record(objects, engine, context):
    s3 = objects.s3
    key = "uploads/retry.png"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"BOOM")
    with pytest.raises(RuntimeError):
        objects.process_object(BUCKET, key)
    assert f"results/{key}.error.json" in _keys(s3)

    s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    assert objects.process_object(BUCKET, key) == "ok"
    assert f"results/{key}.error.json" not in _keys(s3)
    assert f"results/{key}.json" in _keys(s3)


def test_own_output_and_keys_outside_uploads_are_never_processed(objects, engine):
    s3 = objects.s3
    s3.put_object(Bucket=BUCKET, Key="results/uploads/a.png.json", Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="results/uploads/x.png", Body=png_bytes())
    s3.put_object(Bucket=BUCKET, Key="elsewhere/b.png", Body=png_bytes())
    before = _keys(s3)

    assert objects.process_object(BUCKET, "results/uploads/a.png.json") == "skipped"
    assert objects.process_object(BUCKET, "results/uploads/x.png") == "skipped"
    assert objects.process_object(BUCKET, "elsewhere/b.png") == "skipped"
    assert objects.process_object(BUCKET, "uploads/") == "skipped"
    assert engine.calls == []
    assert _keys(s3) == before


def test_deleted_upload_gets_an_error_record(objects, engine):
    s3 = objects.s3
    assert objects.process_object(BUCKET, "uploads/gone.png") == "failed"
    record = _get_json(s3, "results/uploads/gone.png.error.json")
    assert record["error"]["code"] == "source_missing"


def test_too_large_upload_is_refused_before_download(objects, engine, monkeypatch):
    from ocr_service.handlers import object_state
    from ocr_service.s3_store import S3Store

    s3 = objects.s3
    monkeypatch.setattr(object_state, "store", S3Store(s3, max_image_bytes=100))
    s3.put_object(Bucket=BUCKET, Key="uploads/big.png", Body=png_bytes(400, 400) + b"\0" * 200)

    assert objects.process_object(BUCKET, "uploads/big.png") == "failed"
    record = _get_json(s3, "results/uploads/big.png.error.json")
    assert record["error"]["code"] == "image_too_large"
    assert record["error"]["status"] == 413
    assert engine.calls == []


def test_unsupported_type_is_recorded(objects, engine):
    s3 = objects.s3
    s3.put_object(Bucket=BUCKET, Key="uploads/notes.png", Body=b"just some text, not an image" * 4)
    assert objects.process_object(BUCKET, "uploads/notes.png") == "failed"
    assert _get_json(s3, "results/uploads/notes.png.error.json")["error"]["code"] == "unsupported_image_type"


def test_direct_event_failure_raises_for_lambda_retry(objects, engine, context):
    s3 = objects.s3
    key = "uploads/收据 2024 年.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=b"BOOM")
    event = load_event("s3_put_direct.json", etag=put["ETag"].strip('"'), version=put["VersionId"])
    with pytest.raises(RuntimeError, match="1 of 1 objects failed"):
        objects.handler(event, context)
    assert _get_json(s3, f"results/{key}.error.json")["error"]["retryable"] is True


def test_settings_from_env_validate():
    from ocr_engine.errors import ConfigError
    from ocr_service.settings import Settings

    s = Settings.from_env({"OCR_RESULTS_PREFIX": "out/", "OCR_MAX_BATCH_IMAGES": "4"})
    assert (s.results_prefix, s.max_batch_images, s.uploads_prefix) == ("out/", 4, "uploads/")
    with pytest.raises(ConfigError):
        Settings.from_env({"OCR_MAX_BATCH_IMAGES": "lots"})
    with pytest.raises(ConfigError):
        Settings.from_env({"OCR_RESULTS_PREFIX": ""})
    assert Settings.from_env({"OCR_RESULTS_PREFIX": "", "OCR_RESULTS_BUCKET": "r"}).results_bucket == "r"


def test_test_event_and_empty_events_do_nothing(objects, engine, context):
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET, "RequestId": "x"}
    assert objects.handler(test_event, context) == {"results": []}
    assert objects.handler({}, context) == {"results": []}
    assert objects.handler({"Records": []}, context) == {"results": []}
    assert engine.calls == []


def test_tracer_is_opt_in():
    from aws_lambda_powertools import Tracer

    from ocr_service.observability import make_tracer
    from ocr_service.settings import Settings

    assert Settings.from_env({}).tracing is False and Settings.from_env({"OCR_TRACING": "true"}).tracing is True
    off = make_tracer(False)
    assert not isinstance(off, Tracer)

    @off.capture_method(capture_response=False)
    def f(x):
        return x + 1

    assert f(1) == 2 and off.capture_lambda_handler(f) is f
    assert isinstance(make_tracer(True), Tracer)


def test_redelivery_after_a_transient_failure_is_processed(objects, engine, context, monkeypatch):
    s3 = objects.s3
    key = "uploads/收据 2024 年.png"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    event = load_event("s3_put_direct.json", etag=put["ETag"].strip('"'), version=put["VersionId"])
    real_run = engine.run
    calls = {"n": 0}

    def flaky(data, direction=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient")
        return real_run(data, direction)

    monkeypatch.setattr(engine, "run", flaky)
    with pytest.raises(RuntimeError):
        objects.handler(event, context)
    # the same notification again (Lambda's retry): not a "duplicate" of the failed attempt
    assert objects.handler(event, context) == {"results": [{"key": key, "status": "ok"}]}
    assert _get_json(s3, f"results/{key}.json")["success"] is True
    assert f"results/{key}.error.json" not in _keys(s3)


def test_upload_metadata_sets_the_text_direction(objects, engine):
    s3 = objects.s3
    s3.put_object(Bucket=BUCKET, Key="uploads/scroll.png", Body=png_bytes(), Metadata={"ocr-direction": "vertical"})
    s3.put_object(Bucket=BUCKET, Key="uploads/plain.png", Body=png_bytes())
    s3.put_object(Bucket=BUCKET, Key="uploads/odd.png", Body=png_bytes(), Metadata={"ocr-direction": "diagonal"})
    assert objects.process_object(BUCKET, "uploads/scroll.png") == "ok"
    assert objects.process_object(BUCKET, "uploads/plain.png") == "ok"
    assert engine.directions == ["vertical", None]
    assert objects.process_object(BUCKET, "uploads/odd.png") == "failed"
    error = _get_json(s3, "results/uploads/odd.png.error.json")["error"]
    assert error["code"] == "invalid_input" and "ocr-direction" in error["message"]
    assert len(engine.calls) == 2


def test_upload_metadata_sets_the_detector(objects, engine, monkeypatch):
    s3 = objects.s3
    for name in ("opencv", "learned", "auto"):
        s3.put_object(Bucket=BUCKET, Key=f"uploads/{name}.png", Body=png_bytes(), Metadata={"ocr-detector": name})
        assert objects.process_object(BUCKET, f"uploads/{name}.png") == "ok"
        # the record says which finder found the lines (the fake's auto picks the learned one)
        assert _get_json(s3, f"results/uploads/{name}.png.json")["detector"] == ("learned" if name == "auto" else name)
    s3.put_object(Bucket=BUCKET, Key="uploads/plain.png", Body=png_bytes())
    assert objects.process_object(BUCKET, "uploads/plain.png") == "ok"
    assert engine.detectors_asked == ["opencv", "learned", "auto", None]
    s3.put_object(Bucket=BUCKET, Key="uploads/odd.png", Body=png_bytes(), Metadata={"ocr-detector": "yolo"})
    assert objects.process_object(BUCKET, "uploads/odd.png") == "failed"
    error = _get_json(s3, "results/uploads/odd.png.error.json")["error"]
    assert (error["code"], error["status"]) == ("invalid_input", 400)
    assert error["message"] == "metadata ocr-detector must be one of opencv, learned, auto, got 'yolo'"
    monkeypatch.setattr(engine, "detectors", {"opencv": None})  # a deployment without the learned model
    s3.put_object(Bucket=BUCKET, Key="uploads/photo.png", Body=png_bytes(), Metadata={"ocr-detector": "learned"})
    assert objects.process_object(BUCKET, "uploads/photo.png") == "failed"
    error = _get_json(s3, "results/uploads/photo.png.error.json")["error"]
    assert error["code"] == "invalid_input" and "'learned' is not available" in error["message"]
    assert len(engine.calls) == 4  # the refused ones were never read


# ---------------------------------------------------------------- keys near S3's 1024-byte limit
def _enforce_s3_key_limit(s3) -> None:
    """Make the moto client refuse keys over 1024 UTF-8 bytes, as S3 does (moto does not)."""
    from botocore.exceptions import ClientError

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        key = params.get("Key")
        if isinstance(key, str) and len(key.encode("utf-8")) > 1024:
            raise ClientError(
                {"Error": {"Code": "KeyTooLongError", "Message": "Your key is too long"}}, model.name
            )

    s3.meta.events.register("before-parameter-build.s3", check)


def _long_key(total_bytes: int, char: str = "a") -> str:
    """An upload key ``uploads/<char...>.png`` of exactly ``total_bytes`` UTF-8 bytes."""
    body = total_bytes - len("uploads/.png")
    width = len(char.encode("utf-8"))
    assert body % width == 0, "pick a length the character divides"
    return "uploads/" + char * (body // width) + ".png"


def _record_keys(s3) -> list[str]:
    return [k for k in _keys(s3) if k.startswith("results/")]


# The shortest upload key whose mirrored result key (results/<key>.json) is over 1024 bytes.
FIRST_TOO_LONG_FOR_RESULT = 1024 - len("results/") - len(".json") + 1
FIRST_TOO_LONG_FOR_ERROR = 1024 - len("results/") - len(".error.json") + 1


@pytest.mark.parametrize("char", ["a", "发"])
def test_longest_mirrored_key_keeps_its_place(objects, engine, char):
    s3 = objects.s3
    _enforce_s3_key_limit(s3)
    length = FIRST_TOO_LONG_FOR_RESULT - 1
    length -= (length - len("uploads/.png")) % len(char.encode("utf-8"))
    key = _long_key(length, char)
    s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())

    assert objects.process_object(BUCKET, key) == "ok"
    assert _record_keys(s3) == [f"results/{key}.json"]


@pytest.mark.parametrize(
    ("total_bytes", "char"),
    [(FIRST_TOO_LONG_FOR_RESULT, "a"), (1024, "a"), (1023, "发"), (FIRST_TOO_LONG_FOR_RESULT + 2, "发")],
)
def test_too_long_key_gets_a_hashed_result_record(objects, engine, context, total_bytes, char):
    import hashlib

    s3 = objects.s3
    _enforce_s3_key_limit(s3)
    key = _long_key(total_bytes, char)
    assert len(key.encode("utf-8")) == total_bytes
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    event = load_event("s3_put_direct.json", etag=put["ETag"].strip('"'), version=put["VersionId"])
    event["Records"][0]["s3"]["object"]["key"] = quote_plus(key)

    assert objects.handler(event, context) == {"results": [{"key": key, "status": "ok"}]}
    expected = f"results/_long-keys/{hashlib.sha256(key.encode('utf-8')).hexdigest()}.json"
    assert _record_keys(s3) == [expected]
    record = _get_json(s3, expected)
    assert record["success"] is True
    assert record["source"]["key"] == key
    assert record["source"]["version_id"] == put["VersionId"]

    # Idempotent: the same notification again finds the record at the short key.
    assert objects.handler(event, context) == {"results": [{"key": key, "status": "duplicate"}]}
    assert len(engine.calls) == 1
    # The record itself, should its notification arrive, is never processed.
    assert objects.process_object(BUCKET, expected) == "skipped"
    assert len(engine.calls) == 1


@pytest.mark.parametrize("char", ["a", "发"])
def test_too_long_key_gets_a_hashed_error_record_then_a_result(objects, engine, char):
    s3 = objects.s3
    _enforce_s3_key_limit(s3)
    length = FIRST_TOO_LONG_FOR_ERROR + (-(FIRST_TOO_LONG_FOR_ERROR - len("uploads/.png"))) % len(char.encode("utf-8"))
    key = _long_key(length, char)
    # Short enough for a mirrored result, too long for a mirrored error record.
    assert len(f"results/{key}.json".encode()) <= 1024 < len(f"results/{key}.error.json".encode())
    from ocr_service.keys import error_key

    err_key = error_key(key, "results/")
    assert err_key.startswith("results/_long-keys/") and err_key.endswith(".error.json")

    s3.put_object(Bucket=BUCKET, Key=key, Body=corrupt_png())
    assert objects.process_object(BUCKET, key) == "failed"
    assert _record_keys(s3) == [err_key]
    record = _get_json(s3, err_key)
    assert record["error"]["code"] == "undecodable_image"
    assert record["source"]["key"] == key
    # A permanent failure is recorded once.
    assert objects.process_object(BUCKET, key, etag=record["source"]["etag"]) == "duplicate"

    # A transient failure is recorded as retryable and raised (the message is retried) ...
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"BOOM")
    with pytest.raises(RuntimeError):
        objects.process_object(BUCKET, key)
    assert _get_json(s3, err_key)["error"]["retryable"] is True
    # ... and a later success replaces the error record.
    s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    assert objects.process_object(BUCKET, key) == "ok"
    assert _record_keys(s3) == [f"results/{key}.json"]


def test_record_keys_are_deterministic_distinct_and_fit():
    from ocr_service.keys import (
        MAX_KEY_BYTES,
        MAX_SUFFIX_BYTES,
        error_key,
        longest_results_prefix,
        output_key,
        record_key,
        result_key,
        status_key,
    )

    keys = [_long_key(1024, "a"), _long_key(1023, "发"), _long_key(1020, "a"), _long_key(1021, "a")]
    written = {result_key(k, "results/") for k in keys} | {error_key(k, "results") for k in keys}
    assert len(written) == 2 * len(keys)
    assert result_key(keys[0], "results/") == result_key(keys[0], "results")
    prefix = "p" * longest_results_prefix()
    for k in keys:  # every record of an upload fits: result, error, status, output formats
        for record in (error_key(k, prefix), status_key(k, prefix), output_key(k, prefix, "textract.json")):
            assert len(record.encode()) <= MAX_KEY_BYTES, record
    longest = "." + "x" * (MAX_SUFFIX_BYTES - 1)
    assert len(record_key(keys[0], prefix, longest).encode()) == MAX_KEY_BYTES
    assert len(record_key(keys[0], prefix + "p", longest).encode()) > MAX_KEY_BYTES


def test_results_prefix_too_long_for_any_record_is_refused():
    from ocr_engine.errors import ConfigError
    from ocr_service.keys import longest_results_prefix
    from ocr_service.settings import Settings

    Settings.from_env({"OCR_RESULTS_PREFIX": "r" * longest_results_prefix() + "/"})
    with pytest.raises(ConfigError):
        Settings.from_env({"OCR_RESULTS_PREFIX": "r" * (longest_results_prefix() + 1) + "/"})


# ---------------------------------------------------------------- ordering: stale events
PLAIN = "test-plain"  # an unversioned bucket


def _event(bucket: str, key: str, put: dict[str, Any] | None, sequencer: str | None) -> dict[str, Any]:
    """A direct S3 event for the object ``put`` wrote (its ETag and version id, if any)."""
    event = load_event("s3_put_direct.json", etag="", version="")
    obj = event["Records"][0]["s3"]["object"]
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    obj["key"] = quote_plus(key)
    obj.pop("versionId")
    obj.pop("sequencer")
    if put is not None:
        obj["eTag"] = put["ETag"].strip('"')
        if put.get("VersionId"):
            obj["versionId"] = put["VersionId"]
    if sequencer is not None:
        obj["sequencer"] = sequencer
    return event


def _record_versions(s3, bucket: str, key: str) -> int:
    out = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return sum(1 for v in out.get("Versions", []) if v["Key"] == key)


def _record_writes(s3, bucket: str, key: str) -> list[str]:
    """Count (from now on) the result-record PUTs the handler's client sends for ``key``."""
    seen: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        if params.get("Bucket") == bucket and params.get("Key") == key:
            seen.append(key)

    s3.meta.events.register("before-parameter-build.s3.PutObject", count)
    return seen


@pytest.mark.parametrize("versioned", [True, False], ids=["versioned", "unversioned"])
@pytest.mark.parametrize("sequencers", [True, False], ids=["sequencer", "no-sequencer"])
def test_late_duplicate_of_an_older_version_never_overwrites_the_newer_result(
    objects, engine, context, versioned, sequencers
):
    s3 = objects.s3
    bucket = BUCKET if versioned else PLAIN
    if not versioned:
        s3.create_bucket(Bucket=PLAIN)
    key = "uploads/票据 v.png"
    out = f"results/{key}.json"
    put1 = s3.put_object(Bucket=bucket, Key=key, Body=png_bytes(40, 20))
    v1 = _event(bucket, key, put1, "0055AED6DCD90281E5" if sequencers else None)
    assert objects.handler(v1, context)["results"][0]["status"] == "ok"
    put2 = s3.put_object(Bucket=bucket, Key=key, Body=png_bytes(60, 30))
    # (A longer sequencer is later: compared as left-padded hex, not as text.)
    v2 = _event(bucket, key, put2, "0055AED6DCD9028200FF" if sequencers else None)
    assert objects.handler(v2, context)["results"][0]["status"] == "ok"
    record = json.loads(s3.get_object(Bucket=bucket, Key=out)["Body"].read())
    assert record["source"]["etag"] == put2["ETag"].strip('"')
    calls, writes = len(engine.calls), _record_writes(s3, bucket, out)

    # standard SQS: v1's notification again, late (and again, in the SQS shape)
    assert objects.handler(v1, context) == {"results": [{"key": key, "status": "stale"}]}
    message = {"messageId": "late-v1", "receiptHandle": "rh", "body": json.dumps(v1), "attributes": {},
               "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:images", "awsRegion": "us-east-1"}
    assert objects.handler({"Records": [message]}, context) == {"batchItemFailures": []}  # acknowledged

    assert len(engine.calls) == calls and writes == []  # no OCR, no write
    after = json.loads(s3.get_object(Bucket=bucket, Key=out)["Body"].read())
    assert after == record
    assert after["source"]["version_id"] == (put2["VersionId"] if versioned else None)
    if versioned:
        assert _record_versions(s3, bucket, out) == 2  # v1's record, then v2's: nothing after
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert sorted(o["Key"] for o in listed if o["Key"].startswith("results/")) == [out]  # no claim left


def test_late_older_event_without_etag_is_ordered_by_its_sequencer(objects, engine, context):
    """An event without an ETag (as some emulators send) still never goes back in time."""
    s3 = objects.s3
    key = "uploads/no-etag.png"
    s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    assert objects.handler(_event(BUCKET, key, None, "02"), context)["results"][0]["status"] == "ok"
    head = s3.head_object(Bucket=BUCKET, Key=f"results/{key}.json")
    assert head["Metadata"]["source-sequencer"] == "02"

    assert objects.handler(_event(BUCKET, key, None, "01"), context)["results"][0]["status"] == "stale"
    assert len(engine.calls) == 1
    assert s3.head_object(Bucket=BUCKET, Key=f"results/{key}.json")["ETag"] == head["ETag"]


def test_same_bytes_uploaded_again_make_the_older_event_stale(objects, engine, context):
    """Same ETag, newer version: the older version's late event does not rewrite the record."""
    s3 = objects.s3
    key = "uploads/again.png"
    put1 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    put2 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    assert put1["ETag"] == put2["ETag"] and put1["VersionId"] != put2["VersionId"]
    assert objects.handler(_event(BUCKET, key, put2, None), context)["results"][0]["status"] == "ok"
    assert objects.handler(_event(BUCKET, key, put1, None), context)["results"][0]["status"] == "stale"
    assert _get_json(s3, f"results/{key}.json")["source"]["version_id"] == put2["VersionId"]
    assert len(engine.calls) == 1


@pytest.mark.parametrize("sequencers", [True, False], ids=["sequencer", "no-sequencer"])
def test_newer_version_written_during_the_older_ocr_wins(objects, engine, context, monkeypatch, sequencers):
    """v1's OCR is still running when v2 is uploaded and processed: v1's write loses."""
    s3 = objects.s3
    key = "uploads/race.png"
    put1 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes(40, 20))
    real_run = engine.run
    state: dict[str, Any] = {}

    def run(data, direction=None):
        result = real_run(data, direction)
        if "v2" not in state:  # during v1's OCR: v2 arrives and is processed first
            state["v2"] = put2 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes(60, 30))
            state["v2_status"] = objects.process_object(
                BUCKET, key, version_id=put2["VersionId"], etag=put2["ETag"], sequencer="0B" if sequencers else None
            )
        return result

    monkeypatch.setattr(engine, "run", run)
    status = objects.process_object(
        BUCKET, key, version_id=put1["VersionId"], etag=put1["ETag"], sequencer="0A" if sequencers else None
    )
    assert (status, state["v2_status"]) == ("stale", "ok")
    record = _get_json(s3, f"results/{key}.json")
    assert record["source"]["version_id"] == state["v2"]["VersionId"]
    assert _record_versions(s3, BUCKET, f"results/{key}.json") == 1
    assert not [k for k in _keys(s3) if "/_claims/" in k]


def test_stale_event_leaves_no_error_record(objects, engine, context):
    """v1 was corrupt, v2 is fine: v1's late event writes no error record next to v2's result."""
    s3 = objects.s3
    key = "uploads/fixed.png"
    put1 = s3.put_object(Bucket=BUCKET, Key=key, Body=corrupt_png())
    put2 = s3.put_object(Bucket=BUCKET, Key=key, Body=png_bytes())
    assert objects.handler(_event(BUCKET, key, put2, "02"), context)["results"][0]["status"] == "ok"
    assert objects.handler(_event(BUCKET, key, put1, "01"), context)["results"][0]["status"] == "stale"
    assert _record_keys(s3) == [f"results/{key}.json"]


def test_sequencers_compare_as_left_padded_hex():
    from ocr_service.store import sequencer_after

    assert sequencer_after("0A", "9") is True  # 10 > 9, though "0A" < "9" as text
    assert sequencer_after("0055AED6DCD9028200FF", "0055AED6DCD90281E5") is True
    assert sequencer_after("00FF", "FF") is False and sequencer_after("FF", "00FF") is False
    assert sequencer_after("01", "02") is False
    assert sequencer_after(None, "01") is None and sequencer_after("01", "") is None
    assert sequencer_after("zz", "01") is None


# ---------------------------------------------------------------- documents (the fan-out: test_fanout.py)
def test_document_settings_from_env():
    from ocr_engine.errors import ConfigError
    from ocr_service.settings import Settings

    s = Settings.from_env({"OCR_QUEUE_URL": " https://sqs.example/q ", "OCR_MAX_DOCUMENT_BYTES": "1000",
                           "OCR_PAGES_PER_TASK": "4", "OCR_MAX_PAGES": "50"})
    assert (s.queue_url, s.max_document_bytes, s.pages_per_task, s.max_pages) == ("https://sqs.example/q", 1000, 4, 50)
    assert Settings.from_env({}).queue_url is None and Settings.from_env({}).max_document_bytes == 100 * 2**20
    with pytest.raises(ConfigError):
        Settings.from_env({"OCR_PAGES_PER_TASK": "0"})


def test_documents_have_their_own_size_limit(objects, engine, monkeypatch):
    """``.pdf`` / ``.tif`` / ``.tiff`` uploads (any case) are read up to OCR_MAX_DOCUMENT_BYTES."""
    from dataclasses import replace

    from ocr_service.handlers import object_state
    from ocr_service.s3_store import S3Store

    s3 = objects.s3
    monkeypatch.setattr(object_state, "store", S3Store(s3, max_image_bytes=100))
    monkeypatch.setattr(object_state, "SETTINGS", replace(object_state.SETTINGS, max_image_bytes=100, max_document_bytes=5000))
    image = png_bytes(80, 80) + b"\0" * 200
    for key in ("uploads/big.png", "uploads/SCAN.PDF", "uploads/huge.tiff"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=image if key != "uploads/huge.tiff" else image * 30)

    assert objects.process_object(BUCKET, "uploads/big.png") == "failed"
    assert "the limit is 100" in _get_json(s3, "results/uploads/big.png.error.json")["error"]["message"]
    assert objects.process_object(BUCKET, "uploads/SCAN.PDF") == "ok"  # read: under the document limit
    assert objects.process_object(BUCKET, "uploads/huge.tiff") == "failed"
    assert "the limit is 5000" in _get_json(s3, "results/uploads/huge.tiff.error.json")["error"]["message"]
    assert len(engine.calls) == 1
