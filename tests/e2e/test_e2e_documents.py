"""A long PDF through the bucket of the local stack: upload → notification → the handler fans
it out in page ranges through the queue → the worker delivers them → one result record.

Its own stack (a child process, ``OCR_PAGES_PER_TASK=4``) with the real model: a 12-page PDF
is read in three ranges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.bench_documents import pdf_from_pages
from support.render import render_page, require_font
from support.stack_client import wait_for

KEY = "uploads/年度 报告 2024.pdf"
PAGES = 12
PER_TASK = 4
DPI = 150


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from infra.local_stack import StackProcess

    log = tmp_path_factory.mktemp("documents-stack") / "stack.log"
    process = StackProcess({"OCR_PAGES_PER_TASK": str(PER_TASK), "OCR_MODEL_PATH": str(model_path),
                            "OCR_THREADS": "1", "POWERTOOLS_LOG_LEVEL": "WARNING"}, log_file=log)
    info = process.start()
    yield info
    process.stop()


@pytest.fixture(scope="module")
def aws(stack: dict[str, Any]) -> dict[str, Any]:
    import boto3

    kwargs = {"endpoint_url": stack["aws_endpoint_url"], "region_name": stack["region"],
              "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return {"s3": boto3.client("s3", **kwargs), "sqs": boto3.client("sqs", **kwargs)}


@pytest.fixture(scope="module")
def pdf() -> bytes:
    font = require_font("gbsn")
    pages = [render_page([f"第 {n} 页 Page {n}", "发票号码 2024 金额 128 元", "Serverless OCR"], font, size=32).image
             for n in range(1, PAGES + 1)]
    height, width = pages[0].shape
    return pdf_from_pages(pages, page_size=(width * 72 / DPI, height * 72 / DPI))


def _get(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


@pytest.fixture(scope="module")
def uploaded(stack: dict[str, Any], aws: dict[str, Any], pdf: bytes) -> dict[str, Any]:
    s3, bucket, results = aws["s3"], stack["bucket"], stack["results_prefix"]
    put = s3.put_object(Bucket=bucket, Key=KEY, Body=pdf, ContentType="application/pdf",
                        Metadata={"ocr-formats": "text"})
    record = wait_for(lambda: _get(s3, bucket, f"{results}{KEY}.json") or _get(s3, bucket, f"{results}{KEY}.error.json"),
                      timeout=300, interval=0.5)
    return {"put": put, "record": record}


def test_long_pdf_is_fanned_out_and_assembled_in_page_order(stack, aws, uploaded, reference_engine, pdf):
    record = uploaded["record"]
    assert record.get("success") is True, record.get("error")
    assert (record["source_type"], record["page_count"], record["first_page"]) == ("pdf", PAGES, 1)
    assert len(record["pages"]) == PAGES
    assert record["source"]["key"] == KEY and record["source"]["etag"] == uploaded["put"]["ETag"].strip('"')
    # Each range read its pages as a whole-document read does: pages 1 (range 1), 5 (the first
    # of range 2) and 12 (the last page, of the last range).
    for number in (1, PER_TASK + 1, PAGES):
        expected = reference_engine.run_document(pdf, first_page=number, last_page=number).pages[0]
        assert [line["text"] for line in record["pages"][number - 1]["lines"]] == [line.text for line in expected.lines]


def test_status_says_done_and_the_parts_are_gone(stack, aws, uploaded):
    s3, bucket, results = aws["s3"], stack["bucket"], stack["results_prefix"]
    status = wait_for(lambda: (lambda s: s if s and s["state"] == "done" else None)(
        _get(s3, bucket, f"{results}{KEY}.status.json")), timeout=30)
    assert status["ranges"] == {"total": PAGES // PER_TASK, "done": PAGES // PER_TASK,
                                "completed": ["1-4", "5-8", "9-12"]}
    assert status["pages"] == PAGES and status["dispatched"] is True
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=results).get("Contents", [])
    keys = sorted(o["Key"] for o in listed)
    assert keys == sorted(f"{results}{KEY}{suffix}" for suffix in (".json", ".status.json", ".txt")), keys
    text = s3.get_object(Bucket=bucket, Key=f"{results}{KEY}.txt")["Body"].read().decode("utf-8")
    assert text.rstrip("\n") == uploaded["record"]["text"].rstrip("\n")
    dead = aws["sqs"].receive_message(QueueUrl=stack["dead_letter_queue_url"], WaitTimeSeconds=0)
    assert not dead.get("Messages")
