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
"""

from __future__ import annotations

import json
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
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
from ocr_service.handlers import runtime
from ocr_service.handlers.results import result_document
from ocr_service.keys import claim_key, error_key, result_key
from ocr_service.observability import logger, metrics, tracer
from ocr_service.s3_store import S3Store
from ocr_service.settings import get_settings
from ocr_service.status import http_status
from ocr_service.store import Claim, RecordState, ResultStore, StaleEvent, WriteConflict, sequencer_after

# Upload metadata (x-amz-meta-ocr-direction) that sets how the text runs for that image.
META_DIRECTION = "ocr-direction"

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

# The current invocation's deadline (Unix time), set by the handler from its context.
_deadline: ContextVar[float | None] = ContextVar("ocr_deadline", default=None)

SETTINGS = get_settings()
processor = BatchProcessor(event_type=EventType.SQS)
# botocore directly, not boto3: the same client, ~0.4 s less import time at cold start
# (boto3 pulls in s3transfer). Region and endpoint come from the environment as usual.
store: ResultStore = S3Store(botocore.session.get_session().create_client("s3"), SETTINGS.max_image_bytes)
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
            obj = store.read(job.bucket, job.key, job.version.version_id, etag=job.version.etag)
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
        result = runtime.get_engine().run(obj.body, direction)
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
    lines = len(document.get("lines") or [])
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OcrLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))
    metrics.add_metric(name="LinesRecognised", unit=MetricUnit.Count, value=lines)
    logger.info(
        "image processed",
        extra={"key": job.key, "result_key": job.out_key, "lines": lines, "latency_ms": round(elapsed_ms, 1)},
    )
    return "ok"


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


def _commit(job: _Job, key: str, document: dict[str, Any], *, status: str, source_etag: str | None) -> str | None:
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
    outcomes = [process_object(b, k, version_id=v, etag=e, sequencer=q) for b, k, v, e, q in _s3_records(body)]
    return ",".join(outcomes)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point for SQS-delivered and direct S3 notifications."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    token = _deadline.set(time.time() + remaining() / 1000 if callable(remaining) else None)
    try:
        return _handle(event, context)
    finally:
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
