"""The :class:`~ocr_service.store.ResultStore` on S3 (a botocore client).

What S3 adds to the protocol:

* every record carries the source ETag, version id and the event's ``sequencer`` as user
  metadata, so one HEAD tells which upload version it answers (:class:`RecordState`);
* an upload is read with ``If-Match`` on the event's ETag: an event whose version is no
  longer the key's current object raises :class:`StaleEvent` instead of being processed;
* records are written with conditional PUTs (``If-None-Match: *`` for the first one,
  ``If-Match: <record ETag>`` to replace one); a lost race raises :class:`WriteConflict`;
* a claim is a small object created with ``If-None-Match: *``; one whose time is up is
  taken over with ``If-Match``, so of several workers racing for it exactly one gets it;
* output files (formats beside the JSON) carry the source ETag and version id too.
"""

from __future__ import annotations

import json
from typing import Any

from ocr_engine.errors import ImageTooLarge
from ocr_service.store import Claim, RecordState, SourceObject, StaleEvent, WriteConflict

# User metadata keys stored on every record; used to make reprocessing idempotent.
META_SOURCE_ETAG = "source-etag"
META_SOURCE_VERSION = "source-version"
META_STATUS = "ocr-status"
# The S3 event's sequencer (hex): orders the events of one key.
META_SOURCE_SEQUENCER = "source-sequencer"
# Claims: who holds one and until when (Unix time, seconds).
META_CLAIM_OWNER = "claim-owner"
META_CLAIM_EXPIRES = "claim-expires"

# A conditional request lost: 412 (the ETag no longer matches / the key exists), 409 (a
# concurrent conditional write), 404 (If-Match on a key deleted meanwhile).
_CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey", "404", "NotFound"}


def _clean_etag(etag: str | None) -> str:
    return (etag or "").strip('"')


class S3Store:
    """The result store on one S3 client (a :class:`~ocr_service.store.ResultStore`).

    Args:
        client: A botocore or boto3 S3 client (created once per container by the handler).
        max_image_bytes: Uploads larger than this are refused before they are downloaded.
    """

    def __init__(self, client: Any, max_image_bytes: int) -> None:
        self._s3 = client
        self._max = max_image_bytes

    def read(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        *,
        etag: str | None = None,
        max_bytes: int | None = None,
    ) -> SourceObject:
        """Download one object: the event's version, and only while it is the current one.

        Args:
            bucket: Source bucket.
            key: Object key.
            version_id: The event's version id (versioned buckets).
            etag: The event's ETag. With it (or with a version id) the key's current object
                is read (``If-Match`` on the ETag) and must be that version; an event for a
                version since replaced raises :class:`StaleEvent` without a download. When
                the key has no current object any more (deleted), the version is read by id.
            max_bytes: The size limit of this read (a document's); ``max_image_bytes`` by default.

        Raises:
            StaleEvent: a newer object replaced the event's version.
            ImageTooLarge: the object is bigger than the limit (not downloaded).
        """
        etag = _clean_etag(etag)
        limit = self._max if max_bytes is None else max_bytes
        if not etag and not version_id:
            return self._get(bucket, key, {}, limit=limit)
        try:
            return self._get(bucket, key, {"IfMatch": etag} if etag else {}, expect_version=version_id, limit=limit)
        except self._s3.exceptions.ClientError as err:
            if _code(err) in {"PreconditionFailed", "412"}:
                raise StaleEvent(f"{key}: the current object is no longer ETag {etag}") from err
            if not (version_id and _is_not_found(err)):
                raise
        # The key has no current object (deleted since): the event's version, by id.
        return self._get(bucket, key, {"VersionId": version_id}, limit=limit)

    def _get(
        self, bucket: str, key: str, extra: dict[str, Any], *, limit: int, expect_version: str | None = None
    ) -> SourceObject:
        resp = self._s3.get_object(Bucket=bucket, Key=key, **extra)
        got_version = resp.get("VersionId") if resp.get("VersionId") not in (None, "null") else None
        if expect_version and got_version != expect_version:
            resp["Body"].close()
            raise StaleEvent(f"{key}: the current version is {got_version}, not {expect_version}")
        size = int(resp.get("ContentLength", 0))
        if size > limit:
            resp["Body"].close()
            raise ImageTooLarge(f"object is {size} bytes; the limit is {limit}")
        body = resp["Body"].read()
        return SourceObject(
            bucket=bucket,
            key=key,
            body=body,
            etag=_clean_etag(resp.get("ETag")),
            version_id=got_version,
            content_type=resp.get("ContentType"),
            size=len(body),
            metadata={k.lower(): v for k, v in (resp.get("Metadata") or {}).items()},
        )

    def is_current(self, bucket: str, key: str, etag: str, version_id: str | None) -> bool:
        """True unless a different object than this version is now the key's current one."""
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as err:
            if _is_not_found(err):
                return True  # deleted: nothing newer replaced it
            raise
        if etag and _clean_etag(head.get("ETag")) != etag:
            return False
        current = head.get("VersionId") if head.get("VersionId") not in (None, "null") else None
        return not (version_id and current != version_id)

    def record_state(self, bucket: str, key: str) -> RecordState | None:
        """The record at ``key`` (one HEAD), or ``None`` when there is none."""
        found = self._head_with_metadata(bucket, key)
        if found is None:
            return None
        head, meta = found
        return _record_state(head, meta)

    def read_record(self, bucket: str, key: str) -> tuple[RecordState, dict[str, Any]] | None:
        """The record at ``key`` and its state, from one GET; ``None`` when there is none."""
        try:
            resp = self._s3.get_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as err:
            if _is_not_found(err):
                return None
            raise
        document = json.loads(resp["Body"].read())
        meta = {k.lower(): v for k, v in (resp.get("Metadata") or {}).items()}
        return _record_state(resp, meta), document

    def write_record(
        self,
        bucket: str,
        key: str,
        document: dict[str, Any] | bytes,
        *,
        source_etag: str,
        source_version: str | None,
        status: str,
        sequencer: str | None = None,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write a record; conditionally with ``if_match`` (its ETag) or ``if_none_match``.

        ``document`` is a JSON-ready dict (written indented), or the record's JSON as UTF-8 bytes.

        Returns:
            The written record's ETag.

        Raises:
            WriteConflict: the condition failed (the record changed or appeared meanwhile).
        """
        if isinstance(document, bytes):
            body = document
        else:
            body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        metadata = {META_SOURCE_ETAG: source_etag or "", META_SOURCE_VERSION: source_version or "", META_STATUS: status}
        if sequencer:
            metadata[META_SOURCE_SEQUENCER] = sequencer
        return self._put(
            bucket, key, body, "application/json; charset=utf-8", metadata, if_match=if_match, if_none_match=if_none_match
        )

    def _put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str,
        metadata: dict[str, str],
        *,
        if_match: str | None,
        if_none_match: bool,
    ) -> str:
        kwargs: dict[str, Any] = {}
        if if_match:
            kwargs["IfMatch"] = if_match
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            resp = self._s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata, **kwargs
            )
        except self._s3.exceptions.ClientError as err:
            if kwargs and _code(err) in _CONFLICT_CODES:
                raise WriteConflict(f"{key}: {_code(err)}") from err
            raise
        return str(resp.get("ETag") or "")

    def write_output(
        self, bucket: str, key: str, body: bytes, *, content_type: str, source_etag: str, source_version: str | None
    ) -> str:
        """Write an output file beside the records (plain PUT), with its source version as metadata."""
        metadata = {META_SOURCE_ETAG: source_etag or "", META_SOURCE_VERSION: source_version or ""}
        return self._put(bucket, key, body, content_type, metadata, if_match=None, if_none_match=False)

    def delete(self, bucket: str, key: str, *, if_match: str | None = None) -> None:
        """Delete ``key`` if it exists (deleting a missing key is not an error in S3).

        Raises:
            WriteConflict: ``if_match`` was given and the object has another ETag (or is gone).
        """
        kwargs: dict[str, Any] = {"IfMatch": if_match} if if_match else {}
        try:
            self._s3.delete_object(Bucket=bucket, Key=key, **kwargs)
        except self._s3.exceptions.ClientError as err:
            if kwargs and _code(err) in _CONFLICT_CODES:
                raise WriteConflict(f"{key}: {_code(err)}") from err
            raise

    # ------------------------------------------------------------ claims
    def try_claim(self, bucket: str, key: str, *, owner: str, expires_at: float, now: float,
                  info: dict[str, Any]) -> Claim:
        """Claim ``key`` for ``owner`` until ``expires_at``, unless someone holds it.

        Creates the claim with ``If-None-Match: *``; a claim already there whose time is up
        (its holder crashed or timed out) is taken over with ``If-Match`` on its ETag, so of
        several workers racing for it exactly one gets it.

        Returns:
            A :class:`Claim`: ``acquired`` with our ETag, or not, with the holder's expiry.
        """
        body = json.dumps({**info, "owner": owner, "expires_at": expires_at}, ensure_ascii=False).encode("utf-8")
        meta = {META_CLAIM_OWNER: owner, META_CLAIM_EXPIRES: f"{expires_at:.3f}"}
        for _ in range(3):
            try:
                etag = self._put(bucket, key, body, "application/json", meta, if_match=None, if_none_match=True)
                return Claim(key, True, etag, expires_at)
            except WriteConflict:
                pass
            holder = self._claim_head(bucket, key)
            if holder is None:
                continue  # released meanwhile: try again
            held_etag, held_owner, held_until = holder
            if held_owner == owner:
                # Our own PUT, retried by botocore after a lost reply.
                return Claim(key, True, held_etag, expires_at)
            if held_until > now:
                return Claim(key, False, held_etag, held_until)
            try:
                etag = self._put(bucket, key, body, "application/json", meta, if_match=held_etag, if_none_match=False)
                return Claim(key, True, etag, expires_at)
            except WriteConflict:
                continue  # someone else took it over first, or released it: look again
        holder = self._claim_head(bucket, key)
        return Claim(key, False, holder[0] if holder else "", holder[2] if holder else now)

    def _head_with_metadata(self, bucket: str, key: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """HEAD of ``key`` and its user metadata (lower-case names), or ``None`` when it is absent."""
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as err:
            if _is_not_found(err):
                return None
            raise
        return head, {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}

    def _claim_head(self, bucket: str, key: str) -> tuple[str, str, float] | None:
        found = self._head_with_metadata(bucket, key)
        if found is None:
            return None
        head, meta = found
        try:
            until = float(meta.get(META_CLAIM_EXPIRES) or 0.0)
        except ValueError:
            until = 0.0  # unreadable: expired
        return str(head.get("ETag") or ""), meta.get(META_CLAIM_OWNER) or "", until

    def release_claim(self, bucket: str, claim: Claim) -> None:
        """Delete our claim, unless another worker took it over (conditional delete)."""
        try:
            self.delete(bucket, claim.key, if_match=claim.etag or None)
        except WriteConflict:
            pass


def _record_state(head: dict[str, Any], meta: dict[str, str]) -> RecordState:
    return RecordState(
        etag=str(head.get("ETag") or ""),
        source_etag=meta.get(META_SOURCE_ETAG) or "",
        source_version=meta.get(META_SOURCE_VERSION) or "",
        sequencer=meta.get(META_SOURCE_SEQUENCER) or "",
        status=meta.get(META_STATUS) or "",
    )


def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def _is_not_found(err: Exception) -> bool:
    return _code(err) in {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
