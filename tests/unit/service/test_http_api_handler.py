"""The HTTP API handler with API Gateway v2 events (tests/events/http_*.json)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infra.multipart import encode as multipart
from support.lambda_events import b64, corrupt_png, load_event, png_bytes


@pytest.fixture
def http(engine):
    from ocr_service.handlers import http_api

    return http_api


def post(http, context, content_type: str, body: bytes, *, batch: bool = False, base64_encoded: bool = True) -> tuple[int, dict[str, Any], dict[str, str]]:
    event = load_event("http_post_ocr_batch.json" if batch else "http_post_ocr.json", content_type=content_type, body="")
    event["body"] = b64(body) if base64_encoded else body.decode("utf-8")
    event["isBase64Encoded"] = base64_encoded
    response = http.handler(event, context)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def get(http, context, path: str) -> dict[str, Any]:
    return http.handler(load_event("http_get.json", path=path), context)


def test_raw_binary_body(http, engine, context):
    status, body, headers = post(http, context, "image/png", png_bytes())
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["success"] is True
    assert body["data"][1] == {
        "text": "你好 世界",
        "confidence": 0.91,
        "box": [[2.0, 40.0], [120.0, 40.0], [120.0, 70.0], [2.0, 70.0]],
    }
    assert body["text"] == "Hello <b>world</b>\n你好 世界"
    assert body["request_id"] == "Jt9aXgGuoAMEbXQ="
    assert engine.calls == [png_bytes()]


def test_octet_stream_and_missing_content_type_are_raw_images(http, engine, context):
    assert post(http, context, "application/octet-stream", png_bytes())[0] == 200
    assert post(http, context, "", png_bytes())[0] == 200


def test_multipart_image_field(http, engine, context):
    image = png_bytes(33, 21)
    ctype, body = multipart([("note", "n.txt", b"hello", "text/plain"), ("image", "收据.png", image, "image/png")])
    status, out, _ = post(http, context, ctype, body)
    assert status == 200 and out["success"] is True
    assert engine.calls == [image]  # the exact bytes, binary-safe


def test_multipart_binary_safety_all_byte_values(http, engine, context):
    payload = png_bytes() + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    ctype, body = multipart([("image", "a.png", payload, "application/octet-stream")])
    assert post(http, context, ctype, body)[0] == 200
    assert engine.calls == [payload]


def test_json_base64_and_data_url(http, engine, context):
    image = png_bytes()
    status, out, _ = post(http, context, "application/json", json.dumps({"image": b64(image)}).encode(), base64_encoded=False)
    assert status == 200 and out["success"]
    data_url = "data:image/png;base64," + b64(image)
    status, _, _ = post(http, context, "application/json; charset=utf-8", json.dumps({"image": data_url}).encode(), base64_encoded=False)
    assert status == 200
    assert engine.calls == [image, image]


def test_batch_in_order_with_per_item_failures(http, engine, context):
    ctype, body = multipart(
        [
            ("image", "one.png", png_bytes(), "image/png"),
            ("image", "two.png", corrupt_png(), "image/png"),
            ("image", "three.txt", b"plain text, not an image at all", "text/plain"),
            ("image", "four.png", png_bytes(60, 30), "image/png"),
        ]
    )
    status, out, _ = post(http, context, ctype, body, batch=True)
    assert status == 200
    assert out["count"] == 4 and out["failed"] == 2
    assert [r["index"] for r in out["results"]] == [0, 1, 2, 3]
    assert [r["name"] for r in out["results"]] == ["one.png", "two.png", "three.txt", "four.png"]
    assert [r["success"] for r in out["results"]] == [True, False, False, True]
    assert out["results"][1]["error"]["code"] == "undecodable_image"
    assert out["results"][2]["error"]["code"] == "unsupported_image_type"
    assert out["results"][3]["data"][0]["text"] == "Hello <b>world</b>"


def test_batch_json_list(http, engine, context):
    doc = {"images": [b64(png_bytes()), {"name": "b.png", "image": b64(png_bytes(41, 20))}]}
    status, out, _ = post(http, context, "application/json", json.dumps(doc).encode(), batch=True, base64_encoded=False)
    assert status == 200
    assert [r["name"] for r in out["results"]] == ["image-0", "b.png"]


def test_batch_too_many_images(http, engine, context):
    doc = {"images": [b64(png_bytes())] * 17}
    status, out, _ = post(http, context, "application/json", json.dumps(doc).encode(), batch=True, base64_encoded=False)
    assert status == 400
    assert out == {"success": False, "error": out["error"], "request_id": out["request_id"]}
    assert out["error"]["code"] == "too_many_images"
    assert engine.calls == []


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("text/plain", b"hello", 415, "unsupported_media_type"),
        ("image/png", b"GIF89a-not-supported" * 5, 415, "unsupported_image_type"),
        ("image/png", corrupt_png(), 422, "undecodable_image"),
        ("image/png", b"", 400, "empty_image"),
        ("application/json", b"{not json", 400, "invalid_input"),
        ("application/json", b'{"image": "***"}', 400, "invalid_input"),
        ("application/json", b'{"picture": "AAAA"}', 400, "invalid_input"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--", 400, "invalid_input"),
    ],
)
def test_errors_are_json_with_4xx(http, engine, context, content_type, body, status, code):
    got_status, out, headers = post(http, context, content_type, body)
    assert (got_status, out["error"]["code"]) == (status, code)
    assert out["success"] is False
    assert out["error"]["status"] == status
    assert out["error"]["message"]
    assert headers["Content-Type"].startswith("application/json")


def test_body_over_the_request_limit_is_413(http, engine, context, monkeypatch):
    from ocr_service.settings import Settings

    monkeypatch.setattr(http, "SETTINGS", Settings(max_request_bytes=1000))
    status, out, _ = post(http, context, "image/png", png_bytes() + b"\0" * 2000)
    assert status == 413 and out["error"]["code"] == "image_too_large"
    assert engine.calls == []


def test_unexpected_failure_is_a_generic_500(http, engine, context):
    status, out, _ = post(http, context, "image/png", b"BOOM" + png_bytes())
    assert status == 500
    assert out["error"] == {"code": "internal_error", "message": "internal server error", "status": 500}


def test_health(http, context):
    response = get(http, context, "/health")
    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert body["status"] == "ok" and body["model"]["name"] == "fake"


def test_page_is_served_with_a_strict_policy(http, context):
    response = get(http, context, "/")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response["headers"]["Content-Security-Policy"]
    html = response["body"]
    assert 'id="file-input"' in html
    assert "innerHTML" not in html  # recognised text and file names go through textContent


def test_unknown_route_is_json_404(http, context):
    response = get(http, context, "/nope")
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert "Allow" not in response["headers"]


def request(http, context, method: str, path: str) -> dict[str, Any]:
    """What the API's $default route hands over for ``method path`` (routeKey ``$default``)."""
    event = load_event("http_get.json", path=path)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    event["requestContext"]["http"]["method"] = method
    return http.handler(event, context)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("DELETE", "/ocr", "POST"), ("GET", "/ocr", "POST"), ("PUT", "/", "GET"), ("POST", "/health", "GET"),
     ("PATCH", "/ocr/batch", "POST"), ("HEAD", "/health", "GET"), ("OPTIONS", "/ocr", "POST")],
)
def test_other_methods_on_known_routes_are_405_with_allow(http, engine, context, method, path, allow):
    response = request(http, context, method, path)
    body = json.loads(response["body"])
    assert (response["statusCode"], response["headers"].get("Allow")) == (405, allow), response
    assert body["error"] == {"code": "method_not_allowed", "message": body["error"]["message"], "status": 405}
    assert method in body["error"]["message"] and path in body["error"]["message"]
    assert engine.calls == []


def test_route_table_lists_every_route_and_only_those(http, context):
    assert http.ROUTE_METHODS == {"/": ("GET",), "/health": ("GET",), "/ocr": ("POST",), "/ocr/batch": ("POST",)}
    for path, methods in http.ROUTE_METHODS.items():  # each listed method is really served
        for method in methods:
            assert request(http, context, method, path)["statusCode"] not in (404, 405), (method, path)
    assert request(http, context, "GET", "/ocr/")["statusCode"] == 404  # no path is guessed


def test_batch_json_bad_items_fail_alone_but_bad_schema_fails_the_request(http, engine, context):
    doc = {"images": [b64(png_bytes()), "", "***not base64***", {"name": "ok.png", "image": b64(png_bytes())}]}
    status, out, _ = post(http, context, "application/json", json.dumps(doc).encode(), batch=True, base64_encoded=False)
    assert status == 200
    assert [(r["success"], r.get("error", {}).get("code")) for r in out["results"]] == [
        (True, None), (False, "empty_image"), (False, "invalid_input"), (True, None),
    ]
    status, out, _ = post(http, context, "application/json", b'{"images": [1, 2]}', batch=True, base64_encoded=False)
    assert (status, out["error"]["code"]) == (400, "invalid_input")
    status, out, _ = post(http, context, "application/json", b"[" * 100_000 + b"]" * 100_000, base64_encoded=False)
    assert (status, out["error"]["code"]) == (400, "invalid_input")


# ----------------------------------------------------------------- responses match openapi.yaml
def _openapi_validator(schema_name: str):
    import copy

    import yaml
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    from support.lambda_events import REPO

    doc = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))

    def to_json_schema(node):  # OpenAPI 3.0 "nullable" -> JSON Schema type lists
        if isinstance(node, dict):
            node = {k: to_json_schema(v) for k, v in node.items()}
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
            return node
        if isinstance(node, list):
            return [to_json_schema(v) for v in node]
        return node

    root = to_json_schema(copy.deepcopy(doc))
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(root, default_specification=DRAFT4))
    schema = {"$ref": f"urn:openapi#/components/schemas/{schema_name}"}
    return Draft4Validator(schema, registry=registry)


def test_responses_follow_the_openapi_schemas(http, engine, context):
    ok = _openapi_validator("OcrResponse")
    batch = _openapi_validator("BatchResponse")
    error = _openapi_validator("Error")

    status, body, _ = post(http, context, "image/png", png_bytes())
    assert status == 200
    ok.validate(body)
    ctype, payload = multipart([("image", "a.png", png_bytes(), "image/png"), ("image", "b.png", corrupt_png(), "image/png")])
    status, body, _ = post(http, context, ctype, payload, batch=True)
    assert status == 200
    batch.validate(body)
    for content_type, payload in (("text/plain", b"x"), ("image/png", corrupt_png()), ("image/png", b"")):
        status, body, _ = post(http, context, content_type, payload)
        assert status >= 400
        error.validate(body)
    # and the validators do reject what does not follow the schema
    assert not ok.is_valid({"success": True, "data": [{"text": "x", "confidence": 2, "box": []}], "text": "x"})
    assert not error.is_valid({"success": False, "error": {"code": "made_up", "message": "", "status": 400}})


def test_blocks_are_served_in_meta_as_the_openapi_schemas_say(engine):
    import copy

    import yaml

    from ocr_engine.schema import SCHEMA_VERSION, DocumentResult, blocks_from_groups
    from ocr_service.handlers.results import http_document, http_document_result
    from support.lambda_events import REPO

    result = engine.run(png_bytes())
    result.blocks = blocks_from_groups(result.lines, [[1], [0]])
    body = http_document(result)
    ok = _openapi_validator("OcrResponse")
    ok.validate(body)
    assert body["meta"]["schema_version"] == SCHEMA_VERSION
    assert [b["lines"] for b in body["meta"]["blocks"]] == [[1], [0]]  # indexes into data
    assert body["meta"]["blocks"][0]["box"] == body["data"][1]["box"]
    assert body["text"] == "你好 世界\n\nHello <b>world</b>"
    _openapi_validator("DocumentResponse").validate(http_document_result(
        DocumentResult(pages=[result, engine.run(png_bytes())], source_type="pdf", page_count=2)))
    bad = copy.deepcopy(body)
    bad["meta"]["blocks"][0]["lines"] = [-1]
    assert not ok.is_valid(bad)
    bad["meta"]["blocks"][0] = {"box": [[0, 0]], "lines": [0]}
    assert not ok.is_valid(bad)
    # the answer examples of POST /ocr follow the schemas too
    doc = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    examples = doc["paths"]["/ocr"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    ok.validate(examples["image"]["value"])
    _openapi_validator("DocumentResponse").validate(examples["document"]["value"])
    # and show the writer's schema version, with the detector that found the lines (1.2)
    document = examples["document"]["value"]
    assert examples["image"]["value"]["meta"]["schema_version"] == document["meta"]["schema_version"] == SCHEMA_VERSION
    assert [m["schema_version"] for m in (p["meta"] for p in document["pages"])] == [SCHEMA_VERSION] * 2
    assert examples["image"]["value"]["meta"]["detector"] == "opencv"
    assert body["meta"]["detector"] == "opencv"  # the fake's own, in the meta as the schema says
    bad = copy.deepcopy(body)
    bad["meta"]["detector"] = 1
    assert not ok.is_valid(bad)
    parameters = doc["components"]["parameters"]
    from ocr_engine.config import DETECTORS

    assert parameters["Detector"]["schema"]["enum"] == [d for d in DETECTORS if d != "whole"] == ["opencv", "learned", "auto"]
    for path in ("/ocr", "/ocr/batch"):
        assert {"$ref": "#/components/parameters/Detector"} in doc["paths"][path]["post"]["parameters"]


def test_every_http_error_has_the_one_error_shape(http, engine, context, monkeypatch):
    """400, 404, 405, 413, 415, 422 and 500: the same JSON document, status in body and line."""
    from ocr_service.settings import Settings

    error = _openapi_validator("Error")
    got: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
    for content_type, payload in (("application/json", b"{not json"), ("text/plain", b"x"),
                                  ("image/png", corrupt_png()), ("image/png", b"BOOM" + b"\0" * 80)):
        status, body, headers = post(http, context, content_type, payload)
        got[status] = body, headers
    for method, path in (("GET", "/nope"), ("DELETE", "/ocr")):
        response = request(http, context, method, path)
        got[response["statusCode"]] = json.loads(response["body"]), response["headers"]
    monkeypatch.setattr(http, "SETTINGS", Settings(max_request_bytes=1000))
    status, body, headers = post(http, context, "image/png", png_bytes(200, 200) + b"\0" * 2000)
    got[status] = body, headers
    assert sorted(got) == [400, 404, 405, 413, 415, 422, 500]
    for status, (body, headers) in got.items():
        error.validate(body)
        assert set(body) == {"success", "error", "request_id"} and body["success"] is False, body
        assert set(body["error"]) == {"code", "message", "status"} and body["error"]["status"] == status, body
        assert headers["Content-Type"].startswith("application/json"), (status, headers)
    assert got[405][1]["Allow"] == "POST"


def test_direction_query_parameter_reaches_the_engine(http, engine, context):
    for batch in (False, True):
        event = load_event("http_post_ocr_batch.json" if batch else "http_post_ocr.json", content_type="image/png", body="")
        event["body"], event["isBase64Encoded"] = b64(png_bytes()), True
        event["rawQueryString"], event["queryStringParameters"] = "direction=vertical", {"direction": "vertical"}
        response = http.handler(event, context)
        assert response["statusCode"] == 200, response["body"]
    assert engine.directions == ["vertical", "vertical"]
    post(http, context, "image/png", png_bytes())  # no parameter: the engine's own setting
    assert engine.directions[-1] is None


def test_unknown_direction_is_a_400(http, engine, context):
    event = load_event("http_post_ocr.json", content_type="image/png", body="")
    event["body"], event["isBase64Encoded"] = b64(png_bytes()), True
    event["rawQueryString"], event["queryStringParameters"] = "direction=diagonal", {"direction": "diagonal"}
    response = http.handler(event, context)
    body = json.loads(response["body"])
    assert response["statusCode"] == 400 and body["error"]["code"] == "invalid_input"
    assert "direction" in body["error"]["message"] and engine.calls == []


@pytest.mark.parametrize("detector", ["opencv", "learned", "auto"])
def test_detector_query_parameter_reaches_the_engine(http, engine, context, detector):
    for batch in (False, True):
        event = load_event("http_post_ocr_batch.json" if batch else "http_post_ocr.json", content_type="image/png", body="")
        event["body"], event["isBase64Encoded"] = b64(png_bytes()), True
        event["rawQueryString"], event["queryStringParameters"] = f"detector={detector}", {"detector": detector}
        response = http.handler(event, context)
        assert response["statusCode"] == 200, response["body"]
        body = json.loads(response["body"])
        meta = body["results"][0]["meta"] if batch else body["meta"]
        # the result says which finder found the lines (the fake's auto picks the learned one)
        assert meta["detector"] == ("learned" if detector == "auto" else detector)
    assert engine.detectors_asked == [detector, detector]
    status, body, _ = post(http, context, "image/png", png_bytes())  # no parameter: the engine's own setting
    assert status == 200 and engine.detectors_asked[-1] is None and body["meta"]["detector"] == "opencv"


@pytest.mark.parametrize("route", ["/ocr", "/ocr/batch"])
@pytest.mark.parametrize("value", ["yolo", "Learned", "whole", ""])
def test_unknown_detector_is_a_400_naming_the_allowed_values(http, engine, context, route, value):
    event = load_event("http_post_ocr_batch.json" if route.endswith("batch") else "http_post_ocr.json",
                       content_type="image/png", body="")
    event["body"], event["isBase64Encoded"] = b64(png_bytes()), True
    event["rawQueryString"], event["queryStringParameters"] = f"detector={value}", {"detector": value}
    response = http.handler(event, context)
    body = json.loads(response["body"])
    assert response["statusCode"] == 400 and response["headers"]["Content-Type"].startswith("application/json")
    assert body["success"] is False and body["error"]["code"] == "invalid_input"
    assert f"detector must be one of opencv, learned, auto, got {value!r}" == body["error"]["message"]
    assert engine.calls == []  # refused before the upload is read
    _openapi_validator("Error").validate(body)


def test_a_detector_the_engine_lacks_is_a_400_before_reading(http, engine, context, monkeypatch):
    monkeypatch.setattr(engine, "detectors", {"opencv": None})  # no learned model in this deployment
    for batch in (False, True):
        status, body = call_json(http, context, "image/png", png_bytes(), {"detector": "learned"}, batch=batch)
        assert (status, body["error"]["code"]) == (400, "invalid_input"), body
        assert body["error"]["message"] == "detector 'learned' is not available here (available: opencv)"
    assert call_json(http, context, "image/png", png_bytes(), {"detector": "opencv"})[0] == 200
    assert engine.detectors_asked == ["opencv"]


# ----------------------------------------------------------------- bounded parsing, safe echoes
def raw_multipart(boundary: str, *parts: bytes, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart body from ready-made parts (each: header lines, blank line, data)."""
    return preamble + b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode() + epilogue


def file_part(data: bytes, disposition: str = 'form-data; name="image"; filename="a.png"', extra: str = "") -> bytes:
    return f"Content-Disposition: {disposition}\r\n{extra}Content-Type: image/png\r\n\r\n".encode() + data


def test_multipart_shapes_real_clients_send(http, engine, context):
    image = png_bytes()
    body = raw_multipart(
        "a b:c",
        file_part(image, 'form-data; name="image"; filename="收据 \\"1\\".png"'),  # raw UTF-8, escaped quote
        file_part(image, "form-data; name=\"image\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.png"),
        file_part(base64.encodebytes(image), 'form-data; name="image"; filename="b64.png"',
                  "Content-Transfer-Encoding: base64\r\n"),
        file_part(image + b"\r\n--a b:cX not a delimiter", 'form-data; name="image"; filename="tail.png"'),
        b'Content-Disposition: form-data; name="note"\r\n\r\nhello',
        preamble=b"a preamble\r\n", epilogue=b"an epilogue",
    ).replace(b"--a b:c\r\n", b"--a b:c \t\r\n", 1)  # transport padding after the first boundary
    event = load_event("http_post_ocr_batch.json", content_type="multipart/form-data", body="")
    event["headers"]["content-type"] = 'multipart/form-data; BOUNDARY="a b:c"'  # quoted, upper-case name
    event["body"], event["isBase64Encoded"] = b64(body), True
    response = http.handler(event, context)
    out = json.loads(response["body"])
    assert response["statusCode"] == 200, out
    assert [r["name"] for r in out["results"]] == ['收据 "1".png', "发票.png", "b64.png", "tail.png"]
    assert engine.calls == [image, image, image, image + b"\r\n--a b:cX not a delimiter"]


def test_multipart_parts_are_counted_before_parsing(http, engine, context, monkeypatch):
    from ocr_service.handlers import requests

    monkeypatch.setattr(requests, "_multipart_parts", lambda *a: pytest.fail("parsed before counting"))
    for count, batch in ((33, True), (18, False), (74_000, True)):
        body = raw_multipart("b", *[b"\r\n"] * count)
        status, out, _ = post(http, context, "multipart/form-data; boundary=b", body, batch=batch)
        assert (status, out["error"]["code"]) == (400, "too_many_images"), out
        assert f"{count} parts" in out["error"]["message"]
    assert engine.calls == []


def test_multipart_limits_sit_where_documented(http, engine, context):
    from ocr_service.handlers.requests import EXTRA_FORM_FIELDS

    image = png_bytes()
    note = b'Content-Disposition: form-data; name="note"\r\n\r\nx'
    ok = raw_multipart("b", *[file_part(image)] * 16, *[note] * EXTRA_FORM_FIELDS)
    assert post(http, context, "multipart/form-data; boundary=b", ok, batch=True)[0] == 200
    for body in (raw_multipart("b", *[file_part(image)] * 17),
                 raw_multipart("b", *[file_part(image)] * 16, *[note] * (EXTRA_FORM_FIELDS + 1))):
        status, out, _ = post(http, context, "multipart/form-data; boundary=b", body, batch=True)
        assert (status, out["error"]["code"]) == (400, "too_many_images")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=" + "b" * 71, raw_multipart("b" * 71, file_part(b"x" * 80))),
        ("multipart/form-data; boundary=", raw_multipart("b", file_part(b"x" * 80))),
        ("multipart/form-data; boundary=b", raw_multipart("b", file_part(b"x" * 80, extra="X: " + "a" * 9000 + "\r\n"))),
        ("multipart/form-data; boundary=b", raw_multipart("b", file_part(b"x" * 80, extra="no colon\r\n"))),
        ("multipart/form-data; boundary=b", raw_multipart(
            "b", b"Content-Disposition: form-data; name=\"image\"\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
            + raw_multipart("c", file_part(b"x" * 80)))),
        ("multipart/form-data; boundary=b", raw_multipart("b", file_part(b"x" * 80))[: -len("--b--\r\n")]),
        ("multipart/form-data; boundary=b", raw_multipart("b", file_part(b"x" * 80)).replace(b"\r\n", b"\n")),
        ("multipart/form-data; boundary=b", raw_multipart("b", file_part(b"x" * 80)).replace(b"--b\r\n", b"--bX\r\n")),
        ("multipart/form-data; boundary=b", b"--b" * 100_000),
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data" + b"a" * 100_000),
        ("multipart/form-data; boundary=b", raw_multipart("b", *[b"\r\n"] * 16)),  # empty, headerless parts
    ],
    ids=["boundary_71", "boundary_empty", "header_block_9k", "header_without_colon", "nested", "no_close",
         "lf_only", "text_after_boundary", "boundary_repeated_no_crlf", "headers_unterminated", "empty_parts"],
)
def test_malformed_multipart_is_invalid_input(http, engine, context, content_type, body):
    status, out, _ = post(http, context, content_type, body, batch=True)
    assert (status, out["error"]["code"], out["error"]["status"]) == (400, "invalid_input", 400), out
    assert engine.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"image": "AAAA", "n": ' + b"9" * 5000 + b"}",  # Python's int-string limit: was a 500
        b'{"image": ' + b"9" * 100_000 + b"}",
        b'{"image": "AAAA", "n": ' + b"9" * 65 + b"}",
        b'{"image": "AAAA", "n": 1.' + b"5" * 10_000 + b"}",
        b'{"image": "AAAA", "n": 1e999}',
        b'{"image": "AAAA", "n": -1e400}',
        b'{"image": "AAAA", "n": NaN}',
        b'{"image": "AAAA", "n": Infinity}',
        b'{"image": "AAAA", "n": -Infinity}',
        b'{"image": "AAAA", "image": "AAAA"}',
        b'{"images": [{"image": "AAAA", "image": "AAAA"}]}',
        b'{"image": "AAAA", "name": "\xff"}',
        b'{"image": "AAAA", "name": "\xed\xa0\x80"}',  # an encoded surrogate: json.loads(bytes) took it
        b"\xef\xbb\xbf" + b'{"image": "AAAA"}',
        '{"image": "AAAA"}'.encode("utf-16"),
        b"{" + b'"a": 0, ' * 5000 + b'"image": "AAAA"}',
        b'{"image": "AAAA", "x": ' + b"[" * 300 + b"]" * 300 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
        b'{"image": true}', b'{"image": ["AAAA"]}', b'{"image": {"image": "AAAA"}}',
        b'{"images": [{"name": ["x"], "image": "AAAA"}]}',
    ],
)
def test_bad_json_is_a_400_in_the_error_shape(http, engine, context, body):
    for batch in (False, True):
        status, out, _ = post(http, context, "application/json", body, batch=batch)
        assert (status, out["error"]["code"], out["error"]["status"]) == (400, "invalid_input", 400), out
        assert set(out) == {"success", "error", "request_id"}
    assert engine.calls == []


def test_batch_json_counts_images_before_decoding_any(http, engine, context, monkeypatch):
    from ocr_service.handlers import requests

    monkeypatch.setattr(requests, "_decode_b64", lambda *a: pytest.fail("decoded before counting"))
    status, out, _ = post(http, context, "application/json", json.dumps({"images": ["AAAA"] * 4000}).encode(), batch=True)
    assert (status, out["error"]["code"]) == (400, "too_many_images")


def test_echoed_names_are_safe_and_every_body_encodes(http, engine, context):
    image = b64(png_bytes())
    names = ["\\ud800", "a\\udfff\\ud800b", "\\ud83d\\ude00", "\\udc80" * 1000]  # JSON escapes
    items = [f'{{"name": "{name}", "image": "{image}"}}' for name in names] + [f'{{"name": 7, "image": "{image}"}}']
    doc = '{"images": [' + ", ".join(items) + "]}"
    event = load_event("http_post_ocr_batch.json", content_type="application/json", body="")
    event["body"], event["isBase64Encoded"] = doc, False
    response = http.handler(event, context)
    out = json.loads(response["body"].encode("utf-8"))  # was: UnicodeEncodeError, and no answer
    assert response["statusCode"] == 200
    assert [r["name"] for r in out["results"]] == ["\ufffd", "a\ufffd\ufffdb", "\U0001f600", "\ufffd" * 255, "7"]
    body = raw_multipart("b", file_part(png_bytes(), 'form-data; name="image"; filename="@' + "n" * 1000 + '"'))
    status, out, _ = post(http, context, "multipart/form-data; boundary=b", body.replace(b"@", b"\xff", 1), batch=True)
    assert status == 200 and out["results"][0]["name"] == "\ufffd" + "n" * 254
    event["body"] = '{"images": [{"name": "\ud800", "image": "AAAA"}]}'  # a text body that is not even UTF-8
    response = http.handler(event, context)
    assert response["statusCode"] == 400 and json.loads(response["body"].encode("utf-8"))["error"]["code"] == "invalid_input"
    for path in ("/\ud800", "/ocr\udfff"):  # 404s echo the path
        response = get(http, context, path)
        assert response["statusCode"] == 404 and "\ufffd" in response["body"].encode("utf-8").decode("utf-8")


def test_safe_text_replaces_only_lone_surrogates():
    from ocr_service.handlers.results import safe_text

    assert safe_text("a\ud800b\udfff\U0001f600收据") == "a\ufffdb\ufffd\U0001f600收据"
    text = "plain"
    assert safe_text(text) is text


# ----------------------------------------------------------------- documents (PDF, multi-page TIFF)
@pytest.fixture
def doc_calls(engine, monkeypatch) -> list[dict[str, Any]]:
    """The fake engine reads documents too (two known lines per real page); its calls."""
    from support.documents import fake_run_document

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(engine, "run_document", fake_run_document(calls), raising=False)
    return calls


def two_page_pdf() -> bytes:
    from support.documents import page_image, pdf_of

    return pdf_of([page_image(300, 200, [[20, 20, 200, 60]]), page_image(200, 300, [[30, 100, 150, 140]])])


def pdf_pages(count: int) -> bytes:
    from support.documents import page_image, pdf_of

    return pdf_of([page_image(100, 80) for _ in range(count)])


def call(http, context, content_type: str, body: bytes, query: dict[str, str] | None = None, *,
         batch: bool = False, base64_encoded: bool = True) -> dict[str, Any]:
    """The raw Lambda response of ``POST /ocr`` (``/ocr/batch``) with ``query``."""
    from urllib.parse import urlencode

    event = load_event("http_post_ocr_batch.json" if batch else "http_post_ocr.json", content_type=content_type, body="")
    event["body"] = b64(body) if base64_encoded else body.decode("utf-8")
    event["isBase64Encoded"] = base64_encoded
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = dict(query)
    else:
        event.pop("queryStringParameters", None)
    return http.handler(event, context)


def call_json(http, context, content_type: str, body: bytes, query: dict[str, str] | None = None, **kw) -> tuple[int, dict[str, Any]]:
    response = call(http, context, content_type, body, query, **kw)
    assert response["headers"]["Content-Type"].startswith("application/json"), response["headers"]
    return response["statusCode"], json.loads(response["body"])


def _check_two_pages(body: dict[str, Any]) -> None:
    assert body["success"] is True
    assert [p["page"] for p in body["pages"]] == [1, 2]
    assert [(p["meta"]["width"], p["meta"]["height"]) for p in body["pages"]] == [(600, 400), (400, 600)]
    assert body["pages"][0]["data"][0]["text"] == "page 1 <i>top</i>"
    assert body["pages"][1]["text"] == "page 2 <i>top</i>\n第2页"
    assert body["text"] == body["pages"][0]["text"] + "\n\f" + body["pages"][1]["text"]
    meta = body["meta"]
    assert (meta["source_type"], meta["page_count"], meta["first_page"]) == ("pdf", 2, 1)
    assert meta["dpi"] == [144.0, 144.0] and meta["model"]["name"] == "fake"
    assert "data" not in body and "preview" not in body["pages"][0]


def test_pdf_raw_body_is_read_as_a_document(http, engine, doc_calls, context):
    status, body = call_json(http, context, "application/pdf", two_page_pdf())
    assert status == 200, body
    _check_two_pages(body)
    assert body["request_id"] == "Jt9aXgGuoAMEbXQ=" and body["latency_ms"] >= 0
    assert doc_calls == [{"bytes": len(two_page_pdf()), "direction": None, "first_page": 1, "last_page": None, "max_pages": 10}]
    assert engine.calls == []  # never read as an image


def test_a_document_is_known_by_its_bytes_whatever_the_declared_type(http, engine, doc_calls, context):
    pdf = two_page_pdf()
    for content_type in ("image/png", "application/octet-stream", ""):
        status, body = call_json(http, context, content_type, pdf)
        assert status == 200, body
        _check_two_pages(body)
    ctype, form = multipart([("image", "合同.pdf", pdf, "application/pdf")])
    _check_two_pages(call_json(http, context, ctype, form)[1])
    ctype, form = multipart([("document", "scan.bin", pdf, "application/octet-stream")])
    _check_two_pages(call_json(http, context, ctype, form)[1])
    for key in ("image", "document"):
        doc = json.dumps({"name": "a.pdf", key: b64(pdf)}).encode()
        _check_two_pages(call_json(http, context, "application/json", doc, base64_encoded=False)[1])
    data_url = json.dumps({"image": "data:application/pdf;base64," + b64(pdf)}).encode()
    _check_two_pages(call_json(http, context, "application/json", data_url, base64_encoded=False)[1])
    assert len(doc_calls) == 8 and engine.calls == []
    both = json.dumps({"image": b64(pdf), "document": b64(pdf)}).encode()
    status, body = call_json(http, context, "application/json", both, base64_encoded=False)
    assert (status, body["error"]["code"]) == (400, "invalid_input")


def test_the_detector_applies_to_every_page_of_a_document(http, engine, doc_calls, context):
    status, body = call_json(http, context, "application/pdf", two_page_pdf(), {"detector": "learned", "pages": "1-2"})
    assert status == 200, body
    assert doc_calls == [{"bytes": len(two_page_pdf()), "direction": None, "first_page": 1, "last_page": 2,
                          "max_pages": 10, "detector": "learned"}]
    assert [p["meta"]["detector"] for p in body["pages"]] == ["learned", "learned"]
    _openapi_validator("DocumentResponse").validate(body)
    status, body = call_json(http, context, "application/pdf", two_page_pdf(), {"detector": "sideways"})
    assert (status, body["error"]["code"]) == (400, "invalid_input") and len(doc_calls) == 1


def test_multi_page_tiff_is_a_document(http, engine, doc_calls, context):
    from support.documents import page_image, tiff_of

    tiff = tiff_of([page_image(120, 90), page_image(90, 120), page_image(50, 50)])
    status, body = call_json(http, context, "image/tiff", tiff)
    assert status == 200, body
    assert body["meta"]["source_type"] == "tiff" and body["meta"]["page_count"] == 3
    assert [(p["page"], p["meta"]["width"], p["meta"]["height"]) for p in body["pages"]] == [(1, 120, 90), (2, 90, 120), (3, 50, 50)]
    assert engine.calls == []


@pytest.mark.parametrize(("pages", "first", "last", "numbers"), [
    ("2", 2, 2, [2]), ("2-3", 2, 3, [2, 3]), ("3-", 3, None, [3, 4]), (" 1 - 2 ", 1, 2, [1, 2]), ("1-40", 1, 40, [1, 2, 3, 4]),
])
def test_page_range(http, engine, doc_calls, context, pages, first, last, numbers):
    status, body = call_json(http, context, "application/pdf", pdf_pages(4), {"pages": pages})
    assert status == 200, body
    assert [p["page"] for p in body["pages"]] == numbers
    assert body["meta"]["first_page"] == first and body["meta"]["page_count"] == 4
    assert (doc_calls[-1]["first_page"], doc_calls[-1]["last_page"]) == (first, last)


@pytest.mark.parametrize("pages", ["0", "0-2", "3-2", "abc", "1-2-3", "-2", "1,3", "9999999", "1.5", "\u0663", "1\n"])
def test_bad_page_ranges_are_400_before_reading(http, engine, doc_calls, context, pages):
    status, body = call_json(http, context, "application/pdf", pdf_pages(2), {"pages": pages})
    assert (status, body["error"]["code"]) == (400, "invalid_input"), body
    assert "pages" in body["error"]["message"]
    assert doc_calls == [] and engine.calls == []


def test_a_range_past_the_last_page_is_400(http, engine, doc_calls, context):
    status, body = call_json(http, context, "application/pdf", pdf_pages(2), {"pages": "3-4"})
    assert (status, body["error"]["code"]) == (400, "invalid_input") and "page 3" in body["error"]["message"]


def test_a_page_range_past_page_one_of_an_image_is_400(http, engine, doc_calls, context):
    assert call_json(http, context, "image/png", png_bytes(), {"pages": "1"})[0] == 200
    status, body = call_json(http, context, "image/png", png_bytes(), {"pages": "2-3"})
    assert (status, body["error"]["code"]) == (400, "invalid_input")
    assert len(engine.calls) == 1


def test_more_pages_than_the_http_limit_is_413_pointing_to_the_bucket(http, engine, doc_calls, context, monkeypatch):
    status, body = call_json(http, context, "application/pdf", pdf_pages(12))
    assert (status, body["error"]["code"], body["error"]["status"]) == (413, "too_many_pages", 413), body
    message = body["error"]["message"]
    assert "10" in message and "bucket" in message and "pages=1-10" in message, message
    _openapi_validator("Error").validate(body)
    status, body = call_json(http, context, "application/pdf", pdf_pages(12), {"pages": "3-12"})
    assert status == 200 and len(body["pages"]) == 10
    from ocr_service.settings import Settings

    monkeypatch.setattr(http, "SETTINGS", Settings(max_http_pages=2))
    assert call_json(http, context, "application/pdf", pdf_pages(3))[0] == 413
    assert call_json(http, context, "application/pdf", pdf_pages(2))[0] == 200
    assert doc_calls[-1]["max_pages"] == 2


def test_document_previews_are_small_jpegs_of_each_page(http, engine, doc_calls, context):
    import io

    from PIL import Image

    from ocr_service.handlers.previews import MAX_SIDE

    status, body = call_json(http, context, "application/pdf", two_page_pdf(), {"previews": "1"})
    assert status == 200, body
    for page in body["pages"]:
        prefix = "data:image/jpeg;base64,"
        assert page["preview"].startswith(prefix)
        img = Image.open(io.BytesIO(base64.b64decode(page["preview"][len(prefix):])))
        assert img.format == "JPEG" and max(img.size) <= MAX_SIDE
        ratio = (img.size[0] / img.size[1]) / (page["meta"]["width"] / page["meta"]["height"])
        assert ratio == pytest.approx(1, abs=0.01)
    # the first page's dark block (20..200 x 20..60 of 300 x 200) is dark in its preview too
    first = Image.open(io.BytesIO(base64.b64decode(body["pages"][0]["preview"].split(",", 1)[1]))).convert("L")
    w, h = first.size
    assert first.getpixel((int(w * 110 / 300), int(h * 40 / 200))) < 80 < first.getpixel((int(w * 250 / 300), int(h * 150 / 200)))
    _openapi_validator("DocumentResponse").validate(body)


def test_previews_stay_within_their_budget(http, engine, doc_calls, context, monkeypatch):
    from ocr_service.handlers import previews

    monkeypatch.setattr(previews, "BUDGET", 1)
    status, body = call_json(http, context, "application/pdf", two_page_pdf(), {"previews": "1"})
    assert status == 200 and [p["preview"] for p in body["pages"]] == [None, None]


def test_batch_reads_images_and_refuses_pdf_items_alone(http, engine, doc_calls, context):
    ctype, form = multipart([("image", "a.png", png_bytes(), "image/png"), ("image", "b.pdf", two_page_pdf(), "application/pdf")])
    status, body = call_json(http, context, ctype, form, batch=True)
    assert status == 200 and (body["count"], body["failed"]) == (2, 1)
    assert body["results"][1]["error"]["code"] == "unsupported_image_type"
    assert "POST /ocr" in body["results"][1]["error"]["message"]
    assert doc_calls == []
    status, body = call_json(http, context, ctype, form, {"format": "pdf"}, batch=True)
    assert (status, body["error"]["code"]) == (400, "invalid_input")


def test_document_response_follows_the_openapi_schema(http, engine, doc_calls, context):
    status, body = call_json(http, context, "application/pdf", two_page_pdf())
    assert status == 200
    document = _openapi_validator("DocumentResponse")
    document.validate(body)
    _openapi_validator("OcrAnswer").validate(body)
    _openapi_validator("OcrAnswer").validate(call_json(http, context, "image/png", png_bytes())[1])
    assert not document.is_valid({**body, "pages": [{"page": 0, "data": [], "text": ""}]})


# ----------------------------------------------------------------- ?format=
def _formats():
    from ocr_engine.formats import FORMATS

    return FORMATS


TEXT_FORMATS = ("text", "hocr", "alto", "textract")


def _sanity(fmt: str, payload: bytes, texts: list[str]) -> None:
    """What each format's body must at least be: well-formed, with the recognised text in it."""
    if fmt == "pdf":
        import pypdfium2

        assert payload.startswith(b"%PDF-")
        pypdfium2.PdfDocument(payload).close()
        return
    text = payload.decode("utf-8")
    if fmt == "text":
        for t in texts:
            assert t in text
    elif fmt == "textract":
        blocks = json.loads(text)["Blocks"]
        assert [b["Text"] for b in blocks if b["BlockType"] == "LINE"] == texts
    else:  # hOCR (XHTML) and ALTO (XML): well-formed, the recognised markup escaped, the words there
        import xml.etree.ElementTree as ET

        assert "<b>" not in text and "<i>" not in text
        root = ET.fromstring(payload)
        if fmt == "alto":
            assert root.tag == "{http://www.loc.gov/standards/alto/ns-v4#}alto", root.tag
            words = "".join(e.get("CONTENT", "") for e in root.iter() if e.tag.endswith("String"))
        else:
            assert root.tag.endswith("html") and "ocr_line" in text
            words = "".join(root.itertext())
        words = "".join(words.split())
        for t in texts:
            assert "".join(t.split()) in words, (t, words)


@pytest.mark.parametrize("fmt", [*TEXT_FORMATS, "pdf"])
def test_each_format_has_its_media_type_and_body(http, engine, doc_calls, context, fmt):
    spec = _formats()[fmt]
    image = png_bytes(200, 80)  # the fake engine's page size: the pdf format checks it
    response = call(http, context, "image/png", image, {"format": fmt})
    assert response["statusCode"] == 200, response
    headers = response["headers"]
    assert headers["Content-Type"].split(";")[0] == spec.media_type.split(";")[0]
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]
    if fmt == "pdf":
        assert response["isBase64Encoded"] is True  # API Gateway decodes it for the client
        payload = base64.b64decode(response["body"])
        assert headers["Content-Disposition"] == 'attachment; filename="result.pdf"'
    else:
        assert response["isBase64Encoded"] is False
        payload = response["body"].encode("utf-8")
        assert "Content-Disposition" not in headers  # a raw body has no name
        if spec.media_type.startswith("text/"):
            assert "charset=utf-8" in headers["Content-Type"]
    _sanity(fmt, payload, ["Hello <b>world</b>", "你好 世界"])
    assert engine.calls == [image]


@pytest.mark.parametrize("fmt", [*TEXT_FORMATS, "pdf"])
def test_each_format_renders_documents_too(http, engine, doc_calls, context, fmt):
    ctype, form = multipart([("image", "合同 v2.pdf", two_page_pdf(), "application/pdf")])
    response = call(http, context, ctype, form, {"format": fmt, "pages": "1-2"})
    assert response["statusCode"] == 200, response
    ext = _formats()[fmt].extension
    disposition = response["headers"]["Content-Disposition"]
    kind = "attachment" if fmt == "pdf" else "inline"
    assert disposition.startswith(f'{kind}; filename="__ v2.{ext}"'), disposition
    assert disposition.endswith(f"filename*=UTF-8''%E5%90%88%E5%90%8C%20v2.{ext}"), disposition
    payload = base64.b64decode(response["body"]) if response["isBase64Encoded"] else response["body"].encode("utf-8")
    _sanity(fmt, payload, ["page 1 <i>top</i>", "第1页", "page 2 <i>top</i>", "第2页"])
    if fmt == "pdf":
        import pypdfium2

        assert len(pypdfium2.PdfDocument(payload)) == 2
    assert engine.calls == [] and len(doc_calls) == 1


def test_json_format_is_the_default_envelope(http, engine, context):
    plain = call_json(http, context, "image/png", png_bytes())[1]
    explicit = call_json(http, context, "image/png", png_bytes(), {"format": "JSON"})[1]
    for body in (plain, explicit):
        body.pop("latency_ms")
    assert plain == explicit and plain["data"][1]["text"] == "你好 世界"


def test_unknown_format_is_400_listing_the_formats(http, engine, context):
    status, body = call_json(http, context, "image/png", png_bytes(), {"format": "docx"})
    assert (status, body["error"]["code"]) == (400, "invalid_input")
    for name in ("json", "text", "hocr", "alto", "pdf", "textract"):
        assert name in body["error"]["message"]
    assert engine.calls == []


@pytest.mark.parametrize("fmt", [*TEXT_FORMATS, "pdf"])
def test_errors_stay_json_in_every_format(http, engine, doc_calls, context, fmt):
    for content_type, payload, status, code in (("image/png", corrupt_png(), 422, "undecodable_image"),
                                                ("text/plain", b"x", 415, "unsupported_media_type"),
                                                ("application/pdf", pdf_pages(11), 413, "too_many_pages")):
        got, body = call_json(http, context, content_type, payload, {"format": fmt})
        assert (got, body["error"]["code"]) == (status, code)
        _openapi_validator("Error").validate(body)


def test_a_multipart_image_name_names_the_download(http, engine, context):
    ctype, form = multipart([("image", "scan.final.PNG", png_bytes(200, 80), "image/png")])
    response = call(http, context, ctype, form, {"format": "text"})
    assert response["headers"]["Content-Disposition"] == 'inline; filename="scan.final.txt"'
    doc = json.dumps({"name": 'C:\\scans\\a"b;c.png', "image": b64(png_bytes(200, 80))}).encode()
    response = call(http, context, "application/json", doc, {"format": "pdf"}, base64_encoded=False)
    assert response["headers"]["Content-Disposition"] == (
        'attachment; filename="a_b_c.pdf"; filename*=UTF-8\'\'a%22b%3Bc.pdf')  # no folder, no quote


def test_an_answer_over_the_lambda_response_limit_is_413(http, engine, doc_calls, context, monkeypatch):
    monkeypatch.setattr(http, "LAMBDA_RESPONSE_LIMIT", 20_000)
    response = call(http, context, "application/pdf", two_page_pdf(), {"format": "pdf"})
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]["code"]) == (413, "result_too_large"), body
    status, body = call_json(http, context, "application/pdf", two_page_pdf(), {"previews": "1"})
    assert (status, body["error"]["code"]) == (413, "result_too_large")
    _openapi_validator("Error").validate(body)


def test_the_local_gateway_sends_binary_answers_as_bytes_and_refuses_oversized_ones(http, engine, doc_calls):
    from infra.gateway import LAMBDA_SYNC_PAYLOAD_LIMIT, LocalGateway

    gateway = LocalGateway(http.handler, [("POST", "/ocr")])
    try:
        status, headers, payload = gateway.invoke("POST", "/ocr?format=pdf", [("Content-Type", "application/pdf")],
                                                  two_page_pdf(), "127.0.0.1")
        assert status == 200 and headers["Content-Type"] == "application/pdf" and payload.startswith(b"%PDF-")
        huge = LocalGateway(lambda e, c: {"statusCode": 200, "body": "x" * LAMBDA_SYNC_PAYLOAD_LIMIT}, [("GET", "/")])
        status, _, payload = huge.invoke("GET", "/", [], b"", "127.0.0.1")
        assert status == 500 and json.loads(payload)["error"]["code"] == "internal_error"
        huge.stop()
    finally:
        gateway.stop()
