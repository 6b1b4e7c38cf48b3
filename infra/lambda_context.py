"""A stand-in for the context object Lambda passes to a handler.

Used by the local gateway and queue worker, and by the child scripts that run a handler in a
fresh process (``infra/measure.py``, the layer smoke test). Standard library only, so such a
child can load this one file by path without importing the ``infra`` package or adding the
repository to ``sys.path``::

    LambdaContext = runpy.run_path(path_to_this_file)["LambdaContext"]
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

# This file, for child scripts that load it with runpy.run_path.
SOURCE = Path(__file__).resolve()


class LambdaContext:
    """The attributes handlers (and Powertools) read from Lambda's context object.

    Args:
        function_name: Name reported by the context (and in its ARN and log group).
        timeout_s: Seconds until the simulated deadline.
        memory_mb: Reported memory size.
    """

    def __init__(self, function_name: str, timeout_s: float = 29.0, memory_mb: int = 2048) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the simulated deadline (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
