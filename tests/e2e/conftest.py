"""End-to-end fixtures: the local stack in a child process, with the real model.

``python -m infra.local_stack`` runs moto (S3 + SQS), the queue worker and the HTTP gateway;
the tests talk to it only over HTTP (boto3 against moto, urllib / a browser against the
gateway), like a deployed client would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

from infra.local_stack import local_model_path  # noqa: E402


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = local_model_path()
    if path is None:
        pytest.skip("no model in engine/ocr_engine/weights/ (crnn_zh_en.int8.onnx / crnn_zh_en.onnx)")
    return path


@pytest.fixture(scope="session")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Start the local stack; yield its READY info (endpoints, bucket, queues)."""
    log_file = tmp_path_factory.mktemp("stack") / "stack.log"
    env = {
        **os.environ,
        "OCR_MODEL_PATH": str(model_path),
        "OCR_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "functions" / "ocr"), os.environ.get("PYTHONPATH", "")]),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "OCR_MAX_REQUEST_BYTES", "OCR_MAX_IMAGE_BYTES"):
        env.pop(name, None)
    log = open(log_file, "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local_stack", "--port", "0", "--visibility-timeout", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
    )
    ready: dict[str, Any] = {}

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY "):
                ready.update(json.loads(line[6:]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=120)
    if not ready:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        raise RuntimeError("local stack did not start:\n" + log_file.read_text(encoding="utf-8")[-3000:])
    ready["log_file"] = str(log_file)
    yield ready
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def aws(stack: dict[str, Any]) -> dict[str, Any]:
    """boto3 S3 and SQS clients pointed at the stack's moto server."""
    import boto3

    kwargs = {
        "endpoint_url": stack["aws_endpoint_url"],
        "region_name": stack["region"],
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return {"s3": boto3.client("s3", **kwargs), "sqs": boto3.client("sqs", **kwargs)}


@pytest.fixture(scope="session")
def reference_engine(model_path: Path) -> Any:
    """The same engine and model in this process: what every path must agree with."""
    from ocr_engine.config import OcrConfig
    from ocr_engine.engine import OcrEngine

    return OcrEngine.from_config(OcrConfig.from_env({"OCR_MODEL_PATH": str(model_path), "OCR_THREADS": "1"}))


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    from infra.sample_image import SAMPLE

    return SAMPLE.read_bytes()
