"""Faults: S3 errors and throttling, crashes mid-batch, duplicate delivery, self-triggering.

S3 faults are injected with a botocore ``before-send`` hook registered ahead of moto, so
botocore's own retry logic sees them exactly as it would see a real S3 error. The queue
tests use moto's SQS with the template's redrive policy and the local stack's worker
(``infra.worker.QueueWorker``), which deletes only the messages the handler did not
report in ``batchItemFailures``, as Lambda's event source mapping does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws

from support.hostile_corpus import CANARY
from support.reliability import s3_event, s3_record, sqs_event, sqs_message

BUCKET = "fault-images"
REGION = "us-east-1"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class S3Faults:
    """Answer chosen S3 operations with an error, a number of times (``None`` = always)."""

    def __init__(self, client: Any) -> None:
        self.rules: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        client.meta.events.register_first("before-send.s3.*", self._hook)

    def fail(self, operation: str, code: str, status: int, times: int | None = None,
             when: Callable[[str], bool] = lambda url: True) -> None:
        self.rules.append({"op": operation, "code": code, "status": status, "left": times, "when": when})

    def clear(self) -> None:
        self.rules.clear()

    def _hook(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        op = event_name.rsplit(".", 1)[-1]
        self.calls[op] = self.calls.get(op, 0) + 1
        for rule in self.rules:
            if rule["op"] == op and rule["when"](request.url) and (rule["left"] is None or rule["left"] > 0):
                if rule["left"] is not None:
                    rule["left"] -= 1
                body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{rule["code"]}</Code>'
                        f"<Message>injected fault</Message><RequestId>FAULT</RequestId></Error>").encode()
                return AWSResponse(request.url, rule["status"], {"Content-Type": "application/xml"}, _Raw(body))
        return None


class CountingEngine:
    """Wraps the real engine: counts calls, and can crash on chosen inputs."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.calls = 0
        self.crash_on: set[bytes] = set()

    def run(self, data: bytes, direction: str | None = None) -> Any:
        self.calls += 1
        if data in self.crash_on:
            raise RuntimeError("simulated crash while processing")
        return self.engine.run(data, direction)

    def model_info(self) -> dict[str, Any]:
        return self.engine.model_info()


@pytest.fixture
def env(real_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Moto S3 (versioned) + SQS queue and DLQ (template redrive), the handler, fault hooks."""
    from infra.template import stack_spec
    from ocr_service.handlers import runtime

    spec = stack_spec()
    with mock_aws():
        from ocr_service.handlers import object_state, objects
        from ocr_service.s3_store import S3Store

        s3 = boto3.client("s3", region_name=REGION)  # default retry settings, as in the handler
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        faults = S3Faults(s3)
        monkeypatch.setattr(object_state, "store", S3Store(s3, object_state.SETTINGS.max_image_bytes))
        engine = CountingEngine(real_engine)
        previous = runtime._engine
        runtime.set_engine(engine)
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="fault-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(QueueName="fault-queue", Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}),
        })["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        try:
            yield {"s3": s3, "sqs": sqs, "queue": queue, "queue_arn": queue_arn, "dlq": dlq, "faults": faults,
                   "engine": engine, "objects": objects, "spec": spec}
        finally:
            runtime.set_engine(previous)


def upload(env: dict[str, Any], key: str, body: bytes | None = None) -> dict[str, Any]:
    """Put an object and return its S3 notification (as the bucket would send it)."""
    put = env["s3"].put_object(Bucket=BUCKET, Key=key, Body=body if body is not None else CANARY())
    return s3_event(s3_record(BUCKET, key, etag=put["ETag"].strip('"'), version_id=put["VersionId"]))


def versions(env: dict[str, Any], key: str) -> int:
    out = env["s3"].list_object_versions(Bucket=BUCKET, Prefix=key)
    return sum(1 for v in out.get("Versions", []) if v["Key"] == key)


def record_of(env: dict[str, Any], key: str, suffix: str = ".json") -> dict[str, Any]:
    return json.loads(env["s3"].get_object(Bucket=BUCKET, Key=f"results/{key}{suffix}")["Body"].read())


def worker(env: dict[str, Any], handler: Callable[..., Any] | None = None) -> Any:
    from infra.worker import QueueWorker

    return QueueWorker(env["sqs"], env["queue"], env["queue_arn"], handler or env["objects"].handler,
                       batch_size=env["spec"].batch_size, wait_seconds=0)


def drain(env: dict[str, Any], w: Any, rounds: int = 8, pause: float = 1.15) -> None:
    """Poll until the queue is empty (failed messages reappear after the 1 s visibility timeout)."""
    for _ in range(rounds):
        while w.poll_once():
            pass
        attrs = env["sqs"].get_queue_attributes(
            QueueUrl=env["queue"], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            return
        time.sleep(pause)


def failed_ids(env: dict[str, Any], event: dict[str, Any], context: Any) -> list[str]:
    """Message ids the handler reports as failed (all of them when the whole batch failed)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    try:
        out = env["objects"].handler(event, context)
    except BatchProcessingError:  # every record failed: Lambda retries the whole batch
        return [r["messageId"] for r in event["Records"]]
    return [f["itemIdentifier"] for f in out["batchItemFailures"]]


def dlq_bodies(env: dict[str, Any]) -> list[str]:
    resp = env["sqs"].receive_message(QueueUrl=env["dlq"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [m["Body"] for m in resp.get("Messages", [])]


# ---------------------------------------------------------------- S3 faults
def test_transient_throttling_is_retried_by_botocore(env: dict[str, Any], context: Any) -> None:
    event = upload(env, "uploads/throttled.png")
    env["faults"].calls.clear()
    env["faults"].fail("GetObject", "SlowDown", 503, times=2)
    env["faults"].fail("PutObject", "SlowDown", 503, times=1)
    out = env["objects"].handler(sqs_event(sqs_message(event, "m1")), context)
    assert out == {"batchItemFailures": []}
    # PUTs: the claim (failed once by the fault, then retried) and the record.
    assert env["faults"].calls["GetObject"] == 3 and env["faults"].calls["PutObject"] == 3
    assert record_of(env, "uploads/throttled.png")["success"] is True
    # (The injected 503 comes after moto stored the first PUT, like a reply lost after the
    # write: the retried PUT writes the same record again, which is harmless.)


def test_persistent_read_failure_is_reported_for_retry(env: dict[str, Any], context: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_service.handlers import object_state
    from ocr_service.s3_store import S3Store

    quick = boto3.client("s3", region_name=REGION, config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    faults = S3Faults(quick)
    monkeypatch.setattr(object_state, "store", S3Store(quick, 20 * 2**20))
    event = upload(env, "uploads/unreadable.png")
    faults.fail("GetObject", "InternalError", 500)
    faults.calls.clear()
    assert failed_ids(env, sqs_event(sqs_message(event, "m1")), context) == ["m1"]
    assert faults.calls["GetObject"] == 2  # retried by botocore, then reported
    error = record_of(env, "uploads/unreadable.png", ".error.json")["error"]
    assert error["retryable"] is True and error["code"] == "internal_error"
    # The fault clears: the redelivered message succeeds and the stale error record goes away.
    faults.clear()
    assert env["objects"].handler(sqs_event(sqs_message(event, "m1")), context) == {"batchItemFailures": []}
    assert record_of(env, "uploads/unreadable.png")["success"] is True
    with pytest.raises(env["s3"].exceptions.NoSuchKey):
        record_of(env, "uploads/unreadable.png", ".error.json")


def test_access_denied_read_and_write_are_reported_not_swallowed(env: dict[str, Any], context: Any) -> None:
    event = upload(env, "uploads/denied.png")
    other = upload(env, "uploads/other.png")
    env["faults"].fail("GetObject", "AccessDenied", 403, when=lambda url: "denied" in url)
    batch = sqs_event(sqs_message(event, "m1"), sqs_message(other, "ok"))
    assert failed_ids(env, batch, context) == ["m1"]
    env["faults"].clear()
    env["faults"].fail("PutObject", "AccessDenied", 403,
                       when=lambda url: "results/uploads/denied" in url and "error" not in url)
    batch = sqs_event(sqs_message(event, "m2"), sqs_message(other, "ok"))
    assert failed_ids(env, batch, context) == ["m2"]  # the result could not be stored


def test_failing_message_ends_in_the_dead_letter_queue(env: dict[str, Any]) -> None:
    """Keeps failing -> received maxReceiveCount times -> moved to the DLQ; the good one is done."""
    env["faults"].fail("GetObject", "AccessDenied", 403, when=lambda url: "poison" in url)
    bad = upload(env, "uploads/poison.png")
    good = upload(env, "uploads/fine.png")
    env["sqs"].send_message(QueueUrl=env["queue"], MessageBody=json.dumps(bad))
    env["sqs"].send_message(QueueUrl=env["queue"], MessageBody=json.dumps(good))
    drain(env, worker(env))
    bodies = dlq_bodies(env)
    assert [json.loads(b)["Records"][0]["s3"]["object"]["key"] for b in bodies] == ["uploads/poison.png"]
    assert env["faults"].calls["GetObject"] >= env["spec"].max_receive_count
    assert record_of(env, "uploads/fine.png")["success"] is True
    assert versions(env, "results/uploads/fine.png.json") == 1


# ---------------------------------------------------------------- crashes, duplicates
def test_crash_of_one_record_mid_batch_loses_nothing(env: dict[str, Any], context: Any) -> None:
    keys = [f"uploads/batch-{i}.png" for i in range(4)]
    bodies = [CANARY() + bytes([i]) * 8 for i in range(4)]  # distinct objects (trailing bytes)
    events = [upload(env, k, b) for k, b in zip(keys, bodies)]
    env["engine"].crash_on = {bodies[1]}
    out = env["objects"].handler(sqs_event(*(sqs_message(e, f"m{i}") for i, e in enumerate(events))), context)
    assert out == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    for i in (0, 2, 3):
        assert record_of(env, keys[i])["success"] is True
    assert record_of(env, keys[1], ".error.json")["error"]["retryable"] is True


def test_invocation_crash_mid_batch_redelivers_everything_and_writes_once(env: dict[str, Any]) -> None:
    """The whole invocation dies after two records (timeout, out of memory): all four come back;
    the two already done are recognised as duplicates, so each result exists exactly once."""
    keys = [f"uploads/crash-{i}.png" for i in range(4)]
    for i, key in enumerate(keys):
        env["sqs"].send_message(QueueUrl=env["queue"], MessageBody=json.dumps(upload(env, key, CANARY() + bytes([i]))))
    handler = env["objects"].handler
    state = {"crashed": False}

    def dies_once(event: dict[str, Any], context: Any) -> Any:
        if not state["crashed"]:
            state["crashed"] = True
            half = {"Records": event["Records"][:2]}
            handler(half, context)  # these two finish ...
            raise MemoryError("simulated out-of-memory after two records")  # ... then the process dies
        return handler(event, context)

    w = worker(env, dies_once)
    drain(env, w)
    assert state["crashed"]
    for key in keys:
        assert record_of(env, key)["success"] is True
        assert versions(env, f"results/{key}.json") == 1
    assert dlq_bodies(env) == []


def test_duplicate_delivery_writes_the_result_once(env: dict[str, Any], context: Any) -> None:
    event = upload(env, "uploads/dup.png")
    calls = env["engine"].calls
    same_batch = env["objects"].handler(sqs_event(sqs_message(event, "a"), sqs_message(event, "b")), context)
    later = env["objects"].handler(sqs_event(sqs_message(event, "c")), context)
    assert same_batch == later == {"batchItemFailures": []}
    assert env["engine"].calls - calls == 1
    assert versions(env, "results/uploads/dup.png.json") == 1
    # A new version of the same key is new work: processed again, result replaced once more.
    event2 = upload(env, "uploads/dup.png", CANARY() + b"v2")
    assert env["objects"].handler(sqs_event(sqs_message(event2, "d")), context) == {"batchItemFailures": []}
    assert versions(env, "results/uploads/dup.png.json") == 2
    assert record_of(env, "uploads/dup.png")["source"]["version_id"] == event2["Records"][0]["s3"]["object"]["versionId"]


def test_function_never_triggers_on_its_own_output(env: dict[str, Any]) -> None:
    """With the template's notification rules on the bucket, writing results sends nothing."""
    spec = env["spec"]
    env["s3"].put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": f"rule-{i}", "QueueArn": env["queue_arn"], "Events": list(rule.events),
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": rule.prefix},
                                                {"Name": "suffix", "Value": rule.suffix}]}}}
            for i, rule in enumerate(spec.rules)
        ]})
    w = worker(env)
    w.poll_once()  # the s3:TestEvent sent when the notification is configured (skipped)
    for key in ("uploads/a.png", "uploads/b.jpg", "uploads/c.tif", "uploads/bad.png"):
        env["s3"].put_object(Bucket=BUCKET, Key=key, Body=CANARY() if "bad" not in key else b"not an image")
    received = 0
    for _ in range(5):
        n = w.poll_once()
        received += n
        if not n:
            break
    assert received == 4  # one message per upload; none for the results and error records
    keys = {o["Key"] for o in env["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "results/uploads/a.png.json" in keys and "results/uploads/bad.png.error.json" in keys
    time.sleep(1.2)
    assert w.poll_once() == 0
    # Even if a notification for a result did arrive, the handler would skip it.
    out = env["objects"].process_object(BUCKET, "results/uploads/a.png.json")
    assert out == "skipped"
