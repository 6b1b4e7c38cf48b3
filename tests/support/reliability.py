"""Helpers shared by the reliability tests and the soak command: events, memory, model."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

REPO = Path(__file__).resolve().parents[2]
MODEL_CANDIDATES = (
    REPO / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.int8.onnx",
    REPO / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.onnx",
)


def find_model() -> Path | None:
    """The model file the tests run (INT8 first, as deployed), or ``None``."""
    env = os.environ.get("OCR_MODEL_PATH")
    if env and Path(env).is_file():
        return Path(env)
    return next((p for p in MODEL_CANDIDATES if p.is_file()), None)


# ---------------------------------------------------------------- events
def s3_record(bucket: str, key: str, *, etag: str | None = None, version_id: str | None = None,
              event_name: str = "ObjectCreated:Put", size: int = 0) -> dict[str, Any]:
    """One S3 notification record, with the key URL-encoded as S3 sends it."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "sequencer": "0055AED6DCD90281E5"}
    if etag:
        obj["eTag"] = etag
    if version_id:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2024-05-01T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "x"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "uploads",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sqs_message(body: str | dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    """One SQS record as Lambda delivers it."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle-" + uuid.uuid4().hex,
        "body": text,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1714564800000",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1714564800001"},
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ocr-images",
        "awsRegion": "us-east-1",
    }


def sqs_event(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(messages)}


S3_TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2024-05-01T12:00:00.000Z",
    "Bucket": "ocr-images",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "x",
}


def http_event(method: str, path: str, body: bytes | str | None = None, *,
               content_type: str | None = None, base64_body: bool | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event; binary bodies are base64-encoded."""
    headers = {"host": "localhost", "user-agent": "reliability-tests"}
    if content_type:
        headers["content-type"] = content_type
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "reliability-tests"},
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "01/May/2024:12:00:00 +0000",
            "timeEpoch": 1714564800000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        if isinstance(body, bytes) and base64_body is not False:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = body if isinstance(body, str) else body.decode("utf-8")
    return event


def call_http(http: Any, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any], float]:
    """Invoke the HTTP handler: (status, JSON body, seconds). Every answer must be JSON and
    encode as UTF-8 (a lone surrogate in it would raise here)."""
    t0 = time.perf_counter()
    response = http.handler(event, context)
    seconds = time.perf_counter() - t0
    assert response["headers"]["Content-Type"].startswith("application/json"), response["headers"]
    return response["statusCode"], json.loads(response["body"].encode("utf-8")), seconds
