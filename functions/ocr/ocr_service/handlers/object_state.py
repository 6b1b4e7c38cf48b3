"""What the object handler's modules share: settings, the result store, time budgets.

Created once per container, when the handler is imported. Every module of the object
handler reads these through this module (``object_state.store``...), so a store or settings
put here (tests do) is the one they all use.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime

import botocore.session

from ocr_service.s3_store import S3Store
from ocr_service.settings import get_settings
from ocr_service.store import ResultStore

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

# The current invocation's deadline (Unix time), set by the handler from its context, and
# the SQS records it has handled so far.
_deadline: ContextVar[float | None] = ContextVar("ocr_deadline", default=None)
_records_handled: ContextVar[int] = ContextVar("ocr_records_handled", default=0)

SETTINGS = get_settings()
# botocore directly, not boto3: the same client, ~0.4 s less import time at cold start
# (boto3 pulls in s3transfer). Region and endpoint come from the environment as usual.
store: ResultStore = S3Store(botocore.session.get_session().create_client("s3"), SETTINGS.max_image_bytes)


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp (milliseconds), for records."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
