"""Object trigger: OCR every image and document uploaded to the bucket.

Handles two event shapes with one entry point, :func:`handler`:

* S3 event notifications delivered **through SQS** (the deployed path): each SQS message
  body is an S3 notification. Failures are reported per message
  (``batchItemFailures``) so only failed messages are retried, then dead-lettered.
* **Direct** S3 event notifications (``aws:s3`` records), e.g. ``sam local invoke`` or a
  bucket wired straight to the function.

For every object the handler writes ``<results-prefix><key>.json`` (result schema plus the
source bucket/key/etag/version) or, when the image cannot be processed,
``<results-prefix><key>.error.json``. Permanent failures (an undecodable or unsupported
image) are recorded and acknowledged; unexpected failures are recorded as retryable and
re-raised so the message is retried. Results are never re-processed (the results prefix is
skipped) and a record already written for the same object version is not written again.

Notifications arrive out of order and at least once, sometimes to several workers at once:

* **stale events** (``"stale"``): an event for a version that a newer upload replaced (its
  ETag is no longer the current object's, or a record carries a later S3 ``sequencer``) is
  acknowledged without OCR or write, and counted (``StaleEvents``); it never overwrites the
  record of a newer version;
* **concurrent duplicates** (``"duplicate"``): records are written with conditional PUTs, so
  of several workers racing on one version exactly one writes; the others acknowledge. A
  claim per upload version makes the others wait for that one instead of running the OCR
  too; it expires at its holder's deadline (a crashed holder delays a retry, never loses the
  upload), and a worker that runs out of time waiting raises, so its message is retried.

A key too long to mirror (the record key would exceed S3's 1024 UTF-8 bytes) gets its record
at ``<results-prefix>_long-keys/<sha256 hex of the key>.json`` (or ``.error.json``) instead;
``source.key`` in the record holds the full key (see :mod:`ocr_service.keys`). The handler
reads uploads and writes records through a :class:`~ocr_service.store.ResultStore`
(:data:`store`: S3 in Lambda).
An upload's user metadata ``ocr-direction`` (``auto``, ``horizontal``, ``vertical``) says how
its text runs; any other value is recorded as an ``invalid_input`` error.

**Documents** (PDF, multi-page TIFF; ``.tif`` of one page stays an image): one of at most
``OCR_PAGES_PER_TASK`` pages is read in one invocation, its record is the ``DocumentResult``.
One of more than ``OCR_MAX_PAGES`` pages gets a ``too_many_pages`` error record. A longer one
is **fanned out** (:mod:`ocr_service.fanout`):

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

**Output formats**: besides the JSON, the formats of ``OCR_OUTPUT_FORMATS`` and of the upload's
metadata ``ocr-formats`` (``text,pdf``...; an unknown name is an ``invalid_input`` error) are
written to ``<results-prefix><key>.<extension>`` (:func:`ocr_engine.formats.render`, with the
upload's bytes as the source), just before the JSON record; for a fanned-out document, once,
at assembly.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus

import botocore.session
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from ocr_engine.config import check_direction
from ocr_engine.errors import InvalidInput, OcrError
from ocr_engine.schema import DocumentResult, OcrResult
from ocr_service import fanout
from ocr_service.fanout import RangeTask, TaskQueue, range_label
from ocr_service.handlers import runtime
from ocr_service.handlers.results import result_document
from ocr_service.keys import claim_key, error_key, output_key, part_key, result_key, status_key
from ocr_service.observability import logger, metrics, tracer
from ocr_service.s3_store import S3Store
from ocr_service.settings import OUTPUT_FORMATS, get_settings
from ocr_service.status import http_status
from ocr_service.store import Claim, RecordState, ResultStore, StaleEvent, WriteConflict, sequencer_after

# Upload metadata (x-amz-meta-ocr-direction) that sets how the text runs for that image.
META_DIRECTION = "ocr-direction"
# Upload metadata (x-amz-meta-ocr-formats): more output formats for that upload, e.g. "pdf,alto".
META_FORMATS = "ocr-formats"
# Uploads with these suffixes may be documents: read up to OCR_MAX_DOCUMENT_BYTES.
DOCUMENT_SUFFIXES = (".pdf", ".tif", ".tiff")

# Time budget of one object when no Lambda context says otherwise (direct calls): the
# template's function timeout. A claim lasts until its holder's deadline plus a grace.
DEFAULT_BUDGET_S = 90.0
CLAIM_GRACE_S = 5.0
# A worker waiting on another's claim gives up (its message is retried) this long before
# its own deadline, and looks again at most this often (first after CLAIM_POLL_S).
CLAIM_RESERVE_S = 10.0
CLAIM_POLL_S = 0.25
CLAIM_POLL_MAX_S = 2.0
# Conditional writes that keep losing to other writers of older versions: give up (retry).
MAX_WRITE_ATTEMPTS = 5
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

# The current invocation's deadline (Unix time), set by the handler from its context, and
# the SQS records it has handled so far.
_deadline: ContextVar[float | None] = ContextVar("ocr_deadline", default=None)
_records_handled: ContextVar[int] = ContextVar("ocr_records_handled", default=0)

SETTINGS = get_settings()
processor = BatchProcessor(event_type=EventType.SQS)
# botocore directly, not boto3: the same client, ~0.4 s less import time at cold start
# (boto3 pulls in s3transfer). Region and endpoint come from the environment as usual.
store: ResultStore = S3Store(botocore.session.get_session().create_client("s3"), SETTINGS.max_image_bytes)
# Where range tasks go (created on the first fan-out: most containers never send any).
task_queue: TaskQueue | None = None
runtime.init_engine(logger)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ClaimBusy(RuntimeError):
    """Another worker holds a live claim on this upload version and our time ran out waiting.

    Raised so the message is retried (never acknowledged blind: the holder may still fail).
    """


@dataclass(frozen=True)
class _Version:
    """The upload version an event is about: what decides duplicates and staleness."""

    etag: str
    version_id: str | None
    sequencer: str | None


@dataclass
class _Job:
    """One object being processed: where its records go and what is known of them."""

    bucket: str
    key: str
    out_bucket: str
    out_key: str
    err_key: str
    version: _Version
    deadline: float
    result: RecordState | None = None
    error: RecordState | None = None
    claim: Claim | None = None


@tracer.capture_method(capture_response=False)
def process_object(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    sequencer: str | None = None,
) -> str:
    """OCR one uploaded object and write its result or error record.

    Args:
        bucket: Source bucket.
        key: Object key, already URL-decoded.
        version_id: Object version from the event (versioned buckets).
        etag: ETag from the event: skips versions already processed, and versions that a
            newer object replaced since (see :meth:`ocr_service.store.ResultStore.read`).
        sequencer: The event's S3 ``sequencer``: orders the events of one key.

    Returns:
        ``"ok"``, ``"failed"`` (error record written, do not retry), ``"duplicate"`` (a record
        for this version exists, or a concurrent worker wrote it), ``"stale"`` (a newer
        version superseded this one) or ``"skipped"``.

    Raises:
        ClaimBusy: a concurrent worker still holds this version's claim at our deadline.
        Exception: any unexpected failure, after a retryable error record was attempted.
    """
    settings = SETTINGS
    if not _should_process(bucket, key):
        logger.info("skipping key outside the uploads prefix or inside the results prefix", extra={"key": key})
        return "skipped"
    job = _Job(
        bucket=bucket,
        key=key,
        out_bucket=settings.results_bucket or bucket,
        out_key=result_key(key, settings.results_prefix),
        err_key=error_key(key, settings.results_prefix),
        version=_Version((etag or "").strip('"'), version_id or None, sequencer or None),
        deadline=_deadline.get() or time.time() + DEFAULT_BUDGET_S,
    )
    try:
        return _process(job)
    finally:
        if job.claim is not None:
            try:
                store.release_claim(job.out_bucket, job.claim)
            except Exception:  # noqa: BLE001 - the claim expires by itself
                logger.exception("could not release the claim", extra={"claim_key": job.claim.key})


def _process(job: _Job) -> str:
    _read_records(job)
    outcome = _verdict(job)
    if outcome:
        return _acknowledge(job, outcome)

    source: dict[str, Any] = {
        "bucket": job.bucket,
        "key": job.key,
        "etag": job.version.etag or None,
        "version_id": job.version.version_id,
    }
    start = time.perf_counter()
    try:
        try:
            obj = store.read(
                job.bucket, job.key, job.version.version_id, etag=job.version.etag, max_bytes=_size_limit(job.key)
            )
        except StaleEvent as err:
            return _acknowledge(job, "stale", str(err))
        source = obj.describe()
        job.version = replace(job.version, etag=obj.etag, version_id=obj.version_id)
        # (For an event without an ETag, only now is it known whether a record answers it.)
        outcome = _verdict(job) or _claim(job)
        if outcome:
            return _acknowledge(job, outcome)
        direction = obj.metadata.get(META_DIRECTION)
        if direction is not None:
            check_direction(direction, name=f"metadata {META_DIRECTION}")
        formats = _output_formats(obj.metadata)
        kind, pages = _document_pages(obj.body)
        engine: Any = runtime.get_engine()
        result: OcrResult | DocumentResult
        if kind is None:
            result = engine.run(obj.body, direction)
        elif pages > SETTINGS.pages_per_task:
            outcome = _fan_out(job, source, kind, pages, formats, direction)
            return _acknowledge(job, outcome) if outcome != "fanned_out" else outcome
        else:
            result = engine.run_document(obj.body, direction=direction, limits=_document_limits())
        outcome = _write_formats(job, result, formats, obj.body)
        if outcome:
            return _acknowledge(job, outcome)
    except OcrError as err:
        outcome = _write_error(job, source, err.code, err.message, http_status(err), retryable=False)
        if outcome:
            return _acknowledge(job, outcome)
        metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
        logger.warning("image refused", extra={"key": job.key, "error": err.code, "detail": err.message})
        return "failed"
    except ClaimBusy:
        metrics.add_metric(name="ClaimTimeouts", unit=MetricUnit.Count, value=1)
        raise
    except Exception as err:
        code = _client_error_code(err)
        if code in {"NoSuchKey", "NoSuchVersion", "404"}:
            # The upload is gone (deleted before we ran): record it, retrying cannot help.
            outcome = _write_error(job, source, "source_missing", str(err), 404, retryable=False)
            if outcome:
                return _acknowledge(job, outcome)
            metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
            return "failed"
        outcome = _write_error(job, source, "internal_error", f"{type(err).__name__}: {err}", 500, retryable=True)
        if outcome:  # a concurrent worker answered this version, or a newer one superseded it
            return _acknowledge(job, outcome)
        metrics.add_metric(name="ProcessingFailures", unit=MetricUnit.Count, value=1)
        raise

    elapsed_ms = (time.perf_counter() - start) * 1000
    document = result_document(result)
    document["source"] = source
    document["processed_at"] = _now()
    outcome = _commit(job, job.out_key, document, status="ok", source_etag=source["etag"])
    if outcome:
        return _acknowledge(job, outcome)
    _drop_error_record(job)  # a stale error record from an earlier attempt
    lines = _line_count(result)
    if isinstance(result, DocumentResult):
        metrics.add_metric(name="DocumentsProcessed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PagesRecognised", unit=MetricUnit.Count, value=len(result.pages))
    else:
        metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=lines)
    logger.info(
        "image processed" if kind is None else "document processed",
        extra={"key": job.key, "result_key": job.out_key, "lines": lines, "pages": pages,
               "latency_ms": round(elapsed_ms, 1)},
    )
    return "ok"


def _line_count(result: OcrResult | DocumentResult) -> int:
    if isinstance(result, DocumentResult):
        return sum(len(page.lines) for page in result.pages)
    return len(result.lines)


# ---------------------------------------------------------------- documents and formats
def _documents() -> ModuleType | None:
    """The engine's document support (PDF, multi-page TIFF), or ``None`` without it.

    Imported on first use (pdfium loads only in containers that see a document). An engine
    layer older than the function code has none: every upload is then read as an image.
    """
    try:
        from ocr_engine import document
    except ImportError:
        return None
    return document


def _document_limits() -> Any:
    docs = _documents()
    return None if docs is None else docs.DocumentLimits(max_pages=SETTINGS.max_pages)


def _size_limit(key: str) -> int | None:
    """The byte limit of reading upload ``key``: a document's for the document suffixes."""
    if key.lower().endswith(DOCUMENT_SUFFIXES):
        return max(SETTINGS.max_document_bytes, SETTINGS.max_image_bytes)
    return None


def _document_pages(data: bytes) -> tuple[str | None, int]:
    """``(kind, pages)``: ``("pdf" | "tiff", n)`` for a document, ``(None, 1)`` for an image.

    A TIFF of one page is an image (its record stays an image's).

    Raises:
        TooManyPages: more pages than ``OCR_MAX_PAGES``.
        OcrError: a document that cannot be opened (encrypted, undecodable).
    """
    docs = _documents()
    if docs is None:
        return None, 1
    kind = docs.document_kind(data)
    if kind is None:
        return None, 1
    pages = int(docs.page_count(data, limits=_document_limits()))
    if pages > SETTINGS.max_pages:
        raise docs.TooManyPages(f"the document has {pages} pages; at most {SETTINGS.max_pages} are read")
    if kind == "tiff" and pages == 1:
        return None, 1
    return kind, pages


def _output_formats(metadata: dict[str, str]) -> list[str]:
    """The formats to write for an upload: ``OCR_OUTPUT_FORMATS`` plus its metadata ``ocr-formats``.

    Raises:
        InvalidInput: the metadata names a format that is not one of :data:`OUTPUT_FORMATS`.
    """
    names = list(SETTINGS.output_formats)
    raw = metadata.get(META_FORMATS)
    if raw is not None:
        asked = [name.strip().lower() for name in raw.split(",") if name.strip()]
        unknown = [name for name in asked if name not in OUTPUT_FORMATS]
        if unknown:
            raise InvalidInput(
                f"metadata {META_FORMATS}: unknown format(s) {', '.join(unknown)}; known: {', '.join(OUTPUT_FORMATS)}"
            )
        names += asked
    return list(dict.fromkeys(names))


def _write_formats(job: _Job, result: OcrResult | DocumentResult, formats: list[str], source: bytes | None) -> str | None:
    """Write every format but JSON beside the record; ``"stale"`` if a newer upload replaced this one."""
    wanted = [name for name in formats if name != "json"]
    if not wanted:
        return None
    from ocr_engine import formats as renderers  # reportlab and pdfium: only where outputs are asked for

    if not store.is_current(job.bucket, job.key, job.version.etag, job.version.version_id):
        return "stale"
    for name in wanted:
        spec = renderers.FORMATS[name]
        body = renderers.render(result, name, source=source)
        key = output_key(job.key, SETTINGS.results_prefix, spec.extension)
        if key in (job.out_key, job.err_key, status_key(job.key, SETTINGS.results_prefix)):
            key = output_key(job.key, SETTINGS.results_prefix, f"{name}.{spec.extension}")
        store.write_output(job.out_bucket, key, body, content_type=spec.media_type,
                           source_etag=job.version.etag, source_version=job.version.version_id)
    metrics.add_metric(name="OutputsWritten", unit=MetricUnit.Count, value=len(wanted))
    return None


# ---------------------------------------------------------------- fan-out
def _queue() -> TaskQueue:
    global task_queue
    if task_queue is None:
        if not SETTINGS.queue_url:
            raise RuntimeError("OCR_QUEUE_URL is not set: a document longer than OCR_PAGES_PER_TASK "
                               "pages is read in ranges sent through the function's queue")
        task_queue = fanout.SqsTaskQueue(botocore.session.get_session().create_client("sqs"), SETTINGS.queue_url)
    return task_queue


def _fan_out(
    job: _Job, source: dict[str, Any], kind: str, pages: int, formats: list[str], direction: str | None
) -> str:
    """Write the status record and send one range task per ``OCR_PAGES_PER_TASK`` pages.

    Returns:
        ``"fanned_out"``; ``"duplicate"`` when this version's tasks were already sent, or
        ``"stale"`` when the status belongs to a later event.
    """
    version = job.version
    key = status_key(job.key, SETTINGS.results_prefix)
    per_task = SETTINGS.pages_per_task
    for _ in range(MAX_WRITE_ATTEMPTS):
        current = store.read_record(job.out_bucket, key)
        state = current[0] if current is not None else None
        if current is not None and current[0].describes(version.etag, version.version_id):
            status = current[1]
            if status.get("dispatched"):
                return "duplicate"
            break  # an earlier attempt wrote it and died before every task was sent: send them again
        if state is not None and sequencer_after(state.sequencer, version.sequencer):
            return "stale"
        status = fanout.new_status(source, source_type=kind, pages=pages, per_task=per_task, formats=formats,
                                   direction=direction, now=_now())
        try:
            store.write_record(job.out_bucket, key, status, source_etag=version.etag,
                               source_version=version.version_id, status="running", sequencer=version.sequencer,
                               if_match=state.etag if state is not None else None, if_none_match=state is None)
            break
        except WriteConflict:
            continue
    else:
        raise RuntimeError(f"{key}: the status record kept changing under {MAX_WRITE_ATTEMPTS} conditional writes")

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
    key = status_key(job.key, SETTINGS.results_prefix)
    for attempt in range(STATUS_ATTEMPTS):
        current = store.read_record(job.out_bucket, key)
        if current is None or not current[0].describes(version.etag, version.version_id):
            return None
        state, status = current
        changed = change(dict(status))
        if changed is None:
            return status
        changed["updated_at"] = _now()
        try:
            store.write_record(job.out_bucket, key, changed, source_etag=version.etag,
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
    if not _should_process(task.bucket, task.key):
        logger.info("skipping a range task outside the uploads prefix", extra={"key": task.key})
        return "skipped"
    job = _Job(
        bucket=task.bucket,
        key=task.key,
        out_bucket=SETTINGS.results_bucket or task.bucket,
        out_key=result_key(task.key, SETTINGS.results_prefix),
        err_key=error_key(task.key, SETTINGS.results_prefix),
        version=_Version(task.etag, task.version_id, task.sequencer),
        deadline=_deadline.get() or time.time() + DEFAULT_BUDGET_S,
    )
    try:
        return _process_range(job, task)
    finally:
        if job.claim is not None:
            try:
                store.release_claim(job.out_bucket, job.claim)
            except Exception:  # noqa: BLE001 - the claim expires by itself
                logger.exception("could not release the claim", extra={"claim_key": job.claim.key})


def _process_range(job: _Job, task: RangeTask) -> str:
    version = job.version
    label = range_label(task.first, task.last)
    _read_records(job)
    outcome = _verdict(job)
    if outcome == "duplicate" and job.result is not None and job.result.describes(version.etag, version.version_id):
        _finish(job)  # (an assembler that died after the result: complete its clean-up)
    if outcome:
        return _acknowledge(job, outcome)
    current = store.read_record(job.out_bucket, status_key(job.key, SETTINGS.results_prefix))
    if current is None or not current[0].describes(version.etag, version.version_id):
        if not store.is_current(job.bucket, job.key, version.etag, version.version_id):
            return _acknowledge(job, "stale", "a newer upload replaced the document")
        raise RuntimeError(f"{job.key}: no fan-out status for version {version.version_id or version.etag}")
    status = current[1]
    if status.get("state") == "failed":
        return "failed"
    part = part_key(job.key, SETTINGS.results_prefix, version.version_id, version.etag, task.first, task.last)
    if store.record_state(job.out_bucket, part) is None:
        outcome = _read_range(job, task, status, part)
        if outcome:
            return outcome
    else:
        metrics.add_metric(name="DuplicateRanges", unit=MetricUnit.Count, value=1)
        logger.info("this range's part is already written", extra={"key": job.key, "range": label})
    updated = _update_status(job, lambda doc: fanout.mark_done(doc, label))
    if updated is None:
        return _acknowledge(job, "stale", "a newer upload replaced the document")
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
        obj = store.read(job.bucket, job.key, version.version_id, etag=version.etag, max_bytes=_size_limit(job.key))
        engine: Any = runtime.get_engine()
        document: DocumentResult = engine.run_document(
            obj.body, direction=status.get("direction"), first_page=task.first, last_page=task.last,
            limits=_document_limits(),
        )
    except StaleEvent as err:
        return _acknowledge(job, "stale", str(err))
    except OcrError as err:
        return _fail_document(job, source, task, err.code, err.message, http_status(err))
    except Exception as err:
        if _client_error_code(err) in {"NoSuchKey", "NoSuchVersion", "404"}:
            return _fail_document(job, source, task, "source_missing", str(err), 404)
        raise
    if len(document.pages) != task.last - task.first + 1:
        raise RuntimeError(f"{job.key}: pages {task.first}-{task.last} gave {len(document.pages)} pages")
    body = {"source": source, "first_page": task.first, "last_page": task.last,
            "document": document.to_dict(), "processed_at": _now()}
    try:
        store.write_record(job.out_bucket, part, body, source_etag=version.etag, source_version=version.version_id,
                           status="ok", sequencer=version.sequencer, if_none_match=True)
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
    outcome = _write_error(job, source, code, detail, status, retryable=False)
    error = {"code": code, "message": detail, "status": status}
    try:
        _update_status(job, lambda doc: None if doc.get("state") != "running" else {**doc, "state": "failed",
                                                                                     "error": error})
    except Exception:  # noqa: BLE001 - the error record is what matters
        logger.exception("could not mark the document failed", extra={"key": job.key})
    if outcome:
        return _acknowledge(job, outcome)
    metrics.add_metric(name="DocumentErrors", unit=MetricUnit.Count, value=1)
    logger.warning("document refused", extra={"key": job.key, "error": code, "detail": detail})
    return "failed"


def _assemble(job: _Job, status: dict[str, Any]) -> str:
    """Join the parts into the document's result record (one worker: the assembly claim)."""
    version = job.version
    key = claim_key(job.key, SETTINGS.results_prefix, version.version_id, version.etag, purpose="assemble")
    claim = store.try_claim(job.out_bucket, key, owner=uuid.uuid4().hex, expires_at=job.deadline + CLAIM_GRACE_S,
                            now=time.time(), info={"bucket": job.bucket, "key": job.key, "etag": version.etag,
                                                   "version_id": version.version_id, "claimed_at": _now()})
    if not claim.acquired:
        # The holder assembles; should it die, its own task is retried and assembles then.
        logger.info("another worker is assembling this document", extra={"key": job.key, "claim_key": key})
        return "ok"
    job.claim = claim
    _read_records(job)
    outcome = _verdict(job)
    if outcome == "duplicate" and job.result is not None and job.result.describes(version.etag, version.version_id):
        _finish(job)
    if outcome:
        return _acknowledge(job, outcome)
    source = status.get("source") or {}
    ranges = fanout.status_ranges(status)
    formats = list(status.get("formats") or ["json"])
    joined = _join_parts(job, status, ranges, keep_pages=any(name != "json" for name in formats))
    try:
        if joined.document is not None:  # other formats: rendered from the whole document
            body = store.read(job.bucket, job.key, version.version_id, etag=version.etag,
                              max_bytes=_size_limit(job.key)).body  # the source (the pdf format draws on it)
            outcome = _write_formats(job, joined.document, formats, body)
            joined.document = None
            if outcome:
                return _acknowledge(job, outcome)
    except StaleEvent as err:
        return _acknowledge(job, "stale", str(err))
    except OcrError as err:
        return _fail_document(job, source, None, err.code, err.message, http_status(err))
    record = joined.record(source, _now())
    outcome = _commit(job, job.out_key, record, status="ok", source_etag=version.etag)
    if outcome:
        return _acknowledge(job, outcome)
    _drop_error_record(job)
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
        found = store.read_record(
            job.out_bucket, part_key(job.key, SETTINGS.results_prefix, version.version_id, version.etag, first, last)
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
            **doc, "state": "done", "result_key": job.out_key, "finished_at": _now()})
        if status is None:
            return
        for first, last in fanout.status_ranges(status):
            store.delete(job.out_bucket,
                         part_key(job.key, SETTINGS.results_prefix, version.version_id, version.etag, first, last))
    except Exception:  # noqa: BLE001 - the result is written; the lifecycle rule expires leftover parts
        logger.exception("could not finish the document's clean-up", extra={"key": job.key})


def _read_records(job: _Job) -> None:
    job.result = store.record_state(job.out_bucket, job.out_key)
    job.error = store.record_state(job.out_bucket, job.err_key)


def _verdict(job: _Job) -> str | None:
    """``"duplicate"``: a record already answers this version; ``"stale"``: one is for a later event."""
    version = job.version
    for state in (job.result, job.error):
        # (A retryable error record carries no source ETag: it never answers a version.)
        if state is not None and state.describes(version.etag, version.version_id):
            return "duplicate"
    for state in (job.result, job.error):
        if state is not None and sequencer_after(state.sequencer, version.sequencer):
            return "stale"
    return None


def _acknowledge(job: _Job, outcome: str, detail: str | None = None) -> str:
    """Log and count an event answered without a write of ours (``duplicate`` or ``stale``)."""
    extra = {"key": job.key, "result_key": job.out_key, "etag": job.version.etag,
             "version_id": job.version.version_id, "sequencer": job.version.sequencer}
    if outcome == "stale":
        metrics.add_metric(name="StaleEvents", unit=MetricUnit.Count, value=1)
        logger.warning("stale event: a newer version of the object superseded it; acknowledged",
                       extra={**extra, "detail": detail})
    else:
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        logger.info("a record for this object version already exists; acknowledged", extra=extra)
    return outcome


def _claim(job: _Job) -> str | None:
    """Claim this upload version, waiting while a concurrent worker holds it.

    Returns:
        ``None`` once claimed (``job.claim``), or the verdict (``"duplicate"``, ``"stale"``)
        reached while waiting: the holder wrote the record, or a later event's record came.

    Raises:
        ClaimBusy: the holder's claim is still live when our own time runs out.
    """
    version = job.version
    key = claim_key(job.key, SETTINGS.results_prefix, version.version_id, version.etag)
    owner = uuid.uuid4().hex
    info = {"bucket": job.bucket, "key": job.key, "etag": version.etag, "version_id": version.version_id,
            "claimed_at": _now()}
    delay, waited = CLAIM_POLL_S, False
    while True:
        claim = store.try_claim(job.out_bucket, key, owner=owner, expires_at=job.deadline + CLAIM_GRACE_S,
                                now=time.time(), info=info)
        if claim.acquired:
            job.claim = claim
            if waited:  # the records may have changed meanwhile
                _read_records(job)
                return _verdict(job)
            return None
        if not waited:
            logger.info("another worker is processing this object version; waiting",
                        extra={"key": job.key, "claim_key": key, "claim_expires": round(claim.expires_at, 3)})
            metrics.add_metric(name="ClaimWaits", unit=MetricUnit.Count, value=1)
        waited = True
        left = job.deadline - CLAIM_RESERVE_S - time.time()
        if left <= 0:
            raise ClaimBusy(f"{job.key}: another worker holds the claim until {claim.expires_at:.3f}")
        # Look again after `delay`, and at the latest when the holder's claim runs out.
        time.sleep(max(0.05, min(delay, left, claim.expires_at - time.time() + 0.05)))
        delay = min(delay * 1.5, CLAIM_POLL_MAX_S)
        _read_records(job)
        outcome = _verdict(job)
        if outcome:
            return outcome


def _commit(
    job: _Job, key: str, document: dict[str, Any] | bytes, *, status: str, source_etag: str | None
) -> str | None:
    """Write a record unless a concurrent worker or a later event got there first.

    The write is conditional on the record seen before (absent: ``If-None-Match: *``,
    else ``If-Match`` on its ETag). A lost race reads the winner's record: for this version
    (``"duplicate"``) or a later event (``"stale"``), we stop; an older record is replaced,
    provided this version is still the current object.

    Returns:
        ``None`` when written, else the verdict.
    """
    is_result = key == job.out_key
    for _ in range(MAX_WRITE_ATTEMPTS):
        state = job.result if is_result else job.error
        try:
            store.write_record(
                job.out_bucket,
                key,
                document,
                source_etag=source_etag or "",
                source_version=job.version.version_id,
                status=status,
                sequencer=job.version.sequencer,
                if_match=state.etag if state is not None else None,
                if_none_match=state is None,
            )
            return None
        except WriteConflict:
            logger.info("the record changed while we worked; deciding again", extra={"record_key": key})
        fresh = store.record_state(job.out_bucket, key)
        if is_result:
            job.result = fresh
        else:
            job.error = fresh
        outcome = _verdict(job)
        if outcome:
            return outcome
        if not store.is_current(job.bucket, job.key, job.version.etag, job.version.version_id):
            return "stale"
    raise RuntimeError(f"{key}: the record kept changing under {MAX_WRITE_ATTEMPTS} conditional writes")


def _drop_error_record(job: _Job) -> None:
    """After a result: delete the error record of an earlier attempt (not a later event's)."""
    state = store.record_state(job.out_bucket, job.err_key)
    if state is None:
        return
    version = job.version
    later = sequencer_after(state.sequencer, version.sequencer)
    if later is None and state.source_etag and not state.describes(version.etag, version.version_id):
        later = not store.is_current(job.bucket, job.key, version.etag, version.version_id)
    if later:
        return
    try:
        store.delete(job.out_bucket, job.err_key, if_match=state.etag or None)
    except WriteConflict:
        pass  # rewritten meanwhile: that writer decides


def _should_process(bucket: str, key: str) -> bool:
    settings = SETTINGS
    if not key or key.endswith("/"):
        return False
    same_bucket = settings.results_bucket in (None, bucket)
    results_prefix = settings.results_prefix
    if same_bucket and results_prefix and key.startswith(results_prefix):
        return False
    if same_bucket and key.endswith(".json"):
        return False
    return key.startswith(settings.uploads_prefix)


def _write_error(
    job: _Job,
    source: dict[str, Any],
    code: str,
    message: str,
    status: int,
    *,
    retryable: bool,
) -> str | None:
    """Write the error record; ``None`` when written (or not writable), else the verdict.

    No error record goes next to a result of this version (a concurrent worker succeeded)
    or over the records of a later event: then the verdict (``"duplicate"``, ``"stale"``)
    is returned instead.
    """
    document = {
        "success": False,
        "error": {"code": code, "message": message, "status": status, "retryable": retryable},
        "source": source,
        "processed_at": _now(),
    }
    try:
        _read_records(job)
        outcome = _verdict(job)
        if outcome:
            return outcome
        # A retryable record must not mark this version as done: the redelivered
        # message has to run again, so it carries no source ETag to match.
        return _commit(
            job, job.err_key, document, status="error", source_etag="" if retryable else source.get("etag") or ""
        )
    except Exception:  # noqa: BLE001 - the original failure matters more
        logger.exception("could not write the error record", extra={"error_key": job.err_key})
        return None


def _client_error_code(err: Exception) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", ""))
    return ""


_S3Record = tuple[str, str, str | None, str | None, str | None]


def _s3_records(notification: dict[str, Any]) -> list[_S3Record]:
    """(bucket, decoded key, version id, etag, sequencer) for each object-created record."""
    out = []
    for record in S3Event(notification).records:
        if not record.event_name.startswith("ObjectCreated"):
            continue
        obj = record.s3.get_object
        version_id = obj.version_id if obj.version_id not in ("", "null") else None  # "null": unversioned
        sequencer = obj.get("sequencer")
        sequencer = sequencer if isinstance(sequencer, str) and sequencer else None
        out.append((record.s3.bucket.name, unquote_plus(obj.key), version_id, obj.etag or None, sequencer))
    return out


def _no_time_for(task: RangeTask) -> bool:
    """Whether a range task, not the first record of this invocation, would risk its timeout."""
    deadline = _deadline.get()
    if deadline is None or _records_handled.get() == 0:
        return False
    needed = (task.last - task.first + 1) * RANGE_SECONDS_PER_PAGE + RANGE_RESERVE_S
    return deadline - time.time() < needed


def _sqs_record(record: SQSRecord) -> str:
    """Process one SQS message (an S3 notification or a range task); raise to have it retried."""
    try:
        return _sqs_message(record)
    finally:
        _records_handled.set(_records_handled.get() + 1)


def _sqs_message(record: SQSRecord) -> str:
    logger.set_correlation_id(record.message_id)
    body = json.loads(record.body)
    if isinstance(body, dict) and fanout.TASK_FIELD in body:
        try:
            task = RangeTask.from_body(body)
        except ValueError as err:
            # Not a task this code understands: retrying cannot help; leave a trace and acknowledge.
            logger.error("malformed range task", extra={"error": str(err), "body": record.body[:500]})
            return "skipped"
        if _no_time_for(task):
            _queue().send([task.to_body()])
            metrics.add_metric(name="RangesDeferred", unit=MetricUnit.Count, value=1)
            logger.info("too little time left for this range: sent back to the queue",
                        extra={"key": task.key, "range": range_label(task.first, task.last)})
            return "deferred"
        return process_range(task)
    if body.get("Event") == "s3:TestEvent":
        logger.info("ignoring the s3:TestEvent sent when the notification was configured")
        return "skipped"
    if "Records" not in body:
        # Not an S3 notification: nothing to retry; leave a trace and acknowledge.
        logger.error("message is not an S3 notification", extra={"body": record.body[:500]})
        return "skipped"
    outcomes = [process_object(b, k, version_id=v, etag=e, sequencer=q) for b, k, v, e, q in _s3_records(body)]
    return ",".join(outcomes)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point for SQS-delivered and direct S3 notifications."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    token = _deadline.set(time.time() + remaining() / 1000 if callable(remaining) else None)
    handled = _records_handled.set(0)
    try:
        return _handle(event, context)
    finally:
        _records_handled.reset(handled)
        _deadline.reset(token)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        # s3:TestEvent (sent when a notification is configured) or an empty event.
        logger.info("no records in the event", extra={"event_type": event.get("Event")})
        return {"results": []}
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInput("not an S3 or SQS event: 'Records' must be a list of objects")
    if records[0].get("eventSource") == "aws:sqs":
        return process_partial_response(event=event, record_handler=_sqs_record, processor=processor, context=context)

    outcomes: list[dict[str, str]] = []
    failures: list[Exception] = []
    for record in records:
        elements = record.get("responseElements")
        request_id = elements.get("x-amz-request-id") if isinstance(elements, dict) else None
        if request_id:
            logger.set_correlation_id(str(request_id))
    parsed: list[_S3Record] = []
    for record in records:
        try:  # one malformed record must not stop the valid ones
            parsed.extend(_s3_records({"Records": [record]}))
        except Exception as err:  # noqa: BLE001 - counted as a failure below
            logger.error("record is not an S3 notification record", extra={"error": f"{type(err).__name__}: {err}"})
            outcomes.append({"key": "", "status": "invalid"})
            failures.append(err)
    for bucket, key, version_id, etag, sequencer in parsed:
        try:
            status = process_object(bucket, key, version_id=version_id, etag=etag, sequencer=sequencer)
            outcomes.append({"key": key, "status": status})
        except Exception as err:  # noqa: BLE001 - the others still run; the invocation fails below
            outcomes.append({"key": key, "status": "error"})
            failures.append(err)
    if failures:
        # Direct S3 invocations are asynchronous: raising makes Lambda retry them and then
        # send them to the on-failure destination.
        raise RuntimeError(f"{len(failures)} of {len(outcomes)} objects failed") from failures[0]
    return {"results": outcomes}
