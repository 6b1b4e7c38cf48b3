r"""The one multipart/form-data encoder of the project (the tests, the end-to-end client, the soak).

A field is ``(name, filename, data)`` or ``(name, filename, data, content_type)``. A field with a
filename is a file part (``application/octet-stream`` unless a content type is given); one
without (``filename=None``) is a plain form field (``text/plain`` unless given). Names are sent
as raw UTF-8 inside the quotes, as browsers send them.

Example:
    >>> ctype, body = encode([("image", "a.png", b"PNG"), ("note", None, b"hi")], boundary="b")
    >>> ctype
    'multipart/form-data; boundary=b'
    >>> body.split(b"\r\n")[1:3]
    [b'Content-Disposition: form-data; name="image"; filename="a.png"', b'Content-Type: application/octet-stream']
    >>> body.endswith(b'name="note"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n')
    True

Bodies that break the format on purpose (for the hostile-request tests) are written by hand in
those tests; this encoder only writes valid ones, and refuses what it cannot write validly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

Field = tuple[str, str | None, bytes] | tuple[str, str | None, bytes, str]

# RFC 2046 section 5.1.1: 1 to 70 characters of this set, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_UNSAFE_IN_QUOTES = re.compile(r'["\r\n]')
_NEEDS_QUOTES = re.compile(r"[()<>@,;:\\\"/\[\]?= ]")  # RFC 2045 tspecials and space


def encode(fields: Iterable[Field], boundary: str | None = None) -> tuple[str, bytes]:
    """``(content type, body)`` of a multipart/form-data request holding ``fields`` in order.

    ``boundary`` defaults to a random one. Raises ``ValueError`` for a boundary RFC 2046 does
    not allow, a name or filename that cannot sit inside quotes (``"``, CR, LF), or data that
    holds the delimiter (which would end its part early).
    """
    boundary = uuid.uuid4().hex if boundary is None else boundary
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"not a valid multipart boundary: {boundary!r}")
    delimiter = f"--{boundary}".encode()
    body = bytearray()
    for field in fields:
        name, filename, data = field[0], field[1], field[2]
        content_type = field[3] if len(field) > 3 else None
        for text in (name, filename or ""):
            if _UNSAFE_IN_QUOTES.search(text):
                raise ValueError(f"cannot quote {text!r} in a Content-Disposition header")
        if b"\r\n" + delimiter in b"\r\n" + data:
            raise ValueError(f"the data of field {name!r} contains the boundary delimiter")
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        content_type = content_type or ("application/octet-stream" if filename is not None else "text/plain")
        body += delimiter + b"\r\n"
        body += f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += delimiter + b"--\r\n"
    quoted = f'"{boundary}"' if _NEEDS_QUOTES.search(boundary) else boundary
    return f"multipart/form-data; boundary={quoted}", bytes(body)
