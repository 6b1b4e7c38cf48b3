"""Pull the image(s) out of an HTTP API request.

Three input styles are accepted by ``POST /ocr`` and ``POST /ocr/batch``:

* a raw binary body (``Content-Type: image/*`` or ``application/octet-stream``);
* ``multipart/form-data`` with the image in an ``image`` field (batch: repeat the field,
  ``image`` or ``images``, once per file);
* JSON: ``{"image": "<base64>"}`` (batch: ``{"images": ["<base64>", ...]}`` or a list of
  ``{"name": ..., "image": ...}`` objects). ``data:`` URLs are accepted too.

Every refusal is an :class:`~ocr_service.errors.OcrError` subclass so the HTTP layer maps
it to a status code in one place.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any

from ocr_service.errors import EmptyImage, ImageTooLarge, InvalidInput, OcrError

IMAGE_FIELDS = ("image", "images", "image[]", "file", "files")


class UnsupportedMediaType(OcrError):
    """The request's Content-Type is not an image, multipart/form-data or JSON."""

    code = "unsupported_media_type"
    http_status = 415


class TooManyImages(InvalidInput):
    """A batch request carries more images than allowed."""

    code = "too_many_images"
    http_status = 400


@dataclass(frozen=True)
class Upload:
    """One image taken from a request (``error`` set when this item alone is malformed)."""

    name: str
    data: bytes
    error: OcrError | None = None


def header(headers: Mapping[str, str] | None, name: str) -> str:
    """Case-insensitive header lookup."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value or ""
    return ""


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body as bytes, undoing API Gateway's base64 encoding."""
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError) as err:
            raise InvalidInput(f"body is not valid base64: {err}") from err
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def uploads_from_event(event: Mapping[str, Any], *, max_bytes: int, max_images: int, batch: bool) -> list[Upload]:
    """Extract the uploads of a ``POST /ocr`` (``batch=False``) or ``POST /ocr/batch`` request."""
    body = raw_body(event)
    if len(body) > max_bytes:
        raise ImageTooLarge(f"request body is {len(body)} bytes; the limit is {max_bytes}")
    if not body:
        raise EmptyImage("the request has no body; send an image")
    content_type = header(event.get("headers"), "content-type")
    mime = content_type.split(";", 1)[0].strip().lower()

    if mime == "multipart/form-data":
        uploads = _from_multipart(content_type, body)
    elif mime == "application/json" or mime.endswith("+json"):
        uploads = _from_json(body, batch=batch)
    elif mime.startswith("image/") or mime in ("application/octet-stream", ""):
        uploads = [Upload(name="body", data=body)]
    else:
        raise UnsupportedMediaType(
            f"Content-Type {mime!r} is not supported; send image/*, application/octet-stream, "
            "multipart/form-data or application/json"
        )
    if not uploads:
        raise InvalidInput("no image found in the request (multipart field 'image' or JSON key 'image')")
    if batch and len(uploads) > max_images:
        raise TooManyImages(f"{len(uploads)} images sent; at most {max_images} per batch")
    if not batch:
        uploads = uploads[:1]
        if uploads[0].error is not None:
            raise uploads[0].error
    return uploads


def _from_multipart(content_type: str, body: bytes) -> list[Upload]:
    if "boundary=" not in content_type:
        raise InvalidInput("multipart/form-data without a boundary")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise InvalidInput("malformed multipart/form-data body")
    named: list[Upload] = []
    files: list[Upload] = []
    for index, part in enumerate(message.iter_parts()):
        field = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        upload = Upload(name=filename or field or f"part-{index}", data=data)
        if field in IMAGE_FIELDS:
            named.append(upload)
        elif filename:
            files.append(upload)
    return named or files


def _decode_b64(value: str, where: str) -> bytes:
    if not value:
        raise EmptyImage(f"{where} is empty")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput(f"{where} is not valid base64") from err


def _from_json(body: bytes, *, batch: bool) -> list[Upload]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(f"body is not valid JSON: {err}") from err
    except RecursionError as err:
        raise InvalidInput("body is not valid JSON: nested too deeply") from err
    if not isinstance(document, dict):
        raise InvalidInput('JSON body must be an object such as {"image": "<base64>"}')
    items = document.get("images")
    if items is None:
        if "image" not in document:
            raise InvalidInput('JSON body needs an "image" (or, for batches, "images") key')
        items = [{"name": document.get("name") or "image", "image": document["image"]}]
    if not isinstance(items, list):
        raise InvalidInput('"images" must be a list')
    uploads = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            name, value, where = str(item.get("name") or f"image-{index}"), item.get("image"), f"images[{index}].image"
        else:
            name, value, where = f"image-{index}", item, f"images[{index}]"
        if not isinstance(value, str):
            # A request that does not follow the schema is refused as a whole.
            raise InvalidInput(f"{where} must be a base64 string")
        try:
            uploads.append(Upload(name=name, data=_decode_b64(value, where)))
        except OcrError as err:  # this item fails alone (a batch reports it in its place)
            uploads.append(Upload(name=name, data=b"", error=err))
    return uploads
