"""Documents through the bucket (moto S3 + SQS, in process): read in one go, or fanned out in
page ranges through the queue; other output formats beside the JSON record.

The engine is a fake that "reads" page ``n`` of a document as the line ``page n of <digest of
the bytes>``, so each page of a record says which page and which upload version it came from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from infra.bench_documents import pdf_from_pages
from infra.worker import sqs_event
from ocr_engine.schema import DocumentResult, Line, ModelInfo, OcrResult
from support.lambda_events import png_bytes

BUCKET = "test-documents"
REGION = "us-east-1"


# ---------------------------------------------------------------- stand-ins until the engine has them
def _standin_documents() -> ModuleType:
    """What the handler uses of ``ocr_engine.document``, for an engine without it (PDFs only)."""
    from ocr_engine.errors import InvalidInput, OcrError

    module = ModuleType("ocr_engine.document")

    class TooManyPages(InvalidInput):
        code = "too_many_pages"

    class UndecodableDocument(OcrError):
        code = "undecodable_document"

    @dataclasses.dataclass(frozen=True)
    class DocumentLimits:
        max_pages: int = 10

    def document_kind(data: bytes) -> str | None:
        return "pdf" if data.startswith(b"%PDF-") else None

    def page_count(data: bytes, limits: Any = None) -> int:
        return len(re.findall(rb"/Type /Page(?![s\w])", data))  # the PDFs of pdf_from_pages

    for item in (TooManyPages, UndecodableDocument, DocumentLimits, document_kind, page_count):
        setattr(module, item.__name__, item)
    return module


def _standin_formats() -> ModuleType:
    """What the handler uses of ``ocr_engine.formats``: ``FORMATS`` and ``render``."""
    module = ModuleType("ocr_engine.formats")

    @dataclasses.dataclass(frozen=True)
    class Format:
        extension: str
        media_type: str

    module.FORMATS = {  # type: ignore[attr-defined]
        "json": Format("json", "application/json"),
        "text": Format("txt", "text/plain; charset=utf-8"),
        "hocr": Format("hocr", "text/html; charset=utf-8"),
        "alto": Format("alto.xml", "application/xml"),
        "pdf": Format("pdf", "application/pdf"),
        "textract": Format("textract.json", "application/json"),
    }

    def render(result: Any, fmt: str, *, source: bytes | None = None) -> bytes:
        if fmt == "text":
            return result.text.encode("utf-8")
        if fmt == "pdf":
            assert source is not None, "the pdf format draws on the source"
            return b"%PDF-1.7 stand-in " + hashlib.sha256(source).hexdigest().encode()
        return json.dumps({"format": fmt, "text": result.text}, ensure_ascii=False).encode("utf-8")

    module.render = render  # type: ignore[attr-defined]
    return module


def _engine_module(name: str, standin: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    import importlib

    import ocr_engine

    try:
        return importlib.import_module(f"ocr_engine.{name}")
    except ImportError:
        module = standin()
        monkeypatch.setitem(sys.modules, f"ocr_engine.{name}", module)
        monkeypatch.setattr(ocr_engine, name, module, raising=False)
        return module


@pytest.fixture
def docs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _engine_module("document", _standin_documents, monkeypatch)


@pytest.fixture
def formats(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _engine_module("formats", _standin_formats, monkeypatch)


class DocumentEngine:
    """The session's fake image engine, plus ``run_document`` (see the module docstring)."""

    def __init__(self, images: Any, docs: ModuleType) -> None:
        self.images = images
        self.docs = docs
        self.ranges: list[tuple[int, int | None]] = []
        self.detectors_asked: list[str | None] = []
        self.fail_page: int | None = None

    def run(self, image_bytes: bytes, direction: str | None = None) -> OcrResult:
        return self.images.run(image_bytes, direction)

    def model_info(self) -> dict[str, Any]:
        return self.images.model_info()

    def run_document(self, data: bytes, *, direction: str | None = None, first_page: int = 1,
                     last_page: int | None = None, limits: Any = None, detector: str | None = None) -> DocumentResult:
        self.ranges.append((first_page, last_page))
        self.detectors_asked.append(detector)
        total = self.docs.page_count(data)
        last = total if last_page is None else min(last_page, total)
        if self.fail_page is not None and first_page <= self.fail_page <= last:
            raise self.docs.UndecodableDocument(f"page {self.fail_page} is damaged")
        digest = hashlib.sha256(data).hexdigest()[:8]
        box = [[10.0, 10.0], [200.0, 10.0], [200.0, 40.0], [10.0, 40.0]]
        pages = [OcrResult(width=595, height=842, lines=[Line(f"page {n} of {digest}", 0.9, box)],
                           model=ModelInfo("fake", "0")) for n in range(first_page, last + 1)]
        return DocumentResult(pages=pages, source_type="pdf", page_count=total, first_page=first_page,
                              dpi=[72.0] * len(pages), model=ModelInfo("fake", "0"),
                              timings_ms={"render": 1.0, "ocr": 2.0, "total": 3.0})


def _pdf(pages: int, shade: int = 255) -> bytes:
    """A small PDF of blank pages (``shade`` changes the bytes: another upload version)."""
    return pdf_from_pages([np.full((88, 62), shade, np.uint8)] * pages)


@pytest.fixture
def env(engine: Any, docs: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler on a versioned moto bucket, its task queue on moto SQS, ranges of 3 pages."""
    with mock_aws():
        from ocr_service.fanout import SqsTaskQueue
        from ocr_service.handlers import object_job, object_state, objects, page_ranges, runtime
        from ocr_service.s3_store import S3Store

        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="tasks")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        monkeypatch.setattr(object_state, "store", S3Store(s3, object_state.SETTINGS.max_image_bytes))
        monkeypatch.setattr(page_ranges, "task_queue", SqsTaskQueue(sqs, url))
        doc_engine = DocumentEngine(engine, docs)
        monkeypatch.setattr(runtime, "_engine", doc_engine)
        state = SimpleNamespace(objects=objects, object_state=object_state, object_job=object_job,
                                page_ranges=page_ranges, s3=s3, sqs=sqs, url=url, arn=arn, engine=doc_engine)

        def configure(**changes: Any) -> None:
            monkeypatch.setattr(object_state, "SETTINGS", dataclasses.replace(object_state.SETTINGS, **changes))

        state.configure = configure
        configure(pages_per_task=3, queue_url=url, output_formats=("json",))
        yield state


def _keys(s3: Any, prefix: str = "") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def _json(s3: Any, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _upload(env: Any, key: str, body: bytes, **extra: Any) -> dict[str, Any]:
    put = env.s3.put_object(Bucket=BUCKET, Key=key, Body=body, **extra)
    return {"etag": put["ETag"].strip('"'), "version_id": put["VersionId"], "digest": hashlib.sha256(body).hexdigest()[:8]}


def _process(env: Any, key: str, put: dict[str, Any]) -> str:
    return env.objects.process_object(BUCKET, key, version_id=put["version_id"], etag=put["etag"])


def _tasks(env: Any) -> list[dict[str, Any]]:
    """Every message waiting on the task queue (received once each, not deleted)."""
    out: list[dict[str, Any]] = []
    while True:
        got = env.sqs.receive_message(QueueUrl=env.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                      AttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        out.extend(got)


def _deliver(env: Any, *messages: dict[str, Any]) -> dict[str, Any]:
    from infra.lambda_context import LambdaContext

    return env.objects.handler(sqs_event(list(messages), env.arn, REGION), LambdaContext("fanout-test"))


def _record_versions(s3: Any, key: str) -> int:
    out = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    return sum(1 for v in out.get("Versions", []) if v["Key"] == key)


def _page_texts(record: dict[str, Any]) -> list[str]:
    return [" ".join(line["text"] for line in page["lines"]) for page in record["pages"]]


# ---------------------------------------------------------------- one invocation
def test_three_page_pdf_is_read_in_one_invocation(env):
    key = "uploads/报告 三页.pdf"
    put = _upload(env, key, _pdf(3), ContentType="application/pdf")

    assert _process(env, key, put) == "ok"

    record = _json(env.s3, f"results/{key}.json")
    assert record["success"] is True and record["source_type"] == "pdf"
    assert (record["page_count"], record["first_page"]) == (3, 1)
    assert _page_texts(record) == [f"page {n} of {put['digest']}" for n in (1, 2, 3)]
    assert record["source"]["key"] == key and record["source"]["version_id"] == put["version_id"]
    assert record["text"] == "\n\f".join(_page_texts(record)) and "processed_at" in record
    assert env.engine.ranges == [(1, None)]
    assert _tasks(env) == []  # nothing fanned out
    assert _keys(env.s3, "results/") == [f"results/{key}.json"]
    assert _process(env, key, put) == "duplicate" and env.engine.ranges == [(1, None)]


def test_too_many_pages_is_an_error_record(env):
    env.configure(max_pages=5)
    key = "uploads/厚书.pdf"
    put = _upload(env, key, _pdf(7))

    assert _process(env, key, put) == "failed"

    error = _json(env.s3, f"results/{key}.error.json")["error"]
    assert error["code"] == "too_many_pages" and error["status"] == 413 and error["retryable"] is False
    assert "7 pages" in error["message"]
    assert env.engine.ranges == [] and _tasks(env) == []


# ---------------------------------------------------------------- fan-out
def test_seven_pages_fan_out_in_ranges_of_three_in_any_order_and_twice(env):
    key = "uploads/长 报告.pdf"
    put = _upload(env, key, _pdf(7))
    writes: list[str] = []
    env.s3.meta.events.register(
        "before-parameter-build.s3.PutObject",
        lambda params, **_: writes.append(params["Key"]) if params["Key"] == f"results/{key}.json" else None,
    )

    assert _process(env, key, put) == "fanned_out"

    status = _json(env.s3, f"results/{key}.status.json")
    assert status["state"] == "running" and status["dispatched"] is True
    assert status["pages"] == 7 and status["ranges"] == {"total": 3, "done": 0, "completed": []}
    assert status["source"]["version_id"] == put["version_id"] and status["updated_at"]
    tasks = _tasks(env)
    bodies = [json.loads(m["Body"]) for m in tasks]
    assert sorted((b["first"], b["last"]) for b in bodies) == [(1, 3), (4, 6), (7, 7)]
    assert all(b["ranges"] == 3 and b["etag"] == put["etag"] and b["key"] == key for b in bodies)
    assert max(len(m["Body"].encode()) for m in tasks) < 400  # small: no page data travels
    assert env.engine.ranges == []  # the upload's invocation read no page
    # The upload's notification again: the tasks were sent, none is sent twice.
    assert _process(env, key, put) == "duplicate" and _tasks(env) == []

    order = tasks[:]
    random.Random(7).shuffle(order)
    order.insert(2, order[0])  # one range delivered twice, before the document is complete
    order.append(order[1])  # and one again after it was assembled
    for message in order:
        assert _deliver(env, message) == {"batchItemFailures": []}

    record = _json(env.s3, f"results/{key}.json")
    assert _page_texts(record) == [f"page {n} of {put['digest']}" for n in range(1, 8)]
    assert (record["page_count"], record["first_page"], record["source_type"]) == (7, 1, "pdf")
    assert record["source"]["etag"] == put["etag"] and len(record["dpi"]) == 7
    assert record["timings_ms"]["total"] == 9.0  # the three ranges' timings, summed
    # the record an invocation reading the whole document would have written
    fields = {k: v for k, v in record.items() if k not in ("success", "source", "processed_at")}
    assert record["success"] is True and DocumentResult.from_dict(record).to_dict() == fields
    assert list(record) == ["success", *DocumentResult.from_dict(record).to_dict(), "source", "processed_at"]
    assert writes == [f"results/{key}.json"] and _record_versions(env.s3, f"results/{key}.json") == 1
    assert sorted(env.engine.ranges) == [(1, 3), (4, 6), (7, 7)]  # each range read once
    status = _json(env.s3, f"results/{key}.status.json")
    assert status["state"] == "done" and status["ranges"]["done"] == status["ranges"]["total"] == 3
    assert status["ranges"]["completed"] == ["1-3", "4-6", "7-7"] and status["result_key"] == f"results/{key}.json"
    assert _keys(env.s3, "results/") == [f"results/{key}.json", f"results/{key}.status.json"]  # parts, claims gone
    assert _process(env, key, put) == "duplicate"


def test_the_uploads_detector_is_applied_by_every_range(env):
    key = "uploads/相册.pdf"
    put = _upload(env, key, _pdf(7), Metadata={"ocr-detector": "learned"})

    assert _process(env, key, put) == "fanned_out"
    assert _json(env.s3, f"results/{key}.status.json")["detector"] == "learned"
    for message in _tasks(env):
        assert _deliver(env, message) == {"batchItemFailures": []}
    assert sorted(env.engine.ranges) == [(1, 3), (4, 6), (7, 7)]
    assert env.engine.detectors_asked == ["learned"] * 3
    assert _page_texts(_json(env.s3, f"results/{key}.json")) == [f"page {n} of {put['digest']}" for n in range(1, 8)]
    other = "uploads/plain.pdf"
    assert _process(env, other, _upload(env, other, _pdf(4))) == "fanned_out"
    assert _json(env.s3, f"results/{other}.status.json")["detector"] is None  # the configured one


@pytest.mark.parametrize("claims", [True, False], ids=["assembly-claim", "claims-bypassed"])
def test_two_last_ranges_at_once_write_the_document_once(env, monkeypatch, claims):
    """While one worker assembles, another completes the same last range (a redelivery)."""
    from ocr_service.fanout import RangeTask
    from ocr_service.store import Claim

    objects = env.objects
    key = "uploads/race.pdf"
    put = _upload(env, key, _pdf(7))
    assert _process(env, key, put) == "fanned_out"
    tasks = sorted(_tasks(env), key=lambda m: json.loads(m["Body"])["first"])
    for message in tasks[:2]:
        _deliver(env, message)
    if not claims:
        monkeypatch.setattr(env.object_state.store, "try_claim", lambda bucket, key, **kw: Claim(key, True, "", kw["expires_at"]))
        monkeypatch.setattr(env.object_state.store, "release_claim", lambda *a, **k: None)
    real = env.object_job._commit
    seen: dict[str, str] = {}

    def racing(job, key, *args, **kwargs):
        if key == job.out_key and "other" not in seen:  # just before the first worker's write: the second one
            seen["other"] = "running"
            seen["other"] = objects.process_range(RangeTask.from_body(json.loads(tasks[2]["Body"])))
        return real(job, key, *args, **kwargs)

    monkeypatch.setattr(env.object_job, "_commit", racing)
    first = objects.process_range(RangeTask.from_body(json.loads(tasks[2]["Body"])))

    assert (first, seen["other"]) == (("assembled", "ok") if claims else ("duplicate", "assembled"))
    assert _record_versions(env.s3, f"results/{key}.json") == 1
    assert _page_texts(_json(env.s3, f"results/{key}.json")) == [f"page {n} of {put['digest']}" for n in range(1, 8)]
    assert _json(env.s3, f"results/{key}.status.json")["state"] == "done"
    assert not [k for k in _keys(env.s3) if "/_parts/" in k or "/_claims/" in k]


def test_range_of_an_upload_replaced_meanwhile_is_stale_and_versions_never_mix(env):
    key = "uploads/改过.pdf"
    v1 = _upload(env, key, _pdf(7))
    assert _process(env, key, v1) == "fanned_out"
    old_tasks = sorted(_tasks(env), key=lambda m: json.loads(m["Body"])["first"])
    _deliver(env, old_tasks[0])  # pages 1-3 of v1 read before the upload changed

    v2 = _upload(env, key, _pdf(7, shade=200))
    assert v2["etag"] != v1["etag"]
    for message in old_tasks[1:]:
        assert _deliver(env, message) == {"batchItemFailures": []}  # acknowledged: stale
    assert sorted(env.engine.ranges) == [(1, 3)]  # v1's other ranges were never read
    assert f"results/{key}.json" not in _keys(env.s3, "results/")

    assert _process(env, key, v2) == "fanned_out"
    new_tasks = _tasks(env)
    for message in [*new_tasks, old_tasks[0]]:  # v1's first range again, late
        assert _deliver(env, message) == {"batchItemFailures": []}
    record = _json(env.s3, f"results/{key}.json")
    assert _page_texts(record) == [f"page {n} of {v2['digest']}" for n in range(1, 8)]
    assert record["source"]["version_id"] == v2["version_id"]
    status = _json(env.s3, f"results/{key}.status.json")
    assert status["state"] == "done" and status["source"]["version_id"] == v2["version_id"]
    from ocr_service.keys import parts_prefix

    # v2's parts are gone; the part v1 left behind is the lifecycle rule's (results/_parts/).
    assert _keys(env.s3, parts_prefix(key, "results/", v2["version_id"], v2["etag"])) == []
    assert _keys(env.s3, parts_prefix(key, "results/", v1["version_id"], v1["etag"])) != []


def test_a_range_that_cannot_be_read_fails_the_document(env):
    key = "uploads/坏页.pdf"
    put = _upload(env, key, _pdf(7))
    assert _process(env, key, put) == "fanned_out"
    env.engine.fail_page = 5
    tasks = sorted(_tasks(env), key=lambda m: json.loads(m["Body"])["first"])
    out = _deliver(env, *tasks)

    assert out == {"batchItemFailures": []}  # a permanent failure: recorded, not retried
    error = _json(env.s3, f"results/{key}.error.json")["error"]
    assert error["code"] == "undecodable_document" and error["status"] == 422
    assert error["message"].startswith("pages 4-6: ") and error["retryable"] is False
    status = _json(env.s3, f"results/{key}.status.json")
    assert status["state"] == "failed" and status["error"]["code"] == "undecodable_document"
    assert f"results/{key}.json" not in _keys(env.s3, "results/")
    assert (7, 7) not in env.engine.ranges  # the range after the failure did not read its pages


def test_a_crashed_assembler_is_completed_by_its_retried_task(env, monkeypatch):
    key = "uploads/崩溃.pdf"
    put = _upload(env, key, _pdf(4))
    assert _process(env, key, put) == "fanned_out"
    tasks = _tasks(env)
    real = env.object_job._commit
    calls = {"n": 0}

    def crash(job, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the container died")
        return real(job, *args, **kwargs)

    monkeypatch.setattr(env.object_job, "_commit", crash)
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    assert _deliver(env, tasks[0]) == {"batchItemFailures": []}
    with pytest.raises(BatchProcessingError):  # the batch's only message failed: all of it is retried
        _deliver(env, tasks[1])
    assert f"results/{key}.json" not in _keys(env.s3, "results/")

    assert _deliver(env, tasks[-1]) == {"batchItemFailures": []}  # the queue's retry
    assert _page_texts(_json(env.s3, f"results/{key}.json")) == [f"page {n} of {put['digest']}" for n in range(1, 5)]
    assert len(env.engine.ranges) == 2  # nothing read twice


def test_a_range_late_in_a_short_invocation_is_sent_back_to_the_queue(env):
    from infra.lambda_context import LambdaContext

    key = "uploads/批量.pdf"
    put = _upload(env, key, _pdf(7))
    assert _process(env, key, put) == "fanned_out"
    tasks = sorted(_tasks(env), key=lambda m: json.loads(m["Body"])["first"])
    # 3 pages need 3 x 2 s + 10 s: with 12 s left, only the batch's first record runs.
    out = env.objects.handler(sqs_event(tasks[:2], env.arn, REGION), LambdaContext("short", timeout_s=12))
    assert out == {"batchItemFailures": []}  # both acknowledged: the second as a fresh message
    assert env.engine.ranges == [(1, 3)]
    again = _tasks(env)
    assert [json.loads(m["Body"]) for m in again] == [json.loads(tasks[1]["Body"])]
    for message in [*again, tasks[2]]:
        _deliver(env, message)
    assert len(_json(env.s3, f"results/{key}.json")["pages"]) == 7


def test_malformed_task_is_acknowledged_and_fan_out_needs_the_queue(env, monkeypatch):
    message = {"MessageId": "bad", "ReceiptHandle": "rh", "Body": json.dumps({"ocr_task": "pages", "key": 5})}
    assert _deliver(env, message) == {"batchItemFailures": []}

    monkeypatch.setattr(env.page_ranges, "task_queue", None)
    env.configure(queue_url=None)
    key = "uploads/无队列.pdf"
    put = _upload(env, key, _pdf(4))
    with pytest.raises(RuntimeError, match="OCR_QUEUE_URL"):
        _process(env, key, put)
    assert _json(env.s3, f"results/{key}.error.json")["error"]["retryable"] is True


def test_range_task_messages_round_trip_and_refuse_nonsense():
    from ocr_service.fanout import RangeTask, mark_done, new_status, plan_ranges

    task = RangeTask("b", "uploads/文件 1.pdf", "e1", None, "0A", 4, 6, 3, 7)
    assert RangeTask.from_body(json.loads(task.to_body())) == task
    assert "文件" in task.to_body()  # UTF-8, not escaped: smaller
    for bad in ({"first": 0}, {"last": 9}, {"key": ""}, {"pages": "7"}, {"ocr_task": "other"}):
        with pytest.raises(ValueError):
            RangeTask.from_body({**json.loads(task.to_body()), **bad})
    assert plan_ranges(20, 20) == [(1, 20)] and plan_ranges(41, 20) == [(1, 20), (21, 40), (41, 41)]
    status = new_status({}, source_type="pdf", pages=7, per_task=3, formats=["json"], direction=None, now="t")
    status = mark_done(mark_done(status, "7-7"), "1-3")
    assert status["ranges"] == {"total": 3, "done": 2, "completed": ["1-3", "7-7"]}
    assert mark_done(status, "1-3") is None  # already done: nothing to write


# ---------------------------------------------------------------- formats beside the JSON
def test_formats_from_settings_and_metadata_are_written_beside_the_json(env, formats, monkeypatch):
    env.configure(output_formats=("json", "text"))
    calls: list[tuple[str, bytes | None]] = []
    real = formats.render
    monkeypatch.setattr(formats, "render", lambda r, f, *, source=None: calls.append((f, source)) or real(r, f, source=source))
    key = "uploads/收据.png"
    body = png_bytes(200, 80)  # the fake engine's page size
    put = _upload(env, key, body, Metadata={"ocr-formats": "PDF, alto"})

    assert _process(env, key, put) == "ok"

    ext = {name: formats.FORMATS[name].extension for name in ("text", "pdf", "alto")}
    assert _keys(env.s3, "results/") == sorted([f"results/{key}.json"] + [f"results/{key}.{e}" for e in ext.values()])
    text = env.s3.get_object(Bucket=BUCKET, Key=f"results/{key}.{ext['text']}")
    assert text["Body"].read().decode("utf-8").rstrip("\n") == _json(env.s3, f"results/{key}.json")["text"]
    assert text["ContentType"] == formats.FORMATS["text"].media_type
    assert text["Metadata"]["source-etag"] == put["etag"] and text["Metadata"]["source-version"] == put["version_id"]
    pdf = env.s3.get_object(Bucket=BUCKET, Key=f"results/{key}.{ext['pdf']}")["Body"].read()
    assert pdf.startswith(b"%PDF")
    assert [f for f, _ in calls] == ["text", "pdf", "alto"] and all(source == body for _, source in calls)

    bad = "uploads/格式.png"
    put = _upload(env, bad, body, Metadata={"ocr-formats": "text,docx"})
    assert _process(env, bad, put) == "failed"
    error = _json(env.s3, f"results/{bad}.error.json")["error"]
    assert error["code"] == "invalid_input" and "docx" in error["message"] and "ocr-formats" in error["message"]
    assert not [k for k in _keys(env.s3, "results/") if k.startswith(f"results/{bad}.") and not k.endswith(".error.json")]


def test_formats_of_a_fanned_out_document_are_written_once_at_assembly(env, formats, monkeypatch):
    env.configure(output_formats=("json", "text"))
    calls: list[tuple[str, int, bytes | None]] = []
    real = formats.render
    monkeypatch.setattr(formats, "render", lambda r, f, *, source=None: calls.append(
        (f, len(r.pages), source)) or real(r, f, source=source))
    key = "uploads/长 格式.pdf"
    body = _pdf(7)
    put = _upload(env, key, body, Metadata={"ocr-formats": "pdf"})
    assert _process(env, key, put) == "fanned_out"
    assert calls == []  # nothing is written for the document until it is complete
    tasks = _tasks(env)
    for message in [*tasks, tasks[0]]:
        _deliver(env, message)

    assert [(f, n) for f, n, _ in calls] == [("text", 7), ("pdf", 7)]
    assert all(source == body for _, _, source in calls)  # the upload, read again at assembly
    text = env.s3.get_object(Bucket=BUCKET, Key=f"results/{key}.{formats.FORMATS['text'].extension}")
    assert text["Body"].read().decode("utf-8").rstrip("\n") == _json(env.s3, f"results/{key}.json")["text"]
    assert f"page 7 of {put['digest']}" in _json(env.s3, f"results/{key}.json")["text"]


def test_document_keys_fit_and_never_mix_versions():
    from ocr_service.keys import MAX_KEY_BYTES, output_key, part_key, parts_prefix, status_key

    key = "uploads/" + "发" * 338 + ".pdf"  # 1026 bytes: the long-key form
    assert status_key("uploads/a.pdf", "results/") == "results/uploads/a.pdf.status.json"
    assert output_key("uploads/a.pdf", "results", "txt") == "results/uploads/a.pdf.txt"
    assert status_key(key, "results/").startswith("results/_long-keys/")
    assert part_key("uploads/a.pdf", "results/", "v1", "e", 21, 40).endswith("/21-40.json")
    assert parts_prefix("uploads/a.pdf", "results/", "v1", "e") != parts_prefix("uploads/a.pdf", "results/", "v2", "e")
    assert len(part_key(key, "r" * 900, "v" * 40, "e" * 34, 1999, 2000).encode()) <= MAX_KEY_BYTES
    with pytest.raises(ValueError):
        output_key("uploads/a.pdf", "results/", "x" * 30)
