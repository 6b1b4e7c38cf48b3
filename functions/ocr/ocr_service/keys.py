"""Where the records of an upload go: result, error, status, output and claim keys.

Layout (same bucket by default, or a separate results bucket)::

    uploads/收据 2024.png                      <- the upload
    results/uploads/收据 2024.png.json         <- the OCR result
    results/uploads/收据 2024.png.error.json   <- written instead when the upload failed
    results/uploads/收据 2024.png.txt          <- other output formats, beside the JSON
    results/_claims/<sha256>.json              <- while one worker reads that version
    uploads/长报告.pdf                          <- a document read in page ranges (fan-out):
    results/uploads/长报告.pdf.status.json      <- its progress (ranges done / total)
    results/_parts/<sha256>/1-20.json          <- one part per page range, until assembled

S3 keys are at most 1024 bytes of UTF-8. When ``<prefix>/<key><suffix>`` would be longer, the
record goes to ``<prefix>/_long-keys/<sha256 hex of the UTF-8 key><suffix>`` instead: the
same upload key always maps to the same short key, and the ``source.key`` field of every
record holds the full upload key.
"""

from __future__ import annotations

import hashlib

RESULT_SUFFIX = ".json"
ERROR_SUFFIX = ".error.json"
STATUS_SUFFIX = ".status.json"
# The longest suffix a record may get (``.status.json``, or ``.<output extension>``): what
# :func:`longest_results_prefix` leaves room for.
MAX_SUFFIX_BYTES = 20
# S3's limit on the length of a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Folder (under the results prefix) for records of keys too long to be mirrored.
LONG_KEYS_DIR = "_long-keys"
# Folder (under the results prefix) for the claims of uploads being processed right now.
CLAIMS_DIR = "_claims"
# Folder (under the results prefix) for the page-range parts of documents being fanned out.
PARTS_DIR = "_parts"


def result_key(key: str, prefix: str) -> str:
    """Where the result for upload ``key`` goes: ``<prefix>/<key>.json`` (see :func:`record_key`)."""
    return record_key(key, prefix, RESULT_SUFFIX)


def error_key(key: str, prefix: str) -> str:
    """Where the error record for upload ``key`` goes: ``<prefix>/<key>.error.json`` (see :func:`record_key`)."""
    return record_key(key, prefix, ERROR_SUFFIX)


def status_key(key: str, prefix: str) -> str:
    """Where the fan-out status of document ``key`` goes: ``<prefix>/<key>.status.json``."""
    return record_key(key, prefix, STATUS_SUFFIX)


def output_key(key: str, prefix: str, extension: str) -> str:
    """Where output format ``extension`` (``txt``, ``pdf``...) of upload ``key`` goes: ``<prefix>/<key>.<ext>``.

    Raises:
        ValueError: an extension longer than :data:`MAX_SUFFIX_BYTES` allows.
    """
    suffix = "." + extension.lstrip(".")
    if len(suffix.encode("utf-8")) > MAX_SUFFIX_BYTES:
        raise ValueError(f"output extension {extension!r} is longer than {MAX_SUFFIX_BYTES - 1} bytes")
    return record_key(key, prefix, suffix)


def record_key(key: str, prefix: str, suffix: str) -> str:
    """The key of a record for upload ``key``, always a valid S3 key length.

    Args:
        key: The upload's key (decoded).
        prefix: The results prefix (with or without a trailing ``/``).
        suffix: :data:`RESULT_SUFFIX`, :data:`ERROR_SUFFIX`, :data:`STATUS_SUFFIX` or an
            output's ``.<extension>`` (at most :data:`MAX_SUFFIX_BYTES`).

    Returns:
        ``<prefix>/<key><suffix>`` when that fits in :data:`MAX_KEY_BYTES` UTF-8 bytes,
        otherwise ``<prefix>/_long-keys/<sha256 hex of key><suffix>``.
    """
    mirrored = _join(prefix, key) + suffix
    if len(mirrored.encode("utf-8")) <= MAX_KEY_BYTES:
        return mirrored
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return _join(prefix, f"{LONG_KEYS_DIR}/{digest}") + suffix


def claim_key(key: str, prefix: str, version_id: str | None, etag: str, purpose: str = "") -> str:
    """The claim of one upload version: ``<prefix>/_claims/<sha256 of key, version, etag>.json``.

    ``purpose`` names another claim of the same version (``"assemble"``: the one worker that
    assembles a fanned-out document); the default is the claim of reading the upload.
    """
    fields = (key, version_id or "", etag, purpose) if purpose else (key, version_id or "", etag)
    digest = hashlib.sha256("\n".join(fields).encode("utf-8")).hexdigest()
    return _join(prefix, f"{CLAIMS_DIR}/{digest}") + RESULT_SUFFIX


def parts_prefix(key: str, prefix: str, version_id: str | None, etag: str) -> str:
    """The folder of one upload version's page-range parts: ``<prefix>/_parts/<sha256>/``.

    The digest covers the key, version id and ETag, so the parts of two versions of a key
    never meet: a document assembled from them is one version's pages only.
    """
    digest = hashlib.sha256("\n".join((key, version_id or "", etag)).encode("utf-8")).hexdigest()
    return _join(prefix, f"{PARTS_DIR}/{digest}") + "/"


def part_key(key: str, prefix: str, version_id: str | None, etag: str, first: int, last: int) -> str:
    """The part of pages ``first``..``last`` (1-based, inclusive): ``<parts prefix><first>-<last>.json``."""
    return f"{parts_prefix(key, prefix, version_id, etag)}{first}-{last}{RESULT_SUFFIX}"


def longest_results_prefix() -> int:
    """The longest results prefix, in UTF-8 bytes, for which every record key fits in S3."""
    return MAX_KEY_BYTES - len(f"/{LONG_KEYS_DIR}/") - 64 - MAX_SUFFIX_BYTES


def _join(prefix: str, key: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{key}" if prefix else key
