"""The local stand-ins: API Gateway v2 event building and the SQS worker's Lambda semantics."""

from __future__ import annotations

import base64
import json
import os
import time
from urllib.parse import unquote_plus

import boto3
from moto import mock_aws

from infra.gateway import LAMBDA_SYNC_PAYLOAD_LIMIT, LocalGateway, build_event
from infra.worker import QueueWorker


def test_event_for_binary_body_is_base64():
    body = b"\x89PNG\r\n\x1a\n\x00\xff"
    event = build_event(
        "POST", "/ocr?lang=zh&lang=en", [("Content-Type", "image/png"), ("Cookie", "a=1; b=2"), ("X-Multi", "1"), ("X-Multi", "2")],
        body, route_key="POST /ocr",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "POST /ocr"
    assert event["rawPath"] == "/ocr" and event["rawQueryString"] == "lang=zh&lang=en"
    assert event["queryStringParameters"] == {"lang": "zh,en"}
    assert event["headers"]["content-type"] == "image/png" and event["headers"]["x-multi"] == "1,2"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["stage"] == "$default"


def test_event_for_json_body_is_text_and_multipart_is_binary():
    event = build_event("POST", "/ocr", [("Content-Type", "application/json")], '{"a": "中"}'.encode(), route_key="POST /ocr")
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"a": "中"}
    event = build_event("POST", "/ocr", [("Content-Type", "multipart/form-data; boundary=x")], b"--x--", route_key="POST /ocr")
    assert event["isBase64Encoded"] is True


def test_gateway_refuses_unknown_routes_and_oversized_events():
    calls = []
    gateway = LocalGateway(lambda e, c: calls.append(e) or {"statusCode": 200, "body": "ok"}, [("POST", "/ocr")])
    try:
        assert gateway.invoke("GET", "/ocr", [], b"", "127.0.0.1")[0] == 404
        status, _, payload = gateway.invoke("POST", "/ocr", [("Content-Type", "image/png")], b"\0" * (LAMBDA_SYNC_PAYLOAD_LIMIT // 4 * 3 + 10), "127.0.0.1")
        assert status == 413 and json.loads(payload)["error"]["code"] == "payload_too_large"
        assert calls == []
        assert gateway.invoke("POST", "/ocr", [("Content-Type", "image/png")], b"\x89PNG", "127.0.0.1")[0] == 200
        assert len(calls) == 1
    finally:
        gateway.stop()


def test_gateway_with_a_default_route_hands_every_other_request_to_the_function():
    calls: list[dict] = []

    def handler(event, context):
        calls.append(event)
        if event["rawPath"] == "/crash":
            raise RuntimeError("boom")
        return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": '{"success": false}'}

    gateway = LocalGateway(handler, [("POST", "/ocr")], default_route=True)
    try:
        for method, path in (("GET", "/nope"), ("DELETE", "/ocr"), ("GET", "/ocr")):
            status, headers, payload = gateway.invoke(method, path + "?a=1", [], b"", "127.0.0.1")
            assert (status, payload) == (404, b'{"success": false}')  # the function's answer, not the gateway's
            assert calls[-1]["routeKey"] == calls[-1]["requestContext"]["routeKey"] == "$default"
            assert (calls[-1]["requestContext"]["http"]["method"], calls[-1]["rawPath"]) == (method, path)
        gateway.invoke("POST", "/ocr", [], b"", "127.0.0.1")
        assert calls[-1]["routeKey"] == "POST /ocr"
        status, _, payload = gateway.invoke("GET", "/crash", [], b"", "127.0.0.1")
        body = json.loads(payload)
        assert status == 500 and body["success"] is False
        assert body["error"] == {"code": "internal_error", "message": "Internal Server Error", "status": 500}
    finally:
        gateway.stop()
    plain = LocalGateway(handler, [("POST", "/ocr")])  # no $default route: API Gateway's own 404
    try:
        assert plain.invoke("GET", "/nope", [], b"", "127.0.0.1")[::2] == (404, b'{"message":"Not Found"}')
    finally:
        plain.stop()



def test_gateway_over_real_http_sends_payload_v2_events_and_its_own_errors():
    """Through a socket: routes, ``$default``, base64 for binary bodies, HEAD, the 10 MB 413."""
    import http.client

    from infra.gateway import API_MAX_BODY

    calls: list[dict] = []

    def handler(event, context):
        calls.append(event)
        return {"statusCode": 201, "headers": {"Content-Type": "application/octet-stream", "X-Route": event["routeKey"]},
                "body": base64.b64encode(b"\x00\xffout").decode(), "isBase64Encoded": True}

    gateway = LocalGateway(handler, [("POST", "/ocr"), ("GET", "/health")], default_route=True).start()
    port = int(gateway.url.rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = b"\x89PNG\r\n\x1a\n\x00\xff"
        conn.request("POST", "/ocr?lang=zh&lang=en", body=body,
                     headers={"Content-Type": "image/png", "Cookie": "a=1; b=2", "X-Forwarded-For": "10.0.0.1"})
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.getheader("X-Route")) == (201, b"\x00\xffout", "POST /ocr")
        event = calls[-1]
        assert event["version"] == "2.0" and event["routeKey"] == event["requestContext"]["routeKey"] == "POST /ocr"
        assert (event["rawPath"], event["rawQueryString"]) == ("/ocr", "lang=zh&lang=en")
        assert event["queryStringParameters"] == {"lang": "zh,en"} and event["cookies"] == ["a=1", "b=2"]
        assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body
        assert event["headers"]["content-type"] == "image/png" and event["headers"]["x-forwarded-for"] == "10.0.0.1"
        assert event["headers"]["host"] == f"127.0.0.1:{port}" and event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
        conn.request("POST", "/ocr", body='{"a": "中"}'.encode(), headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        assert calls[-1]["isBase64Encoded"] is False and json.loads(calls[-1]["body"]) == {"a": "中"}
        conn.request("DELETE", "/elsewhere")  # no declared route: the $default route takes it
        conn.getresponse().read()
        assert calls[-1]["routeKey"] == "$default" and calls[-1]["requestContext"]["http"]["method"] == "DELETE"
        conn.request("HEAD", "/health")
        resp = conn.getresponse()
        assert resp.read() == b"" and resp.getheader("Content-Length") == "5"  # HEAD: the length, no body
        conn.putrequest("POST", "/ocr")  # a body over HTTP API's 10 MB: the 413 comes before it is sent
        conn.putheader("Content-Type", "image/png")
        conn.putheader("Content-Length", str(API_MAX_BODY + 1))
        conn.endheaders()
        resp = conn.getresponse()
        out = json.loads(resp.read())
        assert resp.status == 413 and resp.getheader("Content-Type") == "application/json"
        assert out["success"] is False and out["error"] == {"code": "payload_too_large", "message": "Request Entity Too Large", "status": 413}
        assert len(calls) == 4
    finally:
        conn.close()
        gateway.stop()
    plain = LocalGateway(handler, [("POST", "/ocr")]).start()  # no $default route: API Gateway's own 404
    conn = http.client.HTTPConnection("127.0.0.1", int(plain.url.rsplit(":", 1)[1].strip("/")), timeout=10)
    try:
        conn.request("GET", "/nope")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (404, b'{"message":"Not Found"}') and len(calls) == 4
    finally:
        conn.close()
        plain.stop()

def test_template_declares_the_default_route_the_local_stack_serves():
    from infra.template import load_template, stack_spec

    spec = stack_spec()
    assert spec.http_default_route and ("POST", "/ocr") in spec.http_routes
    assert all(path.startswith("/") for _, path in spec.http_routes)  # the $default event is no route of its own
    events = load_template()["Resources"]["HttpOcrFunction"]["Properties"]["Events"]
    defaults = [name for name, e in events.items() if e["Type"] == "HttpApi" and not {"Path", "Method"} & set(e["Properties"])]
    assert defaults == ["Fallback"], defaults


def test_local_bucket_notifications_follow_the_template_gif_and_pdf_included(monkeypatch):
    """The local stack's bucket → queue rules come from template.yaml: .gif / .GIF and .pdf /
    .PDF uploads notify, and the object function's OCR_QUEUE_URL names the local queue."""
    from infra.local_stack import LocalStack

    monkeypatch.setenv("OCR_QUEUE_URL", "set by the stack")  # (restored afterwards)
    with mock_aws():
        stack = LocalStack()
        stack._resources()
        assert os.environ["OCR_QUEUE_URL"] == stack.queue_url and stack.spec.queue_url_env == "OCR_QUEUE_URL"
        bucket = stack.spec.bucket_name
        config = stack.s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
        suffixes = {r["Value"] for c in config for r in c["Filter"]["Key"]["FilterRules"] if r["Name"].lower() == "suffix"}
        assert suffixes == {rule.suffix for rule in stack.spec.rules} and {".gif", ".GIF", ".pdf", ".PDF"} <= suffixes
        for key in ("uploads/anim.gif", "uploads/SCAN.GIF", "uploads/notes.txt", "results/uploads/anim.gif.json",
                    "other/x.gif", "uploads/报告.pdf", "results/uploads/报告.pdf.pdf", "results/_parts/x/1-20.json"):
            stack.s3.put_object(Bucket=bucket, Key=key, Body=b"GIF89a")
        keys = []
        for _ in range(5):
            got = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            for message in got:
                for record in json.loads(message["Body"]).get("Records", []):
                    keys.append(unquote_plus(record["s3"]["object"]["key"]))  # S3 URL-encodes keys
            if not got:
                break
        assert sorted(keys) == ["uploads/SCAN.GIF", "uploads/anim.gif", "uploads/报告.pdf"]


def test_worker_deletes_successes_keeps_failures_and_hides_slow_batches():
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for body in ("ok", "fail"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        seen: list[list[str]] = []
        redelivered: list[int] = []

        def handler(event, context):
            seen.append([r["body"] for r in event["Records"]])
            assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == arn for r in event["Records"])
            time.sleep(2.5)  # longer than the visibility timeout...
            again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            redelivered.append(len(again))  # ...yet the worker keeps the batch hidden
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]}

        worker = QueueWorker(sqs, url, arn, handler, batch_size=10, wait_seconds=0, visibility_timeout=1)
        assert worker.poll_once() == 2
        assert sorted(seen[0]) == ["fail", "ok"]
        assert redelivered == [0]
        time.sleep(1.5)
        left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        assert [m["Body"] for m in left] == ["fail"]  # the success was deleted, the failure comes back


def test_one_fake_lambda_context_for_every_local_caller():
    """Gateway, worker, the measuring and smoke-test child scripts and the test fixtures all
    use infra/lambda_context.py: no other file writes its own copy of the context."""
    from support.lambda_events import REPO

    method = "def get_remaining_time_in_millis" + "(self"  # split: this file must not match itself
    copies = sorted(
        str(p.relative_to(REPO))
        for folder in ("infra", "tests")
        for p in (REPO / folder).rglob("*.py")
        if method in p.read_text(encoding="utf-8")
    )
    assert copies == ["infra/lambda_context.py"]


def test_worker_delivers_the_handlers_own_task_messages():
    """Messages the handler sends to its queue while it runs come back through the worker (fan-out)."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": []}))
        seen: list[str] = []

        def handler(event, context):
            for record in event["Records"]:
                seen.append(record["body"])
                if "Records" in json.loads(record["body"]):  # the upload: fan out two tasks
                    sqs.send_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(i), "MessageBody": json.dumps({"ocr_task": "pages", "first": i})} for i in (1, 2)])
            return {"batchItemFailures": []}

        worker = QueueWorker(sqs, url, arn, handler, batch_size=10, wait_seconds=0, visibility_timeout=5)
        while worker.poll_once():
            pass
        assert [json.loads(b).get("first") for b in seen] == [None, 1, 2]
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # all deleted


def test_stack_process_reports_ready_and_stops(tmp_path):
    """StackProcess: the local stack as a child process with its own settings (e2e, benchmarks)."""
    from infra.local_stack import StackProcess

    stack = StackProcess({"OCR_PAGES_PER_TASK": "4", "OCR_MODEL_PATH": str(tmp_path / "none.onnx")},
                         log_file=tmp_path / "stack.log")
    info = stack.start(timeout=120)
    try:
        assert info["bucket"] and info["queue_url"].endswith("ImagesQueue") and info["pid"] != os.getpid()
        assert info["aws_endpoint_url"].startswith("http://127.0.0.1:")
    finally:
        stack.stop()
    assert stack.proc is not None and stack.proc.returncode is not None
