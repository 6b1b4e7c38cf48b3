"""One upload version's job and its records: claims, verdicts, conditional writes, error records.

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

Records are read and written through :data:`ocr_service.handlers.object_state.store`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from ocr_service.handlers import object_state as shared
from ocr_service.keys import claim_key
from ocr_service.observability import logger, metrics
from ocr_service.store import Claim, RecordState, WriteConflict, sequencer_after


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



def _read_records(job: _Job) -> None:
    job.result = shared.store.record_state(job.out_bucket, job.out_key)
    job.error = shared.store.record_state(job.out_bucket, job.err_key)


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
    key = claim_key(job.key, shared.SETTINGS.results_prefix, version.version_id, version.etag)
    owner = uuid.uuid4().hex
    info = {"bucket": job.bucket, "key": job.key, "etag": version.etag, "version_id": version.version_id,
            "claimed_at": shared.now()}
    delay, waited = shared.CLAIM_POLL_S, False
    while True:
        claim = shared.store.try_claim(job.out_bucket, key, owner=owner,
                                       expires_at=job.deadline + shared.CLAIM_GRACE_S, now=time.time(), info=info)
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
        left = job.deadline - shared.CLAIM_RESERVE_S - time.time()
        if left <= 0:
            raise ClaimBusy(f"{job.key}: another worker holds the claim until {claim.expires_at:.3f}")
        # Look again after `delay`, and at the latest when the holder's claim runs out.
        time.sleep(max(0.05, min(delay, left, claim.expires_at - time.time() + 0.05)))
        delay = min(delay * 1.5, shared.CLAIM_POLL_MAX_S)
        _read_records(job)
        outcome = _verdict(job)
        if outcome:
            return outcome


def release_claim(job: _Job) -> None:
    """Give back the job's claim, if it holds one (a claim that cannot be deleted expires by itself)."""
    if job.claim is None:
        return
    try:
        shared.store.release_claim(job.out_bucket, job.claim)
    except Exception:  # noqa: BLE001 - the claim expires by itself
        logger.exception("could not release the claim", extra={"claim_key": job.claim.key})


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
    for _ in range(shared.MAX_WRITE_ATTEMPTS):
        state = job.result if is_result else job.error
        try:
            shared.store.write_record(
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
        fresh = shared.store.record_state(job.out_bucket, key)
        if is_result:
            job.result = fresh
        else:
            job.error = fresh
        outcome = _verdict(job)
        if outcome:
            return outcome
        if not shared.store.is_current(job.bucket, job.key, job.version.etag, job.version.version_id):
            return "stale"
    raise RuntimeError(f"{key}: the record kept changing under {shared.MAX_WRITE_ATTEMPTS} conditional writes")


def _drop_error_record(job: _Job) -> None:
    """After a result: delete the error record of an earlier attempt (not a later event's)."""
    state = shared.store.record_state(job.out_bucket, job.err_key)
    if state is None:
        return
    version = job.version
    later = sequencer_after(state.sequencer, version.sequencer)
    if later is None and state.source_etag and not state.describes(version.etag, version.version_id):
        later = not shared.store.is_current(job.bucket, job.key, version.etag, version.version_id)
    if later:
        return
    try:
        shared.store.delete(job.out_bucket, job.err_key, if_match=state.etag or None)
    except WriteConflict:
        pass  # rewritten meanwhile: that writer decides


def _should_process(bucket: str, key: str) -> bool:
    settings = shared.SETTINGS
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
        "processed_at": shared.now(),
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

