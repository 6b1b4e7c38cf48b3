"""The README's demo command runs end to end (``--exit`` instead of serving forever)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_demo_prints_a_summary_and_saves_the_record(model_path, tmp_path):
    env = {**os.environ, "OCR_MODEL_PATH": str(model_path), "OCR_THREADS": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    saved = tmp_path / "record.json"
    out = subprocess.run(
        [sys.executable, "-m", "infra.demo", "--exit", "--port", "0", "--out", str(saved)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "results/uploads/示例 收据 demo.png.json" in out.stdout
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert record["success"] is True
    assert record["source"]["key"] == "uploads/示例 收据 demo.png"
    assert "{" not in out.stdout, "the full JSON is printed only with --json"
    assert len(out.stdout.splitlines()) < 20
    for line in record["lines"]:  # every line of the record with its confidence
        assert f"{line['confidence']:5.2f}  {line['text']}" in out.stdout


def test_demo_summary_of_an_error_record():
    from infra.demo import summary

    text = "\n".join(summary({"success": False, "error": {"code": "image_too_large", "message": "too big"}}))
    assert "image_too_large" in text and "too big" in text


@pytest.mark.slow
def test_many_uploads_at_once_are_all_processed(stack, aws, sample_bytes):
    """A burst of uploads: every one gets exactly one record, the queue drains, no DLQ."""
    import time

    from support.stack_client import wait_for

    s3, bucket, results = aws["s3"], stack["bucket"], stack["results_prefix"]
    keys = [f"uploads/burst/第 {i:02d} 张.png" for i in range(24)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=sample_bytes)

    def all_done():
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{results}uploads/burst/").get("Contents", [])
        return len(listed) >= len(keys) and listed

    listed = wait_for(all_done, timeout=300, interval=1.0)
    assert sorted(o["Key"] for o in listed) == sorted(f"{results}{k}.json" for k in keys)
    time.sleep(2)
    dlq = aws["sqs"].receive_message(QueueUrl=stack["dead_letter_queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert not [m for m in dlq.get("Messages", []) if "burst" in m["Body"]]
