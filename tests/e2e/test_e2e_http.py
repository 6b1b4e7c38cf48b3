"""The HTTP API through the local gateway, over real HTTP, with the real model."""

from __future__ import annotations

import base64
import json

import pytest

from infra.multipart import encode as multipart
from support.stack_client import lines_of, request, request_json

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


@pytest.fixture(scope="module")
def expected(reference_engine, sample_bytes):
    return lines_of(reference_engine.run(sample_bytes).to_dict())


def _check_ok(status: int, body: dict, expected) -> None:
    assert status == 200, body
    assert body["success"] is True
    assert lines_of(body) == expected
    for item in body["data"]:
        assert set(item) == {"text", "confidence", "box"}
        assert len(item["box"]) == 4


def test_raw_binary_body(stack, sample_bytes, expected):
    _check_ok(*request_json("POST", stack["api_url"] + "ocr", sample_bytes, "image/png"), expected)


def test_multipart_image_field(stack, sample_bytes, expected):
    ctype, body = multipart([("image", "示例 图片.png", sample_bytes, "image/png")])
    _check_ok(*request_json("POST", stack["api_url"] + "ocr", body, ctype), expected)


def test_json_base64(stack, sample_bytes, expected):
    doc = json.dumps({"image": base64.b64encode(sample_bytes).decode()}).encode()
    _check_ok(*request_json("POST", stack["api_url"] + "ocr", doc, "application/json"), expected)


def test_batch_keeps_order_and_reports_failures_per_item(stack, sample_bytes, expected):
    ctype, body = multipart(
        [
            ("image", "a.png", sample_bytes, "image/png"),
            ("image", "broken.png", CORRUPT, "image/png"),
            ("image", "c.png", sample_bytes, "image/png"),
        ]
    )
    status, out = request_json("POST", stack["api_url"] + "ocr/batch", body, ctype)
    assert status == 200
    assert (out["count"], out["failed"]) == (3, 1)
    assert [(r["index"], r["name"], r["success"]) for r in out["results"]] == [
        (0, "a.png", True), (1, "broken.png", False), (2, "c.png", True),
    ]
    assert out["results"][1]["error"]["code"] == "undecodable_image"
    assert lines_of(out["results"][0]) == expected == lines_of(out["results"][2])


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "code"),
    [
        ("ocr", "text/plain", b"hello", 415, "unsupported_media_type"),
        ("ocr", "application/octet-stream", b"%PDF-1.7\n" + b"0" * 64, 422, "undecodable_document"),
        ("ocr", "application/octet-stream", b"RIFF" + b"0" * 64, 415, "unsupported_image_type"),
        ("ocr", "image/png", CORRUPT, 422, "undecodable_image"),
        ("ocr", "application/json", b'{"image": 12}', 400, "invalid_input"),
        ("ocr", "image/png", b"", 400, "empty_image"),
    ],
)
def test_errors(stack, path, content_type, body, status, code):
    got, out = request_json("POST", stack["api_url"] + path, body, content_type)
    assert (got, out["success"], out["error"]["code"], out["error"]["status"]) == (status, False, code, status)


def test_too_many_images(stack):
    tiny = base64.b64encode(CORRUPT).decode()
    doc = json.dumps({"images": [tiny] * 17}).encode()
    status, out = request_json("POST", stack["api_url"] + "ocr/batch", doc, "application/json")
    assert status == 400 and out["error"]["code"] == "too_many_images"


def test_over_the_6mb_sync_payload_limit(stack, sample_bytes):
    # 5 MB of image bytes become ~6.7 MB once API Gateway base64-encodes them.
    big = sample_bytes + b"\0" * (5 * 1024 * 1024)
    status, out = request_json("POST", stack["api_url"] + "ocr", big, "image/png")
    assert status == 413 and out["error"]["code"] == "payload_too_large"


def test_gif_first_frame(stack, reference_engine, sample_bytes):
    """GIF is a supported format over HTTP too (the first frame is read)."""
    import io

    from PIL import Image

    frame = Image.open(io.BytesIO(sample_bytes)).convert("RGB")
    buf = io.BytesIO()
    frame.save(buf, format="GIF", save_all=True, append_images=[Image.new("RGB", frame.size, "black")])
    gif = buf.getvalue()
    expected = lines_of(reference_engine.run(gif).to_dict())
    assert expected, "the sample read as a GIF has no lines"
    _check_ok(*request_json("POST", stack["api_url"] + "ocr", gif, "image/gif"), expected)


def test_health_and_unknown_route(stack):
    status, out = request_json("GET", stack["api_url"] + "health")
    assert status == 200 and out["status"] == "ok" and out["model"]["name"]
    status, headers, body = request("GET", stack["api_url"] + "nope")
    out = json.loads(body)
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert (out["success"], out["error"]["code"], out["error"]["status"]) == (False, "not_found", 404)


@pytest.mark.parametrize(("method", "path", "allow"), [("DELETE", "ocr", "POST"), ("PUT", "", "GET"), ("GET", "ocr/batch", "POST")])
def test_unknown_method_on_a_known_route_is_405(stack, method, path, allow):
    status, headers, body = request(method, stack["api_url"] + path, b"" if method == "PUT" else None)
    out = json.loads(body)
    assert (status, headers.get("Allow")) == (405, allow), (headers, out)
    assert set(out) == {"success", "error", "request_id"} and out["success"] is False
    assert out["error"] == {"code": "method_not_allowed", "message": out["error"]["message"], "status": 405}


def test_every_error_has_the_one_shape(stack, sample_bytes):
    """Through the gateway, whoever answers (function or gateway): success, error.code/message/status."""
    url = stack["api_url"]
    cases = [
        ("POST", url + "ocr", b'{"image": 12}', "application/json", 400),
        ("GET", url + "nope", None, None, 404),
        ("DELETE", url + "ocr", None, None, 405),
        ("POST", url + "ocr", sample_bytes + b"\0" * (5 * 1024 * 1024), "image/png", 413),
        ("POST", url + "ocr", b"hello", "text/plain", 415),
        ("POST", url + "ocr", CORRUPT, "image/png", 422),
    ]
    for method, target, body, ctype, want in cases:
        status, headers, payload = request(method, target, body, ctype)
        out = json.loads(payload)
        assert status == want and headers["Content-Type"].startswith("application/json"), (want, status, headers)
        assert out["success"] is False and set(out["error"]) == {"code", "message", "status"}, out
        assert out["error"]["status"] == status, out


def test_page_is_served(stack):
    status, headers, body = request("GET", stack["api_url"])
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in headers
    assert b'id="file-input"' in body


# ----------------------------------------------------------------- documents over HTTP
PAGE_TEXTS = (["合同编号 2024-117", "Service agreement", "甲方 北京云识科技"],
              ["第二页 付款条件", "Total 128.50 元"])


@pytest.fixture(scope="module")
def two_page_pdf() -> bytes:
    """Two pages of text rendered with a font the model was not trained on, put in a PDF at 150 dpi."""
    from PIL import Image

    from support.documents import pdf_of
    from support.render import render_page, require_font

    font = require_font("gbsn")
    pages = [Image.fromarray(render_page(texts, font, size=34, width=760).image) for texts in PAGE_TEXTS]
    return pdf_of(pages, dpi=150)


@pytest.fixture(scope="module")
def expected_document(reference_engine, two_page_pdf):
    from ocr_engine.document import DocumentLimits

    return reference_engine.run_document(two_page_pdf, limits=DocumentLimits(max_pages=10)).to_dict()


def test_a_pdf_through_the_gateway_is_read_page_by_page(stack, two_page_pdf, expected_document):
    status, body = request_json("POST", stack["api_url"] + "ocr", two_page_pdf, "application/pdf")
    assert status == 200, body
    assert body["success"] is True and body["meta"]["source_type"] == "pdf" and body["meta"]["page_count"] == 2
    assert [page["page"] for page in body["pages"]] == [1, 2]
    assert [lines_of(page) for page in body["pages"]] == [lines_of(page) for page in expected_document["pages"]]
    assert any(lines_of(page) for page in body["pages"]), "the model read nothing on either page"
    for page, want in zip(body["pages"], expected_document["pages"], strict=True):
        assert (page["meta"]["width"], page["meta"]["height"]) == (want["width"], want["height"])
        for item in page["data"]:
            xs, ys = [p[0] for p in item["box"]], [p[1] for p in item["box"]]
            assert -1 <= min(xs) and max(xs) <= want["width"] + 1 and -1 <= min(ys) and max(ys) <= want["height"] + 1
    assert body["text"] == expected_document["text"]


def test_a_pdf_in_a_multipart_form_with_a_page_range(stack, two_page_pdf, expected_document):
    ctype, form = multipart([("image", "合同.pdf", two_page_pdf, "application/octet-stream")])
    status, body = request_json("POST", stack["api_url"] + "ocr?pages=2", form, ctype)
    assert status == 200, body
    assert [page["page"] for page in body["pages"]] == [2] and body["meta"]["first_page"] == 2
    assert lines_of(body["pages"][0]) == lines_of(expected_document["pages"][1])


def test_formats_through_the_gateway(stack, two_page_pdf, expected_document):
    import pypdfium2

    status, headers, payload = request("POST", stack["api_url"] + "ocr?format=pdf", two_page_pdf, "application/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf", (status, headers)
    assert headers["Content-Disposition"].startswith("attachment;")
    pdf = pypdfium2.PdfDocument(payload)  # bytes, as API Gateway sends them
    assert len(pdf) == 2
    layer = pdf[0].get_textpage().get_text_range()
    for line in expected_document["pages"][0]["lines"]:
        assert "".join(line["text"].split()) in "".join(layer.split()), (line["text"], layer)
    status, headers, payload = request("POST", stack["api_url"] + "ocr?format=text", two_page_pdf, "application/pdf")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert payload.decode("utf-8").rstrip("\n") == expected_document["text"].rstrip("\n")
    status, out = request_json("POST", stack["api_url"] + "ocr?format=docx", two_page_pdf, "application/pdf")
    assert (status, out["error"]["code"]) == (400, "invalid_input")


def test_a_pdf_over_the_page_limit_is_413(stack):
    from support.documents import page_image, pdf_of

    pdf = pdf_of([page_image(200, 100) for _ in range(11)])
    status, out = request_json("POST", stack["api_url"] + "ocr?format=pdf", pdf, "application/pdf")
    assert (status, out["error"]["code"], out["error"]["status"]) == (413, "too_many_pages", 413), out
    assert "bucket" in out["error"]["message"]
