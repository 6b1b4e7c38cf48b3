"""S3 notifications through standard SQS: duplicates at the same time, late older versions.

Standard SQS delivers at least once and in no particular order, so one upload's message can
reach several workers at once, and an older version's notification can come after a newer
one's. The object handler must write each version's record once, and never let an older
version overwrite a newer version's record; a worker that dies holding a claim must not
lose the upload. Each test thread stands for one Lambda execution environment running the
handler's per-message function.

S3 evaluates a conditional write (``If-None-Match`` / ``If-Match``) atomically; moto checks
the condition and then stores, so two threads could both pass the check. The
``atomic_s3`` fixture holds one lock around moto's PutObject / DeleteObject to give moto
S3's guarantee, which is what the handler relies on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from support.reliability import s3_event, s3_record, sqs_event, sqs_message

BUCKET = "dup-images"
REGION = "us-east-1"
WORKERS = 5


class CountingEngine:
    """A stand-in OCR engine: reads the image's size as its text, slowly, and counts runs."""

    def __init__(self, seconds: float = 0.3) -> None:
        self.seconds = seconds
        self.calls: list[int] = []
        self.before: Callable[[], None] | None = None  # runs at the start of every OCR
        self._lock = threading.Lock()

    def model_info(self) -> dict[str, Any]:
        return {"name": "counting", "version": "0"}

    def run(self, data: bytes, direction: str | None = None) -> Any:
        from ocr_engine.schema import Line, ModelInfo, OcrResult

        with self._lock:
            self.calls.append(len(data))
        if self.before is not None:
            self.before()
        time.sleep(self.seconds)
        box = [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0], [0.0, 9.0]]
        return OcrResult(width=10, height=10, lines=[Line(f"{len(data)} bytes", 0.9, box)],
                         model=ModelInfo("counting", "0"), timings_ms={"total": self.seconds * 1000})


@pytest.fixture
def atomic_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3.responses import S3Response

    lock = threading.Lock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(S3Response, name, locked)


def _wire(monkeypatch: pytest.MonkeyPatch, s3: Any) -> tuple[Any, CountingEngine]:
    from ocr_service.handlers import runtime

    engine = CountingEngine()
    monkeypatch.setattr(runtime, "_engine", engine)  # before the handler's import; restored after
    from ocr_service.handlers import object_state, objects
    from ocr_service.s3_store import S3Store

    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setattr(object_state, "store", S3Store(s3, object_state.SETTINGS.max_image_bytes))
    return objects, engine


@pytest.fixture
def env(atomic_s3: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Moto S3 (a versioned bucket, as in the template), the handler and a counting engine."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        objects, engine = _wire(monkeypatch, s3)
        yield {"s3": s3, "objects": objects, "engine": engine}


# ---------------------------------------------------------------- helpers
def upload(env: dict[str, Any], key: str, body: bytes, sequencer: str) -> dict[str, Any]:
    """Put an object; its SQS message (the S3 notification, as the bucket would send it)."""
    put = env["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
    record = s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"], size=len(body))
    record["s3"]["object"]["sequencer"] = sequencer
    return {"put": put, "message": sqs_message(s3_event(record)), "body": body}


def image(n: int) -> bytes:
    from support.hostile_corpus import CANARY

    return CANARY() + b"\0" * n  # distinct sizes, distinct texts


def deliver(env: dict[str, Any], message: dict[str, Any]) -> str:
    """One worker's run of the handler's per-message function on ``message``."""
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return env["objects"]._sqs_record(SQSRecord(message))


def at_once(jobs: list[Callable[[], str]]) -> list[str]:
    """Run the jobs in threads released together; their outcomes (or exception names)."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    outcomes: list[str] = [""] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = jobs[i]()
        except BaseException as err:  # noqa: BLE001 - reported in the outcome
            outcomes[i] = f"raised {type(err).__name__}: {err}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return outcomes


def record_of(env: dict[str, Any], key: str, suffix: str = ".json") -> dict[str, Any]:
    return json.loads(env["s3"].get_object(Bucket=BUCKET, Key=f"results/{key}{suffix}")["Body"].read())


def versions(env: dict[str, Any], key: str) -> int:
    out = env["s3"].list_object_versions(Bucket=BUCKET, Prefix=key)
    return sum(1 for v in out.get("Versions", []) if v["Key"] == key)


def listed(env: dict[str, Any], prefix: str) -> list[str]:
    return sorted(o["Key"] for o in env["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def count_puts(env: dict[str, Any], key: str) -> list[str]:
    """PutObject requests (attempts, won or lost) for ``key`` from now on."""
    seen: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == key:
            seen.append(params.get("IfMatch") or params.get("IfNoneMatch") or "unconditional")

    env["s3"].meta.events.register("before-parameter-build.s3.PutObject", count)
    return seen


def assert_record_is(env: dict[str, Any], key: str, up: dict[str, Any]) -> None:
    record = record_of(env, key)
    assert record["success"] is True
    assert record["text"] == f"{len(up['body'])} bytes"
    assert record["source"] == {
        "bucket": BUCKET, "key": key, "etag": up["put"]["ETag"].strip('"'), "version_id": up["put"]["VersionId"],
        "size": len(up["body"]), "content_type": "binary/octet-stream",
    }
    head = env["s3"].head_object(Bucket=BUCKET, Key=f"results/{key}.json")
    assert head["Metadata"]["source-version"] == up["put"]["VersionId"]


# ---------------------------------------------------------------- concurrent duplicates
def test_five_workers_on_one_message_run_the_ocr_once_and_write_once(env: dict[str, Any]) -> None:
    key = "uploads/同时 5.png"
    up = upload(env, key, image(5), "0055AED6DCD90281E5")
    puts = count_puts(env, f"results/{key}.json")

    outcomes = at_once([lambda: deliver(env, up["message"])] * WORKERS)

    assert sorted(outcomes) == ["duplicate"] * (WORKERS - 1) + ["ok"], outcomes
    assert env["engine"].calls == [len(up["body"])]  # the claim: one OCR run
    assert puts == ["*"]  # one result write, and it was the first (If-None-Match: *)
    assert versions(env, f"results/{key}.json") == 1
    assert_record_is(env, key, up)
    assert listed(env, "results/") == [f"results/{key}.json"]  # no claim, no error record left


def test_five_workers_that_all_ran_the_ocr_still_write_one_record(env: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Correctness does not rest on the claim: with every claim granted, all five run the
    OCR at the same moment, and the conditional write still lets exactly one store it."""
    from ocr_service.handlers import object_state
    from ocr_service.store import Claim

    monkeypatch.setattr(object_state.store, "try_claim", lambda bucket, key, **_: Claim(key, True, "", 0.0))
    monkeypatch.setattr(object_state.store, "release_claim", lambda *a, **k: None)
    barrier = threading.Barrier(WORKERS, timeout=30)
    env["engine"].before = barrier.wait  # all five inside the OCR together
    key = "uploads/all-five.png"
    up = upload(env, key, image(7), "01")
    puts = count_puts(env, f"results/{key}.json")

    outcomes = at_once([lambda: deliver(env, up["message"])] * WORKERS)

    assert sorted(outcomes) == ["duplicate"] * (WORKERS - 1) + ["ok"], outcomes
    assert len(env["engine"].calls) == WORKERS
    assert puts == ["*"] * WORKERS  # five conditional attempts ...
    assert versions(env, f"results/{key}.json") == 1  # ... one write
    assert_record_is(env, key, up)


def test_late_duplicates_of_v1_racing_v2_end_with_v2(env: dict[str, Any]) -> None:
    key = "uploads/v1-v2.png"
    v1 = upload(env, key, image(1), "0055AED6DCD90281E5")
    assert deliver(env, v1["message"]) == "ok"
    v2 = upload(env, key, image(2), "0055AED6DCD90281F0")

    jobs = [lambda: deliver(env, v1["message"])] * 3 + [lambda: deliver(env, v2["message"])] * 3
    outcomes = at_once(jobs)

    # acknowledged, never written: "duplicate" when v1's own record was still the one seen
    assert set(outcomes[:3]) <= {"stale", "duplicate"}, outcomes
    assert sorted(outcomes[3:]) == ["duplicate", "duplicate", "ok"], outcomes
    assert env["engine"].calls == [len(v1["body"]), len(v2["body"])]
    assert versions(env, f"results/{key}.json") == 2  # v1's record, then v2's
    assert_record_is(env, key, v2)
    # ... and later still, v1's notification once more
    assert deliver(env, v1["message"]) == "stale"
    assert_record_is(env, key, v2)


# ---------------------------------------------------------------- crashed and busy claimants
class Crash(BaseException):
    """The execution environment dies (timeout, out of memory): no except, no clean-up."""


def test_crash_after_the_claim_does_not_lose_the_upload(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.lambda_context import LambdaContext
    from ocr_service.handlers import object_state

    objects = env["objects"]
    key = "uploads/crash.png"
    up = upload(env, key, image(3), "0A")
    # The first worker claims the upload and dies during the OCR; its claim stays behind.
    monkeypatch.setattr(object_state, "DEFAULT_BUDGET_S", 0.8)  # its deadline: now + 0.8 s ...
    monkeypatch.setattr(object_state, "CLAIM_GRACE_S", 0.0)  # ... when its claim runs out
    release = object_state.store.release_claim
    monkeypatch.setattr(object_state.store, "release_claim", lambda *a, **k: None)  # dead: nothing runs

    def die() -> None:
        raise Crash

    env["engine"].before = die
    with pytest.raises(Crash):
        deliver(env, up["message"])
    claims = listed(env, "results/_claims/")
    assert len(claims) == 1 and listed(env, f"results/{key}") == []  # a claim, no record

    # SQS redelivers the message (in AWS after the visibility timeout; here at once, while
    # the dead worker's claim is still live): the retry waits for the claim to run out.
    monkeypatch.setattr(object_state.store, "release_claim", release)
    env["engine"].before = None
    t0 = time.monotonic()
    out = objects.handler(sqs_event(up["message"]), LambdaContext("retry", timeout_s=30))
    assert out == {"batchItemFailures": []}
    assert time.monotonic() - t0 < 10
    assert_record_is(env, key, up)
    assert listed(env, "results/") == [f"results/{key}.json"]  # the dead claim is gone too
    assert len(env["engine"].calls) == 2


def test_retry_after_the_crashed_claim_expired_runs_at_once(env: dict[str, Any]) -> None:
    from ocr_service.handlers import object_state
    from ocr_service.keys import claim_key

    key = "uploads/expired.png"
    up = upload(env, key, image(4), "0B")
    etag, version = up["put"]["ETag"].strip('"'), up["put"]["VersionId"]
    dead = object_state.store.try_claim(BUCKET, claim_key(key, "results/", version, etag), owner="dead-worker",
                                        expires_at=time.time() - 1, now=time.time() - 60, info={})
    assert dead.acquired
    t0 = time.monotonic()
    assert deliver(env, up["message"]) == "ok"
    assert time.monotonic() - t0 < 2 * env["engine"].seconds + 1  # no waiting on a dead claim
    assert_record_is(env, key, up)
    assert listed(env, "results/_claims/") == []


def test_live_claim_at_the_deadline_is_retried_not_acknowledged(env: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiting on a claim that outlives our own time: the message fails (SQS retries it);
    it is never acknowledged blind, since the holder may still fail."""
    from infra.lambda_context import LambdaContext
    from ocr_service.handlers import object_state
    from ocr_service.keys import claim_key

    objects = env["objects"]
    monkeypatch.setattr(object_state, "CLAIM_RESERVE_S", 1.0)
    key = "uploads/busy.png"
    busy = upload(env, key, image(6), "0C")
    other = upload(env, "uploads/other.png", image(8), "0D")
    etag, version = busy["put"]["ETag"].strip('"'), busy["put"]["VersionId"]
    holder = object_state.store.try_claim(BUCKET, claim_key(key, "results/", version, etag), owner="slow-worker",
                                          expires_at=time.time() + 2.0, now=time.time(), info={})
    assert holder.acquired

    out = objects.handler(sqs_event(busy["message"], other["message"]), LambdaContext("short", timeout_s=1.5))
    assert out == {"batchItemFailures": [{"itemIdentifier": busy["message"]["messageId"]}]}
    assert listed(env, f"results/{key}") == []  # no record, not even a retryable error record
    assert env["engine"].calls == [len(other["body"])]

    time.sleep(max(0.0, holder.expires_at - time.time()) + 0.1)  # the holder never finished
    out = objects.handler(sqs_event(busy["message"]), LambdaContext("retry", timeout_s=30))
    assert out == {"batchItemFailures": []}
    assert_record_is(env, key, busy)


# ---------------------------------------------------------------- over HTTP (moto server)
def test_conditional_writes_over_http_against_a_moto_server(atomic_s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same guarantees with a real HTTP S3 API (moto's server): the conditional headers
    are sent and the 412 answers understood as the handler expects."""
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=f"http://{host}:{port}",
                          config=Config(max_pool_connections=2 * WORKERS))
        objects, engine = _wire(monkeypatch, s3)
        env = {"s3": s3, "objects": objects, "engine": engine}
        key = "uploads/server.png"
        v1 = upload(env, key, image(11), "10")
        assert deliver(env, v1["message"]) == "ok"
        v2 = upload(env, key, image(12), "11")
        outcomes = at_once([lambda: deliver(env, v2["message"])] * WORKERS)
        assert sorted(outcomes) == ["duplicate"] * (WORKERS - 1) + ["ok"], outcomes
        assert deliver(env, v1["message"]) == "stale"
        assert engine.calls == [len(v1["body"]), len(v2["body"])]
        assert versions(env, f"results/{key}.json") == 2
        assert_record_is(env, key, v2)
        assert listed(env, "results/") == [f"results/{key}.json"]
    finally:
        server.stop()
