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
an event for a replaced version is ``"stale"``, one already answered is ``"duplicate"``
(:mod:`ocr_service.handlers.object_job`).

A key too long to mirror (the record key would exceed S3's 1024 UTF-8 bytes) gets its record
at ``<results-prefix>_long-keys/<sha256 hex of the key>.json`` (or ``.error.json``) instead;
``source.key`` in the record holds the full key (see :mod:`ocr_service.keys`). The handler
reads uploads and writes records through a :class:`~ocr_service.store.ResultStore`
(:data:`ocr_service.handlers.object_state.store`: S3 in Lambda).
An upload's user metadata ``ocr-direction`` (``auto``, ``horizontal``, ``vertical``) says how
its text runs, and ``ocr-detector`` (``opencv``, ``learned``, ``auto``) what finds its lines
(default: the configured ``OCR_DETECTOR``); any other value, or a detector the engine lacks, is
recorded as an ``invalid_input`` error.

Documents and output formats are read and written by :mod:`ocr_service.handlers.documents`;
a long document is fanned out in page ranges by :mod:`ocr_service.handlers.page_ranges`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ocr_engine.config import check_direction
from ocr_engine.errors import InvalidInput, OcrError
from ocr_engine.schema import DocumentResult, OcrResult
from ocr_service import fanout
from ocr_service.fanout import RangeTask, range_label
from ocr_service.handlers import object_job, runtime
from ocr_service.handlers import object_state as shared
from ocr_service.handlers.documents import (
    DOCUMENT_SUFFIXES,
    _document_limits,
    _document_pages,
    _output_formats,
    _size_limit,
    _write_formats,
)
from ocr_service.handlers.object_job import ClaimBusy, _Job, _Version
from ocr_service.handlers.page_ranges import _fan_out, _no_time_for, _queue, process_range
from ocr_service.handlers.results import result_document
from ocr_service.keys import error_key, result_key
from ocr_service.observability import logger, metrics, tracer
from ocr_service.status import http_status
from ocr_service.store import StaleEvent

__all__ = ["DOCUMENT_SUFFIXES", "ClaimBusy", "handler", "process_object", "process_range"]

# Upload metadata (x-amz-meta-ocr-direction) that sets how the text runs for that image.
META_DIRECTION = "ocr-direction"
# Upload metadata (x-amz-meta-ocr-detector) that sets the line finder for that image.
META_DETECTOR = "ocr-detector"

processor = BatchProcessor(event_type=EventType.SQS)
runtime.init_engine(logger)


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
    settings = shared.SETTINGS
    if not object_job._should_process(bucket, key):
        logger.info("skipping key outside the uploads prefix or inside the results prefix", extra={"key": key})
        return "skipped"
    job = _Job(
        bucket=bucket,
        key=key,
        out_bucket=settings.results_bucket or bucket,
        out_key=result_key(key, settings.results_prefix),
        err_key=error_key(key, settings.results_prefix),
        version=_Version((etag or "").strip('"'), version_id or None, sequencer or None),
        deadline=shared._deadline.get() or time.time() + shared.DEFAULT_BUDGET_S,
    )
    try:
        return _process(job)
    finally:
        object_job.release_claim(job)


def _process(job: _Job) -> str:
    object_job._read_records(job)
    outcome = object_job._verdict(job)
    if outcome:
        return object_job._acknowledge(job, outcome)

    source: dict[str, Any] = {
        "bucket": job.bucket,
        "key": job.key,
        "etag": job.version.etag or None,
        "version_id": job.version.version_id,
    }
    start = time.perf_counter()
    try:
        try:
            obj = shared.store.read(
                job.bucket, job.key, job.version.version_id, etag=job.version.etag, max_bytes=_size_limit(job.key)
            )
        except StaleEvent as err:
            return object_job._acknowledge(job, "stale", str(err))
        source = obj.describe()
        job.version = replace(job.version, etag=obj.etag, version_id=obj.version_id)
        # (For an event without an ETag, only now is it known whether a record answers it.)
        outcome = object_job._verdict(job) or object_job._claim(job)
        if outcome:
            return object_job._acknowledge(job, outcome)
        direction = obj.metadata.get(META_DIRECTION)
        if direction is not None:
            check_direction(direction, name=f"metadata {META_DIRECTION}")
        detector = obj.metadata.get(META_DETECTOR)
        if detector is not None:
            runtime.check_request_detector(detector, name=f"metadata {META_DETECTOR}")
        chosen = runtime.chosen_detector(detector)
        formats = _output_formats(obj.metadata)
        kind, pages = _document_pages(obj.body)
        engine: Any = runtime.get_engine()
        result: OcrResult | DocumentResult
        if kind is None:
            result = engine.run(obj.body, direction, **chosen)
        elif pages > shared.SETTINGS.pages_per_task:
            outcome = _fan_out(job, source, kind, pages, formats, direction, detector)
            return object_job._acknowledge(job, outcome) if outcome != "fanned_out" else outcome
        else:
            result = engine.run_document(obj.body, direction=direction, limits=_document_limits(), **chosen)
        outcome = _write_formats(job, result, formats, obj.body)
        if outcome:
            return object_job._acknowledge(job, outcome)
    except OcrError as err:
        outcome = object_job._write_error(job, source, err.code, err.message, http_status(err), retryable=False)
        if outcome:
            return object_job._acknowledge(job, outcome)
        metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
        logger.warning("image refused", extra={"key": job.key, "error": err.code, "detail": err.message})
        return "failed"
    except ClaimBusy:
        metrics.add_metric(name="ClaimTimeouts", unit=MetricUnit.Count, value=1)
        raise
    except Exception as err:
        code = object_job._client_error_code(err)
        if code in {"NoSuchKey", "NoSuchVersion", "404"}:
            # The upload is gone (deleted before we ran): record it, retrying cannot help.
            outcome = object_job._write_error(job, source, "source_missing", str(err), 404, retryable=False)
            if outcome:
                return object_job._acknowledge(job, outcome)
            metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
            return "failed"
        outcome = object_job._write_error(job, source, "internal_error", f"{type(err).__name__}: {err}", 500,
                                          retryable=True)
        if outcome:  # a concurrent worker answered this version, or a newer one superseded it
            return object_job._acknowledge(job, outcome)
        metrics.add_metric(name="ProcessingFailures", unit=MetricUnit.Count, value=1)
        raise

    elapsed_ms = (time.perf_counter() - start) * 1000
    document = result_document(result)
    document["source"] = source
    document["processed_at"] = shared.now()
    outcome = object_job._commit(job, job.out_key, document, status="ok", source_etag=source["etag"])
    if outcome:
        return object_job._acknowledge(job, outcome)
    object_job._drop_error_record(job)  # a stale error record from an earlier attempt
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


def _sqs_record(record: SQSRecord) -> str:
    """Process one SQS message (an S3 notification or a range task); raise to have it retried."""
    try:
        return _sqs_message(record)
    finally:
        shared._records_handled.set(shared._records_handled.get() + 1)


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
    token = shared._deadline.set(time.time() + remaining() / 1000 if callable(remaining) else None)
    handled = shared._records_handled.set(0)
    try:
        return _handle(event, context)
    finally:
        shared._records_handled.reset(handled)
        shared._deadline.reset(token)


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
