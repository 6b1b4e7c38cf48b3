"""Pull the image(s) out of an HTTP API request.

Three input styles are accepted by ``POST /ocr`` and ``POST /ocr/batch``:

* a raw binary body (``Content-Type: image/*``, ``application/pdf`` or
  ``application/octet-stream``);
* ``multipart/form-data`` with the image in an ``image`` field (``document`` too; batch:
  repeat the field, ``image`` or ``images``, once per file);
* JSON: ``{"image": "<base64>"}`` (``"document"`` is an alias; batch:
  ``{"images": ["<base64>", ...]}`` or a list of ``{"name": ..., "image": ...}`` objects).
  ``data:`` URLs are accepted too.

The declared type only chooses how the body is parsed: whether the bytes are an image or a
document (PDF, multi-page TIFF) is decided by their content, in :mod:`ocr_service.handlers.http_api`.

Every refusal is an :class:`~ocr_engine.errors.OcrError` subclass; its code becomes an HTTP
status in one place, :mod:`ocr_service.status`.

Parsing costs at most linear time in the body, whatever its shape. A multipart body's parts
are counted (boundary occurrences, one C-level scan) before any is parsed: more than the
images allowed plus :data:`EXTRA_FORM_FIELDS` is ``too_many_images``; each part's header
block is at most :data:`MAX_PART_HEADER_BYTES`. A JSON body's separators and containers are
counted the same way (:data:`MAX_JSON_TOKENS`, :data:`MAX_JSON_CONTAINERS`) before it is
parsed; numbers longer than :data:`MAX_NUMBER_CHARS`, ``NaN``/``Infinity``, numbers that
overflow to infinity, duplicate keys and non-UTF-8 bytes are ``invalid_input``. Names echoed
back (file names, JSON ``name``) are made safe first (:func:`safe_name`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ocr_engine.errors import EmptyImage, ImageTooLarge, InvalidInput, OcrError
from ocr_service.handlers.results import safe_text

IMAGE_FIELDS = ("image", "images", "image[]", "file", "files", "document")
# Raw bodies of these types are read like image/* ones (the content decides what they are).
DOCUMENT_TYPES = ("application/pdf", "application/x-pdf")

# Multipart: other fields allowed beside the images (the part count is checked first).
EXTRA_FORM_FIELDS = 16
MAX_BOUNDARY_LENGTH = 70  # RFC 2046
MAX_PART_HEADER_BYTES = 8 * 1024
# JSON, counted in the raw body before parsing (base64 has none of these characters): commas
# and colons (a batch of 16 needs about 100), "[" and "{" (about 20; this also bounds nesting).
MAX_JSON_TOKENS = 4096
MAX_JSON_CONTAINERS = 256
MAX_NUMBER_CHARS = 64
# Names are echoed in batch results: at most this many characters, no lone surrogates.
MAX_NAME_CHARS = 255


class UnsupportedMediaType(OcrError):
    """The request's Content-Type is not an image, multipart/form-data or JSON."""

    code = "unsupported_media_type"


class TooManyImages(InvalidInput):
    """A batch request carries more images than allowed."""

    code = "too_many_images"


@dataclass(frozen=True)
class Upload:
    """One image (or document) taken from a request (``error`` set when this item alone is malformed).

    ``name`` is what results echo (a default such as ``body`` or ``image-0`` when the client
    gave none); ``filename`` is the name the client gave (multipart ``filename``, JSON
    ``name``), ``None`` otherwise.
    """

    name: str
    data: bytes
    error: OcrError | None = None
    filename: str | None = None


def header(headers: Mapping[str, str] | None, name: str) -> str:
    """Case-insensitive header lookup."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value or ""
    return ""


def safe_name(name: str) -> str:
    """A name fit to echo: lone surrogates replaced by U+FFFD, at most :data:`MAX_NAME_CHARS`."""
    return safe_text(name[: MAX_NAME_CHARS * 2])[:MAX_NAME_CHARS]


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
    # surrogatepass: a text body with lone surrogates becomes bytes that are not UTF-8 (a 400
    # for JSON), never an exception here.
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


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
        _check_part_count(content_type, body, max_images + EXTRA_FORM_FIELDS)
        uploads = _from_multipart(content_type, body)
    elif mime == "application/json" or mime.endswith("+json"):
        uploads = _from_json(body, batch=batch, max_images=max_images)
    elif mime.startswith("image/") or mime in ("application/octet-stream", "", *DOCUMENT_TYPES):
        uploads = [Upload(name="body", data=body)]
    else:
        raise UnsupportedMediaType(
            f"Content-Type {mime[:100]!r} is not supported; send image/*, application/pdf, "
            "application/octet-stream, multipart/form-data or application/json"
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


# ---------------------------------------------------------------- multipart/form-data
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf';[ \t]*({_TOKEN})[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*)')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_BOUNDARY = re.compile(rf"[ -~]{{0,{MAX_BOUNDARY_LENGTH - 1}}}[!-~]")  # printable ASCII, no final space


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """``("form-data", {"name": ..., "filename": ...})`` of a header value; first of each wins."""
    head, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1])
        params.setdefault(match.group(1).lower(), raw)
    return head.strip().lower(), params


def _boundary(content_type: str) -> bytes:
    boundary = _header_params(content_type)[1].get("boundary", "")
    if not boundary:
        raise InvalidInput("multipart/form-data without a boundary")
    if not _BOUNDARY.fullmatch(boundary):
        raise InvalidInput(f"the multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} printable ASCII characters")
    return boundary.encode("ascii")


def _check_part_count(content_type: str, body: bytes, max_parts: int) -> None:
    """Refuse a body with more than ``max_parts`` parts before parsing any (one C-level count)."""
    dash = b"--" + _boundary(content_type)
    parts = body.count(b"\r\n" + dash) + body.startswith(dash) - 1  # less the closing delimiter
    if parts > max_parts:
        raise TooManyImages(f"the multipart body has {parts} parts; at most {max_parts} per request")


def _part_headers(block: bytes) -> dict[str, str]:
    """A part's headers, names lower-cased; the first of a repeated header wins."""
    headers: dict[str, str] = {}
    current: str | None = None  # the header that folded lines continue (None: one ignored)
    for line in block.decode("utf-8", "replace").split("\r\n"):
        if line[:1] in (" ", "\t"):  # obsolete line folding
            if current is not None:
                headers[current] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not name:
            raise InvalidInput("malformed multipart/form-data body: a part header line has no name")
        current = None if name in headers else name
        headers.setdefault(name, value.strip())
    return headers


def _filename(params: Mapping[str, str]) -> str:
    """``filename*`` (RFC 5987 ``charset'language'percent-encoded``) if given, else ``filename``."""
    charset, quote1, rest = params.get("filename*", "").partition("'")
    _language, quote2, encoded = rest.partition("'")
    if quote1 and quote2:
        latin = charset.strip().lower() in ("iso-8859-1", "latin-1", "latin1")  # else UTF-8: no odd codecs
        return unquote(encoded, encoding="latin-1" if latin else "utf-8", errors="replace")
    return params.get("filename", "")


def _transfer_decode(data: bytes, encoding: str) -> bytes:
    """Undo a part's (deprecated, RFC 7578) Content-Transfer-Encoding."""
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error as err:
            raise InvalidInput("a multipart part is not valid base64") from err
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


_CLOSE = -1


def _after_delimiter(body: bytes, pos: int) -> int | None:
    """Just past a ``--boundary`` at ``pos``: where the part's headers start, :data:`_CLOSE` for
    the closing delimiter, or ``None`` when other text follows (not a delimiter, RFC 2046)."""
    if body.startswith(b"--", pos):
        return _CLOSE
    eol = body.find(b"\r\n", pos, pos + 256)
    if eol < 0 or body[pos:eol].strip(b" \t"):  # only transport padding may precede the CRLF
        return None
    return eol + 2


def _next_delimiter(body: bytes, delimiter: bytes, start: int) -> tuple[int, int | None]:
    """``(index, after)`` of the first real ``CRLF--boundary`` from ``start``; ``(-1, None)`` if none."""
    at = body.find(delimiter, start)
    while at >= 0:  # each candidate is looked at once: at most the counted occurrences
        after = _after_delimiter(body, at + len(delimiter))
        if after is not None:
            return at, after
        at = body.find(delimiter, at + 1)
    return -1, None


def _multipart_parts(body: bytes, boundary: bytes) -> list[tuple[bytes, bytes]]:
    """``[(header block, data), ...]``: each step is a bounded ``find``, so the whole is linear."""
    dash = b"--" + boundary
    delimiter = b"\r\n" + dash
    after = _after_delimiter(body, len(dash)) if body.startswith(dash) else None
    if after is None:  # a preamble comes first
        after = _next_delimiter(body, delimiter, 0)[1]
        if after is None:
            raise InvalidInput("malformed multipart/form-data body: no boundary line")
    parts: list[tuple[bytes, bytes]] = []
    while after != _CLOSE:  # the epilogue after the closing delimiter is ignored
        start = after
        if body.startswith(b"\r\n", start):  # a part without headers
            block, data_start = b"", start + 2
        else:
            end = body.find(b"\r\n\r\n", start, start + MAX_PART_HEADER_BYTES + 4)
            if end < 0:
                raise InvalidInput(
                    f"malformed multipart/form-data body: a part's headers are unterminated or over "
                    f"{MAX_PART_HEADER_BYTES} bytes"
                )
            block, data_start = body[start:end], end + 4
        # From data_start - 2: an empty part may share the CRLF that ends its headers.
        at, after = _next_delimiter(body, delimiter, data_start - 2)
        if after is None:
            raise InvalidInput("malformed multipart/form-data body: no closing boundary")
        parts.append((block, body[data_start:max(at, data_start)]))
    return parts


def _from_multipart(content_type: str, body: bytes) -> list[Upload]:
    named: list[Upload] = []
    files: list[Upload] = []
    for index, (block, data) in enumerate(_multipart_parts(body, _boundary(content_type))):
        headers = _part_headers(block)
        _, params = _header_params(headers.get("content-disposition", ""))
        if headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            raise InvalidInput("nested multipart parts are not supported; send each image as its own part")
        field = params.get("name", "")
        filename = _filename(params)
        payload = _transfer_decode(data, headers.get("content-transfer-encoding", "").lower())
        upload = Upload(name=safe_name(filename or field or f"part-{index}"), data=payload,
                        filename=safe_name(filename) if filename else None)
        if field in IMAGE_FIELDS:
            named.append(upload)
        elif filename:
            files.append(upload)
    return named or files


# ---------------------------------------------------------------- JSON
class _RefusedJson(ValueError):
    """A JSON value this API refuses although a lenient parser would take it."""


def _refuse_constant(name: str) -> Any:
    raise _RefusedJson(f"{name} is not a JSON value")


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _RefusedJson(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _RefusedJson(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if math.isinf(value):
        raise _RefusedJson("a number is too large")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _RefusedJson("an object has a duplicate key")
    return document


def _decode_b64(value: str, where: str) -> bytes:
    if not value:
        raise EmptyImage(f"{where} is empty")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput(f"{where} is not valid base64") from err


def _parse_json(body: bytes) -> Any:
    """The document, refused before parsing when it has too many members or containers."""
    separators = body.count(b",") + body.count(b":")
    if separators > MAX_JSON_TOKENS:
        raise InvalidInput(f"JSON body has too many values ({separators} separators; at most {MAX_JSON_TOKENS})")
    containers = body.count(b"[") + body.count(b"{")
    if containers > MAX_JSON_CONTAINERS:  # so nesting stays shallow too: never a RecursionError
        raise InvalidInput(f"JSON body has too many arrays and objects ({containers}; at most {MAX_JSON_CONTAINERS})")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput(f"JSON body is not UTF-8 (byte {err.start})") from err
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_parse_int,
                          parse_float=_parse_float, parse_constant=_refuse_constant)
    except _RefusedJson as err:
        raise InvalidInput(f"body is not valid JSON: {err}") from err
    except ValueError as err:  # JSONDecodeError and int conversion limits
        raise InvalidInput(f"body is not valid JSON: {str(err)[:200]}") from err
    except RecursionError as err:
        raise InvalidInput("body is not valid JSON: nested too deeply") from err


def _upload(name: Any, value: Any, default: str, where: str) -> Upload:
    """One JSON image: ``value`` the base64 string at ``where`` (for messages), ``name`` its name."""
    given: str | None = None
    if name is None or name == "":
        name = default
    elif isinstance(name, bool) or not isinstance(name, str | int | float):
        raise InvalidInput(f"the name of {where} must be a string")
    else:
        given = safe_name(str(name))
    if not isinstance(value, str):
        # A request that does not follow the schema is refused as a whole.
        raise InvalidInput(f"{where} must be a base64 string")
    try:
        return Upload(name=safe_name(str(name)), data=_decode_b64(value, where), filename=given)
    except OcrError as err:  # this item fails alone (a batch reports it in its place)
        return Upload(name=safe_name(str(name)), data=b"", error=err, filename=given)


def _from_json(body: bytes, *, batch: bool, max_images: int = 16) -> list[Upload]:
    document = _parse_json(body)
    if not isinstance(document, dict):
        raise InvalidInput('JSON body must be an object such as {"image": "<base64>"}')
    items = document.get("images")
    if items is None:
        if "image" in document and "document" in document:
            raise InvalidInput('JSON body has both "image" and "document"; send one')
        for key in ("image", "document"):
            if key in document:
                return [_upload(document.get("name"), document[key], key, key)]
        raise InvalidInput('JSON body needs an "image" (or "document"; for batches, "images") key')
    if not isinstance(items, list):
        raise InvalidInput('"images" must be a list')
    if not batch:
        items = items[:1]
    elif len(items) > max_images:  # before decoding any
        raise TooManyImages(f"{len(items)} images sent; at most {max_images} per batch")
    uploads = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            uploads.append(_upload(item.get("name"), item.get("image"), f"image-{index}", f"images[{index}].image"))
        else:
            uploads.append(_upload(None, item, f"image-{index}", f"images[{index}]"))
    return uploads
