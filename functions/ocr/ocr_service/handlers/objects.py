"""Object trigger: OCR every image uploaded to the bucket.

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
A key too long to mirror (the record key would exceed S3's 1024 UTF-8 bytes) gets its record
at ``<results-prefix>_long-keys/<sha256 hex of the key>.json`` (or ``.error.json``) instead;
``source.key`` in the record holds the full key (see :mod:`ocr_service.storage`).
An upload's user metadata ``ocr-direction`` (``auto``, ``horizontal``, ``vertical``) says how
its text runs; any other value is recorded as an ``invalid_input`` error.
"""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import botocore.session
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ocr_service.config import TEXT_DIRECTIONS
from ocr_service.errors import InvalidInput, OcrError
from ocr_service.handlers import runtime
from ocr_service.handlers.results import result_document
from ocr_service.storage import S3Store, error_key, result_key

# Upload metadata (x-amz-meta-ocr-direction) that sets how the text runs for that image.
META_DIRECTION = "ocr-direction"

SETTINGS = runtime.HandlerSettings.from_env()
logger = Logger(service=runtime.SERVICE_NAME)
tracer = runtime.make_tracer()  # Powertools Tracer when OCR_TRACING=true
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=runtime.SERVICE_NAME)
# Requests such as GET /health publish no metric; that is expected, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
processor = BatchProcessor(event_type=EventType.SQS)
# botocore directly, not boto3: the same client, ~0.4 s less import time at cold start
# (boto3 pulls in s3transfer). Region and endpoint come from the environment as usual.
store = S3Store(botocore.session.get_session().create_client("s3"), SETTINGS.max_object_bytes)
runtime.init_engine(logger)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@tracer.capture_method(capture_response=False)
def process_object(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    etag: str | None = None,
) -> str:
    """OCR one uploaded object and write its result or error record.

    Args:
        bucket: Source bucket.
        key: Object key, already URL-decoded.
        version_id: Object version from the event (versioned buckets).
        etag: ETag from the event, used to skip versions already processed.

    Returns:
        ``"ok"``, ``"failed"`` (error record written, do not retry), ``"duplicate"`` or
        ``"skipped"``.

    Raises:
        Exception: any unexpected failure, after a retryable error record was attempted.
    """
    settings = SETTINGS
    if not _should_process(bucket, key):
        logger.info("skipping key outside the uploads prefix or inside the results prefix", extra={"key": key})
        return "skipped"
    out_bucket = settings.results_bucket or bucket
    out_key = result_key(key, settings.results_prefix)
    err_key = error_key(key, settings.results_prefix)
    etag = (etag or "").strip('"')

    if etag and store.record_matches(out_bucket, out_key, etag, version_id):
        logger.info("result already written for this object version", extra={"result_key": out_key})
        return "duplicate"
    if etag and store.record_matches(out_bucket, err_key, etag, version_id):
        logger.info("error already recorded for this object version", extra={"error_key": err_key})
        return "duplicate"

    source: dict[str, Any] = {"bucket": bucket, "key": key, "etag": etag or None, "version_id": version_id}
    start = time.perf_counter()
    try:
        obj = store.read(bucket, key, version_id)
        source = obj.describe()
        direction = obj.metadata.get(META_DIRECTION)
        if direction is not None and direction not in TEXT_DIRECTIONS:
            raise InvalidInput(f"metadata {META_DIRECTION} must be one of {', '.join(TEXT_DIRECTIONS)}")
        result = runtime.run_engine(obj.body, direction)
    except OcrError as err:
        _write_error(out_bucket, err_key, source, err.code, err.message, err.http_status, retryable=False)
        metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
        logger.warning("image refused", extra={"key": key, "error": err.code, "detail": err.message})
        return "failed"
    except Exception as err:
        code = _client_error_code(err)
        if code in {"NoSuchKey", "NoSuchVersion", "404"}:
            # The upload is gone (deleted before we ran): record it, retrying cannot help.
            _write_error(out_bucket, err_key, source, "source_missing", str(err), 404, retryable=False)
            metrics.add_metric(name="ImageErrors", unit=MetricUnit.Count, value=1)
            return "failed"
        _write_error(out_bucket, err_key, source, "internal_error", f"{type(err).__name__}: {err}", 500, retryable=True)
        metrics.add_metric(name="ProcessingFailures", unit=MetricUnit.Count, value=1)
        raise

    elapsed_ms = (time.perf_counter() - start) * 1000
    document = result_document(result)
    document["source"] = source
    document["processed_at"] = _now()
    store.write_json(
        out_bucket, out_key, document, source_etag=source["etag"], source_version=source["version_id"], status="ok"
    )
    store.delete(out_bucket, err_key)  # a stale error record from an earlier attempt
    lines = len(document.get("lines") or [])
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=lines)
    logger.info(
        "image processed",
        extra={"key": key, "result_key": out_key, "lines": lines, "latency_ms": round(elapsed_ms, 1)},
    )
    return "ok"


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
    bucket: str,
    key: str,
    source: dict[str, Any],
    code: str,
    message: str,
    status: int,
    *,
    retryable: bool,
) -> None:
    document = {
        "success": False,
        "error": {"code": code, "message": message, "status": status, "retryable": retryable},
        "source": source,
        "processed_at": _now(),
    }
    try:
        store.write_json(
            bucket,
            key,
            document,
            # A retryable record must not mark this version as done: the redelivered
            # message has to run again, so it carries no source ETag to match.
            source_etag="" if retryable else source.get("etag") or "",
            source_version=source.get("version_id"),
            status="error",
        )
    except Exception:  # noqa: BLE001 - the original failure matters more
        logger.exception("could not write the error record", extra={"error_key": key})


def _client_error_code(err: Exception) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _s3_records(notification: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    """(bucket, decoded key, version id, etag) for each object-created record."""
    out = []
    for record in S3Event(notification).records:
        if not record.event_name.startswith("ObjectCreated"):
            continue
        obj = record.s3.get_object
        out.append((record.s3.bucket.name, unquote_plus(obj.key), obj.version_id, obj.etag or None))
    return out


def _sqs_record(record: SQSRecord) -> str:
    """Process one SQS message carrying an S3 notification; raise to have it retried."""
    logger.set_correlation_id(record.message_id)
    body = json.loads(record.body)
    if body.get("Event") == "s3:TestEvent":
        logger.info("ignoring the s3:TestEvent sent when the notification was configured")
        return "skipped"
    if "Records" not in body:
        # Not an S3 notification: nothing to retry; leave a trace and acknowledge.
        logger.error("message is not an S3 notification", extra={"body": record.body[:500]})
        return "skipped"
    outcomes = [process_object(b, k, version_id=v, etag=e) for b, k, v, e in _s3_records(body)]
    return ",".join(outcomes)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point for SQS-delivered and direct S3 notifications."""
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
    parsed: list[tuple[str, str, str | None, str | None]] = []
    for record in records:
        try:  # one malformed record must not stop the valid ones
            parsed.extend(_s3_records({"Records": [record]}))
        except Exception as err:  # noqa: BLE001 - counted as a failure below
            logger.error("record is not an S3 notification record", extra={"error": f"{type(err).__name__}: {err}"})
            outcomes.append({"key": "", "status": "invalid"})
            failures.append(err)
    for bucket, key, version_id, etag in parsed:
        try:
            outcomes.append({"key": key, "status": process_object(bucket, key, version_id=version_id, etag=etag)})
        except Exception as err:  # noqa: BLE001 - the others still run; the invocation fails below
            outcomes.append({"key": key, "status": "error"})
            failures.append(err)
    if failures:
        # Direct S3 invocations are asynchronous: raising makes Lambda retry them and then
        # send them to the on-failure destination.
        raise RuntimeError(f"{len(failures)} of {len(outcomes)} objects failed") from failures[0]
    return {"results": outcomes}
