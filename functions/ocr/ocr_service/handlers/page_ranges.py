"""Fan-out of long documents: range tasks, the status record, and assembly from the parts.

A document of more than ``OCR_PAGES_PER_TASK`` pages is read in page ranges
(:mod:`ocr_service.fanout`):

1. the upload's invocation counts its pages, writes ``<results-prefix><key>.status.json``
   (``state: running``, the ranges done / total) and sends one range task per
   ``OCR_PAGES_PER_TASK`` pages to its own queue (``OCR_QUEUE_URL``), then marks the status
   ``dispatched``; its outcome is ``"fanned_out"``;
2. each task reads its pages of that upload version (``If-Match`` on its ETag: a changed
   upload makes the task ``"stale"``) and writes a part,
   ``<results-prefix>_parts/<sha256 of key, version, ETag>/<first>-<last>.json``, with
   ``If-None-Match: *`` (a range delivered twice keeps its first part; a part already there
   is not read again), then adds its range to the status with ``If-Match`` on the status
   record's ETag (a compare-and-swap, retried on conflict);
3. the task whose swap completes the last range takes the version's assembly claim and
   assembles ``<key>.json`` from the parts in page order, with the same conditional write as
   every record (so it is written exactly once, even if two workers got this far), marks the
   status ``done`` and deletes the parts (a lifecycle rule expires what a failed or
   superseded run leaves under ``_parts/``). A task that crashes after its part is retried
   by the queue and finds its part, its range done and the result missing: it assembles.

A page range that cannot be read (an undecodable page, a page too large) gives the whole
document an error record and the status ``failed``; the other ranges then stop. A range task
late in a batch, when too little of the invocation's time is left for its pages, is sent back
to the queue as a new message (``"deferred"``) instead of risking the function's timeout.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from aws_lambda_powertools.metrics import MetricUnit

from ocr_engine.errors import OcrError
from ocr_engine.schema import DocumentResult
from ocr_service import fanout
from ocr_service.fanout import RangeTask, TaskQueue, range_label
from ocr_service.handlers import object_job, runtime
from ocr_service.handlers import object_state as shared
from ocr_service.handlers.documents import _document_limits, _size_limit, _write_formats
from ocr_service.handlers.object_job import _Job, _Version
from ocr_service.keys import claim_key, error_key, part_key, result_key, status_key
from ocr_service.observability import logger, metrics, tracer
from ocr_service.status import http_status
from ocr_service.store import StaleEvent, WriteConflict, sequencer_after

# Compare-and-swap updates of a status record (ranges finishing together): tries, and the
# longest pause between two (random, growing with the try: workers drift apart).
STATUS_ATTEMPTS = 25
STATUS_BACKOFF_S = 0.05
# A range task that comes late in a batch (several ranges of 20 pages would outlast the
# function's timeout) is sent back to the queue as a fresh message and acknowledged, when the
# time left is under this much per page plus the reserve. The first record of an invocation
# always runs: a range must fit one invocation (OCR_PAGES_PER_TASK).
RANGE_SECONDS_PER_PAGE = 2.0
RANGE_RESERVE_S = 10.0

# Where range tasks go (created on the first fan-out: most containers never send any).
task_queue: TaskQueue | None = None


def _queue() -> TaskQueue:
    global task_queue
    if task_queue is None:
        if not shared.SETTINGS.queue_url:
            raise RuntimeError("OCR_QUEUE_URL is not set: a document longer than OCR_PAGES_PER_TASK "
                               "pages is read in ranges sent through the function's queue")
        task_queue = fanout.SqsTaskQueue(botocore.session.get_session().create_client("sqs"), shared.SETTINGS.queue_url)
    return task_queue


def _fan_out(
    job: _Job, source: dict[str, Any], kind: str, pages: int, formats: list[str], direction: str | None,
    detector: str | None = None,
) -> str:
    """Write the status record and send one range task per ``OCR_PAGES_PER_TASK`` pages.

    Returns:
        ``"fanned_out"``; ``"duplicate"`` when this version's tasks were already sent, or
        ``"stale"`` when the status belongs to a later event.
    """
    version = job.version
    key = status_key(job.key, shared.SETTINGS.results_prefix)
    per_task = shared.SETTINGS.pages_per_task
    for _ in range(shared.MAX_WRITE_ATTEMPTS):
        current = shared.store.read_record(job.out_bucket, key)
        state = current[0] if current is not None else None
        if current is not None and current[0].describes(version.etag, version.version_id):
            status = current[1]
            if status.get("dispatched"):
                return "duplicate"
            break  # an earlier attempt wrote it and died before every task was sent: send them again
        if state is not None and sequencer_after(state.sequencer, version.sequencer):
            return "stale"
        status = fanout.new_status(source, source_type=kind, pages=pages, per_task=per_task, formats=formats,
                                   direction=direction, detector=detector, now=shared.now())
        try:
            shared.store.write_record(job.out_bucket, key, status, source_etag=version.etag,
                                      source_version=version.version_id, status="running", sequencer=version.sequencer,
                                      if_match=state.etag if state is not None else None, if_none_match=state is None)
            break
        except WriteConflict:
            continue
    else:
        raise RuntimeError(
            f"{key}: the status record kept changing under {shared.MAX_WRITE_ATTEMPTS} conditional writes")

    ranges = fanout.status_ranges(status)
    done = set(status["ranges"].get("completed") or [])
    tasks = [
        RangeTask(job.bucket, job.key, version.etag, version.version_id, version.sequencer, first, last,
                  len(ranges), int(status["pages"])).to_body()
        for first, last in ranges
        if range_label(first, last) not in done
    ]
    _queue().send(tasks)
    _update_status(job, lambda doc: None if doc.get("dispatched") else {**doc, "dispatched": True})
    metrics.add_metric(name="DocumentsFannedOut", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="RangeTasksSent", unit=MetricUnit.Count, value=len(tasks))
    logger.info("document fanned out", extra={"key": job.key, "pages": pages, "ranges": len(ranges),
                                              "tasks_sent": len(tasks), "status_key": key})
    return "fanned_out"


def _update_status(job: _Job, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any] | None:
    """Apply ``change`` to this version's status record (compare-and-swap on its ETag).

    ``change`` gets a copy of the status and returns the new one, or ``None`` when nothing is
    to be written. Lost races are retried after a short random pause.

    Returns:
        The status now stored, or ``None`` when there is none for this version (a newer
        upload's fan-out replaced it, or it is gone).
    """
    version = job.version
    key = status_key(job.key, shared.SETTINGS.results_prefix)
    for attempt in range(STATUS_ATTEMPTS):
        current = shared.store.read_record(job.out_bucket, key)
        if current is None or not current[0].describes(version.etag, version.version_id):
            return None
        state, status = current
        changed = change(dict(status))
        if changed is None:
            return status
        changed["updated_at"] = shared.now()
        try:
            shared.store.write_record(job.out_bucket, key, changed, source_etag=version.etag,
                                      source_version=version.version_id, status=str(changed.get("state") or ""),
                                      sequencer=version.sequencer, if_match=state.etag)
            return changed
        except WriteConflict:
            metrics.add_metric(name="StatusConflicts", unit=MetricUnit.Count, value=1)
            time.sleep(random.uniform(0, STATUS_BACKOFF_S * (attempt + 1)))  # noqa: S311 - jitter, not crypto
    raise RuntimeError(f"{key}: lost {STATUS_ATTEMPTS} status updates in a row")


@tracer.capture_method(capture_response=False)
def process_range(task: RangeTask) -> str:
    """Read one page range of a fanned-out document; assemble the document after the last one.

    Returns:
        ``"ok"`` (part written or found; the document is not complete yet, or another worker
        assembles it), ``"assembled"`` (this task wrote the result), ``"failed"`` (the range
        or the document failed for good: error record written), ``"duplicate"`` (a record
        already answers this version), ``"stale"`` (a newer upload superseded it) or
        ``"skipped"``.

    Raises:
        Exception: any unexpected failure: the task message is retried.
    """
    if not object_job._should_process(task.bucket, task.key):
        logger.info("skipping a range task outside the uploads prefix", extra={"key": task.key})
        return "skipped"
    job = _Job(
        bucket=task.bucket,
        key=task.key,
        out_bucket=shared.SETTINGS.results_bucket or task.bucket,
        out_key=result_key(task.key, shared.SETTINGS.results_prefix),
        err_key=error_key(task.key, shared.SETTINGS.results_prefix),
        version=_Version(task.etag, task.version_id, task.sequencer),
        deadline=shared._deadline.get() or time.time() + shared.DEFAULT_BUDGET_S,
    )
    try:
        return _process_range(job, task)
    finally:
        object_job.release_claim(job)


def _process_range(job: _Job, task: RangeTask) -> str:
    version = job.version
    label = range_label(task.first, task.last)
    object_job._read_records(job)
    outcome = object_job._verdict(job)
    if outcome == "duplicate" and job.result is not None and job.result.describes(version.etag, version.version_id):
        _finish(job)  # (an assembler that died after the result: complete its clean-up)
    if outcome:
        return object_job._acknowledge(job, outcome)
    current = shared.store.read_record(job.out_bucket, status_key(job.key, shared.SETTINGS.results_prefix))
    if current is None or not current[0].describes(version.etag, version.version_id):
        if not shared.store.is_current(job.bucket, job.key, version.etag, version.version_id):
            return object_job._acknowledge(job, "stale", "a newer upload replaced the document")
        raise RuntimeError(f"{job.key}: no fan-out status for version {version.version_id or version.etag}")
    status = current[1]
    if status.get("state") == "failed":
        return "failed"
    part = part_key(job.key, shared.SETTINGS.results_prefix, version.version_id, version.etag, task.first, task.last)
    if shared.store.record_state(job.out_bucket, part) is None:
        outcome = _read_range(job, task, status, part)
        if outcome:
            return outcome
    else:
        metrics.add_metric(name="DuplicateRanges", unit=MetricUnit.Count, value=1)
        logger.info("this range's part is already written", extra={"key": job.key, "range": label})
    updated = _update_status(job, lambda doc: fanout.mark_done(doc, label))
    if updated is None:
        return object_job._acknowledge(job, "stale", "a newer upload replaced the document")
    ranges = updated["ranges"]
    logger.info("range read", extra={"key": job.key, "range": label, "done": ranges["done"], "total": ranges["total"]})
    if ranges["done"] < ranges["total"] or updated.get("state") != "running":
        return "ok"
    return _assemble(job, updated)


def _read_range(job: _Job, task: RangeTask, status: dict[str, Any], part: str) -> str | None:
    """OCR the task's pages and write their part; ``None`` when written, else the outcome."""
    version = job.version
    source = status.get("source") or {"bucket": job.bucket, "key": job.key, "etag": version.etag,
                                      "version_id": version.version_id}
    start = time.perf_counter()
    try:
        obj = shared.store.read(job.bucket, job.key, version.version_id, etag=version.etag,
                                max_bytes=_size_limit(job.key))
        engine: Any = runtime.get_engine()
        document: DocumentResult = engine.run_document(
            obj.body, direction=status.get("direction"), first_page=task.first, last_page=task.last,
            limits=_document_limits(), **runtime.chosen_detector(status.get("detector")),
        )
    except StaleEvent as err:
        return object_job._acknowledge(job, "stale", str(err))
    except OcrError as err:
        return _fail_document(job, source, task, err.code, err.message, http_status(err))
    except Exception as err:
        if object_job._client_error_code(err) in {"NoSuchKey", "NoSuchVersion", "404"}:
            return _fail_document(job, source, task, "source_missing", str(err), 404)
        raise
    if len(document.pages) != task.last - task.first + 1:
        raise RuntimeError(f"{job.key}: pages {task.first}-{task.last} gave {len(document.pages)} pages")
    body = {"source": source, "first_page": task.first, "last_page": task.last,
            "document": document.to_dict(), "processed_at": shared.now()}
    try:
        shared.store.write_record(job.out_bucket, part, body, source_etag=version.etag,
                                  source_version=version.version_id, status="ok", sequencer=version.sequencer,
                                  if_none_match=True)
    except WriteConflict:
        metrics.add_metric(name="DuplicateRanges", unit=MetricUnit.Count, value=1)  # a duplicate delivery was first
    elapsed_ms = (time.perf_counter() - start) * 1000
    metrics.add_metric(name="RangesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PagesRecognised", unit=MetricUnit.Count, value=len(document.pages))
    metrics.add_metric(name="RangeLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
    return None


def _fail_document(
    job: _Job, source: dict[str, Any], task: RangeTask | None, code: str, message: str, status: int
) -> str:
    """A range that cannot be read (or an assembly that cannot render) fails its document:
    error record, status ``failed``."""
    detail = f"pages {task.first}-{task.last}: {message}" if task is not None else message
    outcome = object_job._write_error(job, source, code, detail, status, retryable=False)
    error = {"code": code, "message": detail, "status": status}
    try:
        _update_status(job, lambda doc: None if doc.get("state") != "running" else {**doc, "state": "failed",
                                                                                     "error": error})
    except Exception:  # noqa: BLE001 - the error record is what matters
        logger.exception("could not mark the document failed", extra={"key": job.key})
    if outcome:
        return object_job._acknowledge(job, outcome)
    metrics.add_metric(name="DocumentErrors", unit=MetricUnit.Count, value=1)
    logger.warning("document refused", extra={"key": job.key, "error": code, "detail": detail})
    return "failed"


def _assemble(job: _Job, status: dict[str, Any]) -> str:
    """Join the parts into the document's result record (one worker: the assembly claim)."""
    version = job.version
    key = claim_key(job.key, shared.SETTINGS.results_prefix, version.version_id, version.etag, purpose="assemble")
    claim = shared.store.try_claim(job.out_bucket, key, owner=uuid.uuid4().hex,
                                   expires_at=job.deadline + shared.CLAIM_GRACE_S,
                            now=time.time(), info={"bucket": job.bucket, "key": job.key, "etag": version.etag,
                                                   "version_id": version.version_id, "claimed_at": shared.now()})
    if not claim.acquired:
        # The holder assembles; should it die, its own task is retried and assembles then.
        logger.info("another worker is assembling this document", extra={"key": job.key, "claim_key": key})
        return "ok"
    job.claim = claim
    object_job._read_records(job)
    outcome = object_job._verdict(job)
    if outcome == "duplicate" and job.result is not None and job.result.describes(version.etag, version.version_id):
        _finish(job)
    if outcome:
        return object_job._acknowledge(job, outcome)
    source = status.get("source") or {}
    ranges = fanout.status_ranges(status)
    formats = list(status.get("formats") or ["json"])
    joined = _join_parts(job, status, ranges, keep_pages=any(name != "json" for name in formats))
    try:
        if joined.document is not None:  # other formats: rendered from the whole document
            body = shared.store.read(job.bucket, job.key, version.version_id, etag=version.etag,
                                     max_bytes=_size_limit(job.key)).body  # the source (the pdf format draws on it)
            outcome = _write_formats(job, joined.document, formats, body)
            joined.document = None
            if outcome:
                return object_job._acknowledge(job, outcome)
    except StaleEvent as err:
        return object_job._acknowledge(job, "stale", str(err))
    except OcrError as err:
        return _fail_document(job, source, None, err.code, err.message, http_status(err))
    record = joined.record(source, shared.now())
    outcome = object_job._commit(job, job.out_key, record, status="ok", source_etag=version.etag)
    if outcome:
        return object_job._acknowledge(job, outcome)
    object_job._drop_error_record(job)
    _finish(job)
    metrics.add_metric(name="DocumentsProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=joined.lines)
    logger.info("document assembled", extra={"key": job.key, "result_key": job.out_key, "pages": joined.pages,
                                             "ranges": len(ranges), "record_bytes": len(record)})
    return "assembled"


@dataclass
class _Joined:
    """A fanned-out document's pages joined from its parts, kept as JSON text (not objects).

    A record of 2,000 pages is some 100 MB of JSON: the part records are read one at a time
    and each page kept as its JSON text, so memory holds the text once (and the whole
    :class:`DocumentResult` only when another format is to be rendered from it).
    """

    head: dict[str, Any]
    pages_json: list[str]
    texts: list[str]
    lines: int
    document: DocumentResult | None

    @property
    def pages(self) -> int:
        return len(self.pages_json)

    def record(self, source: dict[str, Any], processed_at: str) -> bytes:
        """The result record, as ``result_document`` of the whole document would give it (JSON bytes)."""
        tail = {"text": "\n\f".join(self.texts), "source": source, "processed_at": processed_at}
        head, rest = json.dumps(self.head, ensure_ascii=False), json.dumps(tail, ensure_ascii=False)
        return "".join((head[:-1], ', "pages": [', ", ".join(self.pages_json), "], ", rest[1:])).encode("utf-8")


def _join_parts(job: _Job, status: dict[str, Any], ranges: list[tuple[int, int]], *, keep_pages: bool) -> _Joined:
    """Read every part of this version, in page order.

    Raises:
        RuntimeError: a part is missing (or of another version), or holds other pages than its range.
    """
    version = job.version
    pages_json: list[str] = []
    texts: list[str] = []
    kept: list[dict[str, Any]] = []
    dpi: list[Any] = []
    timings: dict[str, float] = {}
    lines = 0
    first_doc: dict[str, Any] | None = None
    for first, last in ranges:
        found = shared.store.read_record(
            job.out_bucket, part_key(job.key, shared.SETTINGS.results_prefix, version.version_id, version.etag, first,
                                     last)
        )
        if found is None or not found[0].describes(version.etag, version.version_id):
            raise RuntimeError(f"{job.key}: the part of pages {first}-{last} is missing")
        part = found[1]["document"]
        if len(part["pages"]) != last - first + 1:
            raise RuntimeError(f"{job.key}: the part of pages {first}-{last} holds {len(part['pages'])} pages")
        first_doc = first_doc or {k: v for k, v in part.items() if k not in ("pages", "text")}
        for page in part["pages"]:
            pages_json.append(json.dumps(page, ensure_ascii=False))
            texts.append(str(page.get("text") or ""))
            lines += len(page.get("lines") or [])
        if keep_pages:
            kept.extend(part["pages"])
        dpi.extend(part.get("dpi") or [])
        for name, ms in (part.get("timings_ms") or {}).items():
            timings[name] = round(timings.get(name, 0.0) + float(ms), 1)
    if first_doc is None:
        raise RuntimeError(f"{job.key}: a document of no page ranges")
    head = {
        "success": True,
        "schema_version": first_doc.get("schema_version"),
        "source_type": status.get("source_type") or first_doc.get("source_type"),
        "page_count": int(status["pages"]),
        "first_page": 1,
        "dpi": dpi,
        "model": first_doc.get("model"),
        "timings_ms": timings,
    }
    document = None
    if keep_pages:
        document = DocumentResult.from_dict({**head, "pages": kept})
    return _Joined(head, pages_json, texts, lines, document)


def _finish(job: _Job) -> None:
    """After the result record: the status says ``done`` and the parts are deleted (best effort)."""
    version = job.version
    try:
        status = _update_status(job, lambda doc: None if doc.get("state") == "done" else {
            **doc, "state": "done", "result_key": job.out_key, "finished_at": shared.now()})
        if status is None:
            return
        for first, last in fanout.status_ranges(status):
            shared.store.delete(job.out_bucket, part_key(job.key, shared.SETTINGS.results_prefix, version.version_id,
                                                         version.etag, first, last))
    except Exception:  # noqa: BLE001 - the result is written; the lifecycle rule expires leftover parts
        logger.exception("could not finish the document's clean-up", extra={"key": job.key})


def _no_time_for(task: RangeTask) -> bool:
    """Whether a range task, not the first record of this invocation, would risk its timeout."""
    deadline = shared._deadline.get()
    if deadline is None or shared._records_handled.get() == 0:
        return False
    needed = (task.last - task.first + 1) * RANGE_SECONDS_PER_PAGE + RANGE_RESERVE_S
    return deadline - time.time() < needed

