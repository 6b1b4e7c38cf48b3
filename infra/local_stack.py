"""The whole service on one machine, with moto standing in for AWS.

``python -m infra.local_stack`` starts:

1. a moto server (S3 + SQS) on 127.0.0.1;
2. the images bucket, the queue, its dead-letter queue and the bucket → queue
   notifications, read from ``template.yaml`` (same names, prefixes, suffixes, redrive);
   the object function's queue URL variable (``OCR_QUEUE_URL``) names the local queue, so
   long documents fan out through it as they do in AWS;
3. a worker that polls the queue and invokes the same object handler Lambda runs
   (``ocr_service.handlers.objects.handler``) with real SQS events (S3 notifications and the
   handler's own page-range tasks alike);
4. a local HTTP API gateway serving ``ocr_service.handlers.http_api.handler`` (and the
   upload page at ``/``) with real API Gateway v2 events.

It prints one ``READY {...}`` JSON line with the endpoints, then runs until interrupted.
The queue's visibility timeout is shortened locally (``--visibility-timeout``, default 5 s)
so retries and dead-lettering can be watched in seconds instead of the deployed 9 minutes.
:class:`StackProcess` runs it as a child process (the end-to-end tests, benchmarks).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.template import LOCAL_REGION, TEMPLATE, stack_spec
from ocr_engine.config import default_model_candidates

log = logging.getLogger("infra.local_stack")

LOCAL_MODEL_CANDIDATES = tuple(default_model_candidates())  # the engine's shipped weights


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def local_model_path() -> Path | None:
    """The model the local stack loads (INT8 first, as deployed), or None."""
    for path in LOCAL_MODEL_CANDIDATES:
        if path.is_file():
            return path
    return None


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the parent dies, so no moto server leaks."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class MotoServer:
    """``python -m moto.server`` in a child process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class LocalStack:
    """Moto + resources from the template + queue worker + HTTP gateway, in this process.

    Handler modules read their settings when imported, so :meth:`start` sets the
    environment first; use one ``LocalStack`` per process.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 0,
        moto_port: int = 0,
        visibility_timeout: int = 5,
        template: Path = TEMPLATE,
    ) -> None:
        self.host = host
        self.http_port = http_port
        self.spec = stack_spec(template)
        self.visibility_timeout = visibility_timeout
        self.moto = MotoServer(host, moto_port)
        self.worker: Any = None
        self.gateway: Any = None
        self.queue_url = ""
        self.dlq_url = ""
        self.s3: Any = None
        self.sqs: Any = None

    # ------------------------------------------------------------------ setup
    def _environment(self) -> None:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
                "AWS_ENDPOINT_URL": self.moto.url,
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        for name, value in {**self.spec.function_env, **self.spec.object_env}.items():
            if name == "OCR_MODEL_PATH":
                continue  # /opt/python/... (the engine layer) exists only inside Lambda
            os.environ.setdefault(name, value)
        model = local_model_path()
        if model is not None:
            os.environ.setdefault("OCR_MODEL_PATH", str(model))
        os.environ.setdefault("OCR_THREADS", "1")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

    def _resources(self) -> None:
        import boto3

        self.s3 = boto3.client("s3", region_name=LOCAL_REGION)
        self.sqs = boto3.client("sqs", region_name=LOCAL_REGION)
        dlq_name = f"ocr-service-local-{self.spec.dead_letter_logical_id}"
        self.dlq_url = self.sqs.create_queue(QueueName=dlq_name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_name = f"ocr-service-local-{self.spec.queue_logical_id}"
        self.queue_url = self.sqs.create_queue(
            QueueName=queue_name,
            Attributes={
                "VisibilityTimeout": str(self.visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.spec.max_receive_count)}
                ),
            },
        )["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if self.spec.queue_url_env:
            # The template's `!Ref` of the queue: here, the local queue (handlers not imported yet).
            os.environ[self.spec.queue_url_env] = self.queue_url

        bucket = self.spec.bucket_name
        self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": f"rule-{i}",
                        "QueueArn": self.queue_arn,
                        "Events": list(rule.events),
                        "Filter": {
                            "Key": {
                                "FilterRules": [
                                    {"Name": "prefix", "Value": rule.prefix},
                                    {"Name": "suffix", "Value": rule.suffix},
                                ]
                            }
                        },
                    }
                    for i, rule in enumerate(self.spec.rules)
                ]
            },
        )

    def start(self) -> LocalStack:
        self.moto.start()
        try:
            self._environment()
            self._resources()
            from infra.gateway import LocalGateway
            from infra.worker import QueueWorker

            t0 = time.perf_counter()
            from ocr_service.handlers import http_api, objects  # init phase: settings + model

            self.init_seconds = time.perf_counter() - t0
            self.worker = QueueWorker(
                self.sqs,
                self.queue_url,
                self.queue_arn,
                objects.handler,
                batch_size=self.spec.batch_size,
                visibility_timeout=self.visibility_timeout,
            ).start()
            self.gateway = LocalGateway(
                http_api.handler, self.spec.http_routes, self.host, self.http_port, default_route=self.spec.http_default_route
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.gateway is not None:
            self.gateway.stop()
        self.moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        """Endpoints and names, printed on the READY line."""
        return {
            "web_url": self.gateway.url if self.gateway else None,
            "api_url": self.gateway.url if self.gateway else None,
            "aws_endpoint_url": self.moto.url,
            "region": LOCAL_REGION,
            "bucket": self.spec.bucket_name,
            "uploads_prefix": os.environ.get("OCR_UPLOADS_PREFIX", ""),
            "results_prefix": os.environ.get("OCR_RESULTS_PREFIX", ""),
            "queue_url": self.queue_url,
            "dead_letter_queue_url": self.dlq_url,
            "model_path": os.environ.get("OCR_MODEL_PATH"),
            "init_seconds": round(getattr(self, "init_seconds", 0.0), 3),
            "pid": os.getpid(),
        }


class StackProcess:
    """``python -m infra.local_stack`` in a child process, with extra environment variables.

    ``start()`` waits for its ``READY`` line and returns the endpoints (:attr:`info`); its
    stderr goes to ``log_file``. A fresh process per stack: the handlers read their settings
    (``OCR_PAGES_PER_TASK``...) once, when imported.
    """

    def __init__(self, env: dict[str, str] | None = None, *, visibility_timeout: int = 2,
                 log_file: Path | None = None) -> None:
        self.env = dict(env or {})
        self.visibility_timeout = visibility_timeout
        self.log_file = log_file
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 120.0) -> dict[str, Any]:
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(root), str(root / "functions" / "ocr"), os.environ.get("PYTHONPATH", "")])}
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.pop(name, None)
        env.update(self.env)
        log = open(self.log_file or os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack", "--port", "0",
             "--visibility-timeout", str(self.visibility_timeout)],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        )

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("READY "):
                    self.info.update(json.loads(line[6:]))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=timeout)
        if not self.info:
            self.stop()
            tail = self.log_file.read_text(encoding="utf-8")[-3000:] if self.log_file else ""
            raise RuntimeError("local stack did not start:\n" + tail)
        return self.info

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()

    def __enter__(self) -> dict[str, Any]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the OCR service locally on moto.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="HTTP API / web page port (0 = any free port)")
    parser.add_argument("--moto-port", type=int, default=0)
    parser.add_argument("--visibility-timeout", type=int, default=5)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", args.log_level)

    stack = LocalStack(args.host, args.port, args.moto_port, args.visibility_timeout).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("READY " + json.dumps(stack.info(), ensure_ascii=False), flush=True)
    try:
        stop.wait()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
