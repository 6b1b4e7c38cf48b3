"""S3 storage adapter used by the object-trigger handler.

The handler never talks to boto3 directly: it reads uploads and writes result / error
records through :class:`S3Store`, which keeps the S3 details (version ids, ETags, metadata
used for idempotency) in one place and is easy to replace with a fake in tests.

Result layout (same bucket by default, or a separate results bucket)::

    uploads/收据 2024.png                      <- the upload
    results/uploads/收据 2024.png.json         <- the OCR result
    results/uploads/收据 2024.png.error.json   <- written instead when the upload failed

S3 keys are at most 1024 bytes of UTF-8. When ``<prefix>/<key><suffix>`` would be longer, the
record goes to ``<prefix>/_long-keys/<sha256 hex of the UTF-8 key><suffix>`` instead: the
same upload key always maps to the same short key (so idempotency checks and the clean-up
of a stale error record still find it), and the ``source.key`` field of every record holds
the full upload key. Records under the results prefix, and ``.json`` keys in the same
bucket, are never processed again, so the short keys do not retrigger the handler either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ocr_service.errors import ImageTooLarge

RESULT_SUFFIX = ".json"
ERROR_SUFFIX = ".error.json"
# S3's limit on the length of a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Folder (under the results prefix) for records of keys too long to be mirrored.
LONG_KEYS_DIR = "_long-keys"

# User metadata keys stored on every record; used to make reprocessing idempotent.
META_SOURCE_ETAG = "source-etag"
META_SOURCE_VERSION = "source-version"
META_STATUS = "ocr-status"


@dataclass(frozen=True)
class SourceObject:
    """One uploaded object, as read from S3."""

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


def result_key(key: str, prefix: str) -> str:
    """Where the result for upload ``key`` goes: ``<prefix>/<key>.json`` (see :func:`record_key`)."""
    return record_key(key, prefix, RESULT_SUFFIX)


def error_key(key: str, prefix: str) -> str:
    """Where the error record for upload ``key`` goes: ``<prefix>/<key>.error.json`` (see :func:`record_key`)."""
    return record_key(key, prefix, ERROR_SUFFIX)


def record_key(key: str, prefix: str, suffix: str) -> str:
    """The key of a record for upload ``key``, always a valid S3 key length.

    Args:
        key: The upload's key (decoded).
        prefix: The results prefix (with or without a trailing ``/``).
        suffix: :data:`RESULT_SUFFIX` or :data:`ERROR_SUFFIX`.

    Returns:
        ``<prefix>/<key><suffix>`` when that fits in :data:`MAX_KEY_BYTES` UTF-8 bytes,
        otherwise ``<prefix>/_long-keys/<sha256 hex of key><suffix>``.
    """
    mirrored = _join(prefix, key) + suffix
    if len(mirrored.encode("utf-8")) <= MAX_KEY_BYTES:
        return mirrored
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return _join(prefix, f"{LONG_KEYS_DIR}/{digest}") + suffix


def longest_results_prefix() -> int:
    """The longest results prefix, in UTF-8 bytes, for which every record key fits in S3."""
    return MAX_KEY_BYTES - len(f"/{LONG_KEYS_DIR}/") - 64 - len(ERROR_SUFFIX)


def _join(prefix: str, key: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{key}" if prefix else key


def _clean_etag(etag: str | None) -> str:
    return (etag or "").strip('"')


class S3Store:
    """Thin wrapper over a boto3 S3 client.

    Args:
        client: A boto3 S3 client (created once per container by the handler module).
        max_object_bytes: Objects larger than this are refused before they are downloaded.
    """

    def __init__(self, client: Any, max_object_bytes: int) -> None:
        self._s3 = client
        self._max = max_object_bytes

    def head(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        return self._s3.head_object(**kwargs)

    def read(self, bucket: str, key: str, version_id: str | None = None) -> SourceObject:
        """Download one object (a specific version when the bucket is versioned).

        Raises:
            ImageTooLarge: the object is bigger than ``max_object_bytes`` (not downloaded).
        """
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        resp = self._s3.get_object(**kwargs)
        size = int(resp.get("ContentLength", 0))
        if size > self._max:
            resp["Body"].close()
            raise ImageTooLarge(f"object is {size} bytes; the limit is {self._max}")
        body = resp["Body"].read()
        return SourceObject(
            bucket=bucket,
            key=key,
            body=body,
            etag=_clean_etag(resp.get("ETag")),
            version_id=resp.get("VersionId") if resp.get("VersionId") not in (None, "null") else None,
            content_type=resp.get("ContentType"),
            size=len(body),
            metadata={k.lower(): v for k, v in (resp.get("Metadata") or {}).items()},
        )

    def record_matches(self, bucket: str, key: str, etag: str, version_id: str | None) -> bool:
        """True when a record at ``key`` was already written for this exact source version."""
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as err:
            if _is_not_found(err):
                return False
            raise
        meta = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        if not etag or meta.get(META_SOURCE_ETAG) != etag:
            return False
        if version_id is None:
            # Events without a version id (unversioned buckets, some emulators): same ETag,
            # same bytes, same result.
            return True
        return (meta.get(META_SOURCE_VERSION) or "") == version_id

    def write_json(
        self,
        bucket: str,
        key: str,
        document: dict[str, Any],
        *,
        source_etag: str,
        source_version: str | None,
        status: str,
    ) -> None:
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        self._s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json; charset=utf-8",
            Metadata={
                META_SOURCE_ETAG: source_etag or "",
                META_SOURCE_VERSION: source_version or "",
                META_STATUS: status,
            },
        )

    def delete(self, bucket: str, key: str) -> None:
        """Delete ``key`` if it exists (deleting a missing key is not an error in S3)."""
        self._s3.delete_object(Bucket=bucket, Key=key)


def _is_not_found(err: Exception) -> bool:
    code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}
