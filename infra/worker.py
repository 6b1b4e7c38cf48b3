"""A local stand-in for Lambda's SQS event source mapping.

Polls the queue, hands each batch to the object handler as the ``aws:sqs`` event Lambda
would build, and deletes only the messages the handler did not list in
``batchItemFailures`` (``ReportBatchItemFailures``). Failed messages become visible again
after the visibility timeout and, after ``maxReceiveCount`` receives, SQS moves them to
the dead-letter queue, exactly as in AWS.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from infra.lambda_context import LambdaContext

log = logging.getLogger("infra.worker")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda delivers for a batch of SQS messages."""
    records = []
    for m in messages:
        attributes = dict(m.get("Attributes") or {})
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": attributes,
                "messageAttributes": m.get("MessageAttributes") or {},
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


class QueueWorker:
    """Background thread: receive → invoke handler → delete the successes."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        batch_size: int = 4,
        wait_seconds: int = 1,
        region: str = "us-east-1",
        function_name: str = "ObjectOcrFunction",
        visibility_timeout: int = 5,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.region = region
        self.function_name = function_name
        self.visibility_timeout = visibility_timeout
        self.invocations = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive one batch and process it; return the number of messages received."""
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages") or []
        if not messages:
            return 0
        event = sqs_event(messages, self.queue_arn, self.region)
        self.invocations += 1
        # Locally the visibility timeout is short (fast retries), so keep in-flight messages
        # hidden while the handler runs: a slow batch must not be delivered twice.
        done_event = threading.Event()
        keeper = threading.Thread(target=self._keep_hidden, args=(messages, done_event), daemon=True)
        keeper.start()
        try:
            result = self.handler(event, LambdaContext(self.function_name, timeout_s=90)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures") or []}
        except Exception:  # noqa: BLE001 - the whole batch is retried, as Lambda does
            log.exception("handler failed; the whole batch will be retried")
            failed = {m["MessageId"] for m in messages}
        finally:
            done_event.set()
            keeper.join()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if failed:
            log.warning("%d of %d messages failed and will be retried", len(failed), len(messages))
        return len(messages)

    def _keep_hidden(self, messages: list[dict[str, Any]], done: threading.Event) -> None:
        interval = max(0.5, self.visibility_timeout / 2)
        while not done.wait(interval):
            try:
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.visibility_timeout}
                        for i, m in enumerate(messages)
                    ],
                )
            except Exception:  # noqa: BLE001 - best effort
                log.exception("could not extend the visibility timeout")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep polling (e.g. moto restarting)
                log.exception("polling failed")
                self._stop.wait(1.0)

    def start(self) -> QueueWorker:
        self._thread = threading.Thread(target=self._run, name="queue-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 5)
