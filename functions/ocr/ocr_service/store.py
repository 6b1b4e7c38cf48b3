"""The result store: what the object handler needs to read uploads and keep their records.

:class:`ResultStore` is the protocol; :class:`~ocr_service.s3_store.S3Store` implements it
on S3, and tests may pass any object with the same methods. Notifications arrive out of
order and at least once, sometimes to several workers at once, so the store offers:

* reads of an upload that refuse a version no longer current (:class:`StaleEvent`);
* a record's state (:class:`RecordState`: the source version it describes, its own ETag);
* conditional writes and deletes of records (:class:`WriteConflict` when a race is lost),
  and reads of a record with its state (the status and parts of a fanned-out document);
* output files beside the records (other formats than JSON);
* claims (:class:`Claim`): one worker runs the OCR of a version while the others wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class StaleEvent(Exception):
    """The event's object version is no longer the key's current one (a newer one replaced it)."""


class WriteConflict(Exception):
    """A conditional write or delete lost: the object changed since it was last read."""


def sequencer_after(a: str | None, b: str | None) -> bool | None:
    """Whether S3 event sequencer ``a`` is later than ``b`` (same key); ``None`` if unknown.

    Sequencers are hex strings of varying length; AWS compares them left-padded with zeros,
    which is comparing their integer values. A missing or malformed one orders nothing.
    """
    try:
        if not a or not b:
            return None
        return int(a, 16) > int(b, 16)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RecordState:
    """What the store knows of a result or error record: its own ETag and the source it describes."""

    etag: str  # the record object's ETag, for If-Match
    source_etag: str
    source_version: str
    sequencer: str
    status: str

    def describes(self, etag: str | None, version_id: str | None) -> bool:
        """True when the record was written for this exact source version.

        A retryable error record stores no source ETag, so it never describes a version.
        """
        if not etag or self.source_etag != etag:
            return False
        if version_id is None:
            # Events without a version id (unversioned buckets, some emulators): same ETag,
            # same bytes, same result.
            return True
        return self.source_version == version_id


@dataclass(frozen=True)
class Claim:
    """The answer of :meth:`ResultStore.try_claim`."""

    key: str
    acquired: bool
    etag: str  # ours when acquired (to release it), else the holder's
    expires_at: float  # when the claim runs out (ours, or the holder's)


@dataclass(frozen=True)
class SourceObject:
    """One uploaded object, as read from the store."""

    bucket: str
    key: str
    body: bytes
    etag: str
    version_id: str | None
    content_type: str | None
    size: int
    metadata: dict[str, str] = field(default_factory=dict)  # user metadata, keys lower-cased

    def describe(self) -> dict[str, Any]:
        """The ``source`` block written into result and error records."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version_id": self.version_id,
            "size": self.size,
            "content_type": self.content_type,
        }


class ResultStore(Protocol):
    """Uploads in, result and error records out, with the checks that make it idempotent."""

    def read(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        *,
        etag: str | None = None,
        max_bytes: int | None = None,
    ) -> SourceObject:
        """The upload, only while it is the event's version.

        ``max_bytes`` replaces the store's image limit for this read (documents have their own).

        Raises:
            StaleEvent: a newer object replaced the event's version.
            ImageTooLarge: the upload is bigger than the limit (not downloaded).
        """
        ...

    def is_current(self, bucket: str, key: str, etag: str, version_id: str | None) -> bool:
        """True unless another object than this version is now the key's current one."""
        ...

    def record_state(self, bucket: str, key: str) -> RecordState | None:
        """The record at ``key``, or ``None`` when there is none."""
        ...

    def read_record(self, bucket: str, key: str) -> tuple[RecordState, dict[str, Any]] | None:
        """The record at ``key`` with its state (one GET), or ``None`` when there is none."""
        ...

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
        """Write a result (``status="ok"``) or error record (``"error"``); its ETag.

        ``document`` is the record, or its JSON already serialized (UTF-8 bytes). Conditional on ``if_match`` (the record's ETag) or ``if_none_match`` (no record yet).

        Raises:
            WriteConflict: the condition failed (the record changed or appeared meanwhile).
        """
        ...

    def write_output(
        self, bucket: str, key: str, body: bytes, *, content_type: str, source_etag: str, source_version: str | None
    ) -> str:
        """Write an output file (a format beside the JSON record), marked with its source version; its ETag."""
        ...

    def delete(self, bucket: str, key: str, *, if_match: str | None = None) -> None:
        """Delete ``key`` if it exists.

        Raises:
            WriteConflict: ``if_match`` was given and the object has another ETag (or is gone).
        """
        ...

    def try_claim(
        self, bucket: str, key: str, *, owner: str, expires_at: float, now: float, info: dict[str, Any]
    ) -> Claim:
        """Claim ``key`` for ``owner`` until ``expires_at``, unless a live claim holds it."""
        ...

    def release_claim(self, bucket: str, claim: Claim) -> None:
        """Give a claim back, unless another worker took it over meanwhile."""
        ...
