"""Where the records of an upload go: result, error record and claim keys.

Layout (same bucket by default, or a separate results bucket)::

    uploads/收据 2024.png                      <- the upload
    results/uploads/收据 2024.png.json         <- the OCR result
    results/uploads/收据 2024.png.error.json   <- written instead when the upload failed
    results/_claims/<sha256>.json              <- while one worker reads that version

S3 keys are at most 1024 bytes of UTF-8. When ``<prefix>/<key><suffix>`` would be longer, the
record goes to ``<prefix>/_long-keys/<sha256 hex of the UTF-8 key><suffix>`` instead: the
same upload key always maps to the same short key, and the ``source.key`` field of every
record holds the full upload key.
"""

from __future__ import annotations

import hashlib

RESULT_SUFFIX = ".json"
ERROR_SUFFIX = ".error.json"
# S3's limit on the length of a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Folder (under the results prefix) for records of keys too long to be mirrored.
LONG_KEYS_DIR = "_long-keys"
# Folder (under the results prefix) for the claims of uploads being processed right now.
CLAIMS_DIR = "_claims"


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


def claim_key(key: str, prefix: str, version_id: str | None, etag: str) -> str:
    """The claim of one upload version: ``<prefix>/_claims/<sha256 of key, version, etag>.json``."""
    digest = hashlib.sha256("\n".join((key, version_id or "", etag)).encode("utf-8")).hexdigest()
    return _join(prefix, f"{CLAIMS_DIR}/{digest}") + RESULT_SUFFIX


def longest_results_prefix() -> int:
    """The longest results prefix, in UTF-8 bytes, for which every record key fits in S3."""
    return MAX_KEY_BYTES - len(f"/{LONG_KEYS_DIR}/") - 64 - len(ERROR_SUFFIX)


def _join(prefix: str, key: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{key}" if prefix else key
