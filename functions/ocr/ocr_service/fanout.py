"""Fan-out of long documents: page-range tasks on the queue, and the status record.

A PDF or multi-page TIFF with more pages than ``OCR_PAGES_PER_TASK`` is not read in the
invocation that gets its upload notification. That one counts the pages, writes the
document's status record (:func:`new_status`) and sends one :class:`RangeTask` per range of
pages (:func:`plan_ranges`) to the object function's own queue; each task reads its pages
and writes a part, and the task that completes the last range assembles the result (see
:mod:`ocr_service.handlers.page_ranges`).

A task message is a small JSON object (``"ocr_task": "pages"``): which upload version
(bucket, key, ETag, version id, the event's sequencer), which pages (``first``, ``last``,
1-based and inclusive) and how many ranges and pages there are in all. No page data
travels through the queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

# The field that marks a queue message as a task of ours (S3 notifications have "Records").
TASK_FIELD = "ocr_task"
TASK_KIND = "pages"
# SendMessageBatch takes at most 10 entries; entries SQS refuses are sent again this often.
SQS_BATCH = 10
SEND_ATTEMPTS = 3


def plan_ranges(pages: int, per_task: int) -> list[tuple[int, int]]:
    """The page ranges of a document: ``(first, last)``, 1-based and inclusive, in page order.

    >>> plan_ranges(7, 3)
    [(1, 3), (4, 6), (7, 7)]
    """
    if pages < 1 or per_task < 1:
        raise ValueError(f"cannot plan {pages} pages in ranges of {per_task}")
    return [(first, min(first + per_task - 1, pages)) for first in range(1, pages + 1, per_task)]


def range_label(first: int, last: int) -> str:
    """``"<first>-<last>"``: how a range is named in the status record and its part's key."""
    return f"{first}-{last}"


@dataclass(frozen=True)
class RangeTask:
    """Read pages ``first``..``last`` of one upload version (one queue message)."""

    bucket: str
    key: str
    etag: str
    version_id: str | None
    sequencer: str | None
    first: int
    last: int
    ranges: int
    pages: int

    def to_body(self) -> str:
        """The message body (compact JSON; the key is kept as UTF-8)."""
        body = {
            TASK_FIELD: TASK_KIND,
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version_id": self.version_id,
            "sequencer": self.sequencer,
            "first": self.first,
            "last": self.last,
            "ranges": self.ranges,
            "pages": self.pages,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RangeTask:
        """Parse a decoded message body.

        Raises:
            ValueError: not a well-formed range task.
        """
        if body.get(TASK_FIELD) != TASK_KIND:
            raise ValueError(f"unknown task {body.get(TASK_FIELD)!r}")

        def text(name: str, optional: bool = False) -> str | None:
            value = body.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str) or (not value and not optional):
                raise ValueError(f"task field {name!r} must be a non-empty string")
            return value or None

        def number(name: str) -> int:
            value = body.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"task field {name!r} must be a positive integer")
            return value

        task = cls(
            bucket=text("bucket") or "",
            key=text("key") or "",
            etag=text("etag") or "",
            version_id=text("version_id", optional=True),
            sequencer=text("sequencer", optional=True),
            first=number("first"),
            last=number("last"),
            ranges=number("ranges"),
            pages=number("pages"),
        )
        if not task.first <= task.last <= task.pages or task.ranges > task.pages:
            raise ValueError(f"pages {task.first}-{task.last} of {task.pages} in {task.ranges} ranges")
        return task


def new_status(
    source: dict[str, Any],
    *,
    source_type: str,
    pages: int,
    per_task: int,
    formats: list[str],
    direction: str | None,
    now: str,
    detector: str | None = None,
) -> dict[str, Any]:
    """The status record of a document whose ranges are about to be sent (``state: running``).

    Fields: ``state`` (``running``, ``done``, ``failed``), ``source``, ``source_type``, ``pages``,
    ``pages_per_task``, ``ranges`` (``total``, ``done``, ``completed``: the labels of the
    ranges read), ``dispatched`` (every task was sent), ``formats``, ``direction`` and
    ``detector`` (what the upload asked for, ``None``: the configured one; applied by every
    range and at assembly), ``started_at``, ``updated_at``;
    later ``result_key`` (``done``) or ``error`` (``failed``).
    """
    return {
        "state": "running",
        "source": source,
        "source_type": source_type,
        "pages": pages,
        "pages_per_task": per_task,
        "ranges": {"total": len(plan_ranges(pages, per_task)), "done": 0, "completed": []},
        "dispatched": False,
        "formats": list(formats),
        "direction": direction,
        "detector": detector,
        "started_at": now,
        "updated_at": now,
    }


def mark_done(status: dict[str, Any], label: str) -> dict[str, Any] | None:
    """``status`` with range ``label`` completed, or ``None`` when it already was (no write needed)."""
    ranges = dict(status["ranges"])
    completed = list(ranges.get("completed") or [])
    if label in completed:
        return None
    completed.append(label)
    completed.sort(key=lambda name: int(name.split("-", 1)[0]))
    ranges.update(completed=completed, done=len(completed))
    return {**status, "ranges": ranges}


def status_ranges(status: dict[str, Any]) -> list[tuple[int, int]]:
    """The ranges a status record was planned with."""
    return plan_ranges(int(status["pages"]), int(status["pages_per_task"]))


class TaskQueue(Protocol):
    """Where range tasks go: the object function's own queue."""

    def send(self, bodies: list[str]) -> None:
        """Send every message body, or raise."""
        ...


class SqsTaskQueue:
    """A :class:`TaskQueue` on one SQS queue (a botocore or boto3 SQS client)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    def send(self, bodies: list[str]) -> None:
        """Send in batches of 10; entries SQS refuses are sent again, then raise.

        Raises:
            RuntimeError: some messages were still refused after :data:`SEND_ATTEMPTS` tries.
        """
        for start in range(0, len(bodies), SQS_BATCH):
            pending = {str(i): body for i, body in enumerate(bodies[start:start + SQS_BATCH])}
            for _ in range(SEND_ATTEMPTS):
                resp = self._sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": i, "MessageBody": body} for i, body in pending.items()],
                )
                failed = {f["Id"] for f in resp.get("Failed") or []}
                pending = {i: body for i, body in pending.items() if i in failed}
                if not pending:
                    break
            if pending:
                raise RuntimeError(f"SQS refused {len(pending)} range task(s) for {self.queue_url}")
