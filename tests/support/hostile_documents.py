"""A generated corpus of hostile PDFs and multi-page TIFFs (nothing is downloaded).

Every case is written here byte by byte (a small PDF writer with a correct cross-reference
table, TIFF directories by hand) and carries the error code the engine must answer with,
and the document limits it is read under when they are not the defaults.

Run ``python tests/support/hostile_documents.py OUT_DIR`` to write the files for a look.
"""

from __future__ import annotations

import hashlib
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.hostile_corpus import _deflate_repeated


@dataclass(frozen=True)
class DocCase:
    """One hostile document: a name, a class of input, the bytes, the answer and the limits."""

    name: str
    kind: str
    data: bytes
    expected: str
    limits: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- a minimal PDF writer
def pdf(objects: list[bytes], *, root: int = 1, trailer: bytes = b"", version: bytes = b"1.7") -> bytes:
    """A PDF of ``objects`` (object ``i + 1`` is ``objects[i]``) with a cross-reference table."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer, xref)
    return bytes(out)


def stream(entries: bytes, data: bytes) -> bytes:
    """A stream object body: the dictionary ``<< entries /Length n >>`` and ``data``."""
    return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
TEXT = b"BT /F1 24 Tf 72 720 Td (Hello PDF) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page(media_box: bytes = b"[0 0 612 792]", content: bytes = TEXT, *, page_extra: bytes = b"",
             more: list[bytes] | None = None, trailer: bytes = b"") -> bytes:
    """A one-page PDF: catalog 1, pages 2, page 3, content 4, font 5, then ``more`` from 6."""
    return pdf([
        CATALOG,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box
        + b" /Resources << /Font << /F1 5 0 R >> " + page_extra + b">> /Contents 4 0 R >>",
        stream(b"", content),
        FONT,
        *(more or []),
    ], trailer=trailer)


def many_pages(leaves: int, per_node: int = 100) -> bytes:
    """A page tree of ``leaves`` pages under intermediate nodes of ``per_node`` kids each."""
    nodes = (leaves + per_node - 1) // per_node
    first_node, first_leaf = 3, 3 + nodes
    objects = [CATALOG, b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (first_node + i) for i in range(nodes))
               + b"] /Count %d >>" % leaves]
    for i in range(nodes):
        kids = range(first_leaf + i * per_node, first_leaf + min(leaves, (i + 1) * per_node))
        objects.append(b"<< /Type /Pages /Parent 2 0 R /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                       + b"] /Count %d >>" % len(kids))
    for j in range(leaves):
        objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (first_node + j // per_node))
    return pdf(objects)


def count_lie(count: int) -> bytes:
    """One page under a root that claims ``count`` pages."""
    return pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"])


def kids_loop() -> bytes:
    """Pages 2 -> node 3 -> back to 2 (a /Kids entry pointing at its own parent), no page at all."""
    return pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"])


def deep_tree(depth: int) -> bytes:
    """``depth`` nested page-tree nodes of one kid each above a single page."""
    objects = [CATALOG]
    for level in range(depth):
        number = 2 + level
        parent = b"/Parent %d 0 R " % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages " + parent + b"/Kids [%d 0 R] /Count 1 >>" % (number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1))
    return pdf(objects)


def zero_pages() -> bytes:
    return pdf([CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"])


def flate_bomb(inflated: int, fill: bytes = b" ") -> bytes:
    """A zlib stream of ``inflated`` bytes of ``fill`` (built from one 1 MiB block)."""
    block = fill * ((1 << 20) // len(fill))
    return _deflate_repeated([(block, inflated // len(block))])


def content_bomb(inflated: int = 1536 << 20) -> bytes:
    """A page whose content stream inflates to ``inflated`` bytes of spaces."""
    return pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                stream(b"/Filter /FlateDecode", flate_bomb(inflated))])


def hex_wrapped_bomb(inflated: int = 1536 << 20) -> bytes:
    """The content bomb, hex-encoded under ``/Filter [/AHx /Fl]`` (no zlib header in the file)."""
    data = flate_bomb(inflated).hex().encode() + b">"
    return pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                stream(b"/Filter [/AHx /Fl#61teDecode]", data)])


def object_stream_bomb(inflated: int = 1536 << 20) -> bytes:
    """Catalog, pages and page inside an object stream padded to ``inflated`` bytes, found
    through a cross-reference stream: PDFium inflates it as the file opens."""
    bodies = [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    table, offset = [], 0
    for number, body in enumerate(bodies, 1):
        table.append(b"%d %d" % (number, offset))
        offset += len(body) + 1
    header = b" ".join(table) + b" "
    objects = header + b"\n".join(bodies) + b"\n"
    data = _deflate_repeated([(objects, 1), (b" " * (1 << 20), inflated >> 20)])
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    objstm_at = len(out)
    out += b"4 0 obj\n" + stream(b"/Type /ObjStm /N 3 /First %d /Filter /FlateDecode" % len(header), data)
    out += b"\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00" + struct.pack(">I", 0) + b"\xff\xff"]
    rows += [b"\x02" + struct.pack(">I", 4) + struct.pack(">H", i) for i in range(3)]
    rows += [b"\x01" + struct.pack(">I", objstm_at) + b"\x00\x00", b"\x01" + struct.pack(">I", xref_at) + b"\x00\x00"]
    out += b"5 0 obj\n" + stream(b"/Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R", b"".join(rows)) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def big_image_page(width: int, height: int) -> bytes:
    """A page drawing a flate image that declares ``width x height`` gray pixels (a few rows given)."""
    image = stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height), zlib.compress(bytes(4096)))
    return one_page(content=b"q 612 0 0 792 0 0 cm /Im1 Do Q", page_extra=b"/XObject << /Im1 6 0 R >> ",
                    more=[image])


def jpeg_header_lie(width: int, height: int) -> bytes:
    """A page drawing a tiny DCT image whose JPEG frame header claims ``width x height``."""
    import cv2
    import numpy as np

    jpeg = bytearray(cv2.imencode(".jpg", np.full((16, 16), 128, np.uint8))[1].tobytes())
    at = jpeg.index(b"\xff\xc0")
    jpeg[at + 5:at + 9] = struct.pack(">HH", height, width)
    image = stream(b"/Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 8 /Filter /DCTDecode", bytes(jpeg))
    return one_page(content=b"q 612 0 0 792 0 0 cm /Im1 Do Q", page_extra=b"/XObject << /Im1 6 0 R >> ",
                    more=[image])


def many_objects(count: int) -> bytes:
    """A page of ``count`` filled rectangles."""
    return one_page(content=b"0 0 1 1 re f\n" * count)


def form_fan_out(depth: int = 6, fan: int = 10) -> bytes:
    """Form XObjects each drawing the next one ``fan`` times, ``depth`` deep: ``fan ** depth`` draws."""
    forms = []
    first = 6
    for level in range(depth):
        number = first + level
        if level + 1 < depth:
            body = b"/F%d Do " % (number + 1) * fan
            resources = b"/Resources << /XObject << /F%d %d 0 R >> >>" % (number + 1, number + 1)
        else:
            body, resources = b"0 0 1 1 re f", b""
        forms.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources, body))
    return one_page(content=b"/F%d Do" % first, page_extra=b"/XObject << /F%d %d 0 R >> " % (first, first),
                    more=forms)


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted(user_password: bytes) -> bytes:
    """A one-page PDF under the standard security handler (RC4 40-bit, revision 2), opened with
    ``user_password`` (empty: anyone may open it; the owner password is set)."""
    doc_id = hashlib.md5(b"hostile").digest()
    owner_key = hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5]
    o_value = _rc4(owner_key, (user_password + _PAD)[:32])
    permissions = -4
    key = hashlib.md5((user_password + _PAD)[:32] + o_value + struct.pack("<i", permissions) + doc_id).digest()[:5]
    u_value = _rc4(key, _PAD)
    encrypt = (b"<< /Filter /Standard /V 1 /R 2 /O <" + o_value.hex().encode() + b"> /U <"
               + u_value.hex().encode() + b"> /P %d >>" % permissions)
    trailer = b"/Encrypt 6 0 R /ID [<" + doc_id.hex().encode() + b"> <" + doc_id.hex().encode() + b">] "
    # the content is encrypted with the object key (object 4, generation 0)
    object_key = hashlib.md5(key + struct.pack("<I", 4)[:3] + b"\x00\x00").digest()[:10]
    return one_page(content=_rc4(object_key, TEXT), more=[encrypt], trailer=trailer)


# ---------------------------------------------------------------- TIFF
def _ifd(entries: list[tuple[int, int, int, int]], next_ifd: int) -> bytes:
    out = struct.pack("<H", len(entries))
    for tag, typ, count, value in sorted(entries):
        out += struct.pack("<HHIHH", tag, typ, count, value, 0) if typ == 3 else struct.pack("<HHII", tag, typ, count, value)
    return out + struct.pack("<I", next_ifd)


def tiff_pages(sizes: list[tuple[int, int]], *, loop_to: int | None = None, truncate_last: bool = False) -> bytes:
    """A little-endian TIFF of 8-bit gray pages of ``sizes``, all sharing one 16x16 strip.

    ``loop_to``: the last page's next-directory offset points at that page (0-based) instead
    of ending the chain. ``truncate_last``: the file ends inside the last page's directory.
    """
    strip = bytes(range(256))  # 16x16 gray
    strip_at = 8
    ifd_size = 2 + 12 * 8 + 4
    first_ifd = strip_at + len(strip)
    offsets = [first_ifd + i * ifd_size for i in range(len(sizes))]
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + strip)
    for i, (w, h) in enumerate(sizes):
        nxt = offsets[i + 1] if i + 1 < len(sizes) else (offsets[loop_to] if loop_to is not None else 0)
        out += _ifd([(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
                     (273, 4, 1, strip_at), (278, 4, 1, h), (279, 4, 1, len(strip))], nxt)
    if truncate_last:
        out = out[:offsets[-1] + 20]
    return bytes(out)


# ---------------------------------------------------------------- the corpus
def build_documents() -> list[DocCase]:
    """Every hostile document case."""
    good = one_page()
    cases = [
        DocCase("pdf_encrypted_user_password.pdf", "encrypted", encrypted(b"secret"), "encrypted_document"),
        DocCase("pdf_encrypted_owner_only.pdf", "encrypted", encrypted(b""), "encrypted_document"),
        DocCase("pdf_truncated_in_catalog.pdf", "truncated", good[:60], "undecodable_document"),
        DocCase("pdf_truncated_header_only.pdf", "truncated", b"%PDF-1.7\n", "undecodable_document"),
        DocCase("pdf_garbage_after_header.pdf", "garbage", b"%PDF-1.7\n" + bytes(range(256)) * 256,
                "undecodable_document"),
        DocCase("pdf_html_after_header.pdf", "garbage", b"%PDF-1.4\n<html><body>not a pdf</body></html>\n",
                "undecodable_document"),
        DocCase("pdf_no_pages.pdf", "page tree", zero_pages(), "undecodable_document"),
        DocCase("pdf_5000_pages.pdf", "page count", many_pages(5000), "too_many_pages"),
        DocCase("pdf_20_pages_http_limit.pdf", "page count", many_pages(20), "too_many_pages", {"max_pages": 10}),
        DocCase("pdf_count_claims_1000000.pdf", "page count", count_lie(1_000_000), "too_many_pages"),
        DocCase("pdf_page_200x200_in.pdf", "page size", one_page(b"[0 0 14400 14400]"), "page_too_large"),
        DocCase("pdf_page_1x300_in.pdf", "page size", one_page(b"[0 0 72 21600]"), "page_too_large"),
        DocCase("pdf_kids_loop.pdf", "page tree", kids_loop(), "undecodable_document"),
        DocCase("pdf_tree_3000_deep.pdf", "page tree", deep_tree(3000), "undecodable_document"),
        DocCase("pdf_content_bomb_1536MiB.pdf", "stream bomb", content_bomb(), "document_too_large"),
        DocCase("pdf_hex_wrapped_bomb.pdf", "stream bomb", hex_wrapped_bomb(), "document_too_large"),
        DocCase("pdf_object_stream_bomb.pdf", "stream bomb", object_stream_bomb(), "document_too_large"),
        DocCase("pdf_image_60000x60000.pdf", "image size", big_image_page(60_000, 60_000), "page_too_large"),
        DocCase("pdf_jpeg_claims_60000x60000.pdf", "image size", jpeg_header_lie(60_000, 60_000),
                "document_too_large"),
        DocCase("pdf_20000_objects.pdf", "page objects", many_objects(20_000), "page_too_large",
                {"max_page_objects": 10_000}),
        DocCase("pdf_forms_fan_out_10e4.pdf", "page objects", form_fan_out(5, 10), "page_too_large",
                {"max_page_objects": 5_000}),
        # 10^8 drawings: PDFium builds every one as the page loads, and its process runs out of
        # its own memory (the caller is untouched and gets the same kind of answer)
        DocCase("pdf_forms_fan_out_10e8.pdf", "page objects", form_fan_out(9, 10), "document_too_large",
                {"render_memory_bytes": 128 << 20}),
        DocCase("tiff_second_page_100000x100000.tif", "page size", tiff_pages([(16, 16), (100_000, 100_000)]),
                "page_too_large"),
        DocCase("tiff_ifd_loop.tif", "page chain", tiff_pages([(16, 16), (16, 16)], loop_to=0),
                "undecodable_document"),
        DocCase("tiff_ifd_self_loop.tif", "page chain", tiff_pages([(16, 16)], loop_to=0), "undecodable_document"),
        DocCase("tiff_3000_pages.tif", "page count", tiff_pages([(16, 16)] * 3000), "too_many_pages"),
        DocCase("tiff_truncated_last_page.tif", "truncated", tiff_pages([(16, 16)] * 3, truncate_last=True),
                "undecodable_document"),
    ]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    return cases


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "hostile_documents")
    out.mkdir(parents=True, exist_ok=True)
    cases = build_documents()
    for case in cases:
        (out / case.name).write_bytes(case.data)
    print(f"wrote {len(cases)} files to {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main(sys.argv))
