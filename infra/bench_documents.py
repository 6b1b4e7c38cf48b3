"""Benchmark of documents through the bucket: one short PDF read in one go, one long one fanned out.

``python -m infra.bench_documents`` starts the local stack in this process (moto server, the
queue worker invoking the object handler, one OCR thread: one core) and

1. uploads a ``--pages`` page A4 PDF (default 10, at most ``OCR_PAGES_PER_TASK`` pages: read
   in one invocation) and reports the processing time (upload to result record), ms per
   page and the process's peak RSS;
2. uploads a ``--long-pages`` page PDF (default 300; 0 skips it), read in ranges of
   ``OCR_PAGES_PER_TASK`` pages fanned out through the queue (one worker here: the ranges
   run one after another), and reports its wall time and the range tasks it took;
3. prints the Lambda cost per 1,000 pages from the measured ms per page (x86 price per
   GB-second, the template's memory size, one request per range of pages) beside Textract's
   DetectDocumentText.

The pages are rendered text (Chinese and English lines, a CJK font is needed: Debian
fonts-noto-cjk or fonts-wqy-microhei), embedded as JPEG images: a scanned document. It
prints the figures and one ``BENCH {json}`` line. Run by hand; it is no test.

:func:`text_pages` and :func:`pdf_from_pages` also make the PDFs of the tests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import cv2
import numpy as np

# Lambda prices (us-east-1, x86): per GB-second of duration, per request.
LAMBDA_GB_SECOND_USD = 0.0000166667
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
TEXTRACT_DETECT_PER_1000_PAGES_USD = 1.50
A4_POINTS = (595.28, 841.89)

PARAGRAPH = (
    "服务器无关的中文识别服务",
    "Serverless OCR for scanned documents",
    "发票号码 2024-0815 金额 128.50 元",
    "The quick brown fox jumps over the lazy dog",
    "今天天气很好，我们去公园散步",
    "Invoice total: 4,096.00 CNY, due 30 days",
    "北京市海淀区中关村大街一号",
    "Page images are read line by line",
)


# ---------------------------------------------------------------- documents
def text_pages(count: int, *, dpi: int = 150, lines_per_page: int = 24, size_pt: float = 12.0) -> Iterator[np.ndarray]:
    """``count`` A4 pages of text (gray, ``dpi`` pixels per inch), one at a time; page ``n``
    starts ``第 n 页 Page n``."""
    from PIL import Image, ImageDraw, ImageFont

    from infra.sample_image import find_cjk_font

    found = find_cjk_font()
    if found is None:
        raise RuntimeError("no CJK font found; install fonts-noto-cjk or fonts-wqy-microhei")
    px = round(size_pt * dpi / 72)
    font = ImageFont.truetype(found[0], size=px, index=found[1])
    heading = ImageFont.truetype(found[0], size=round(px * 1.5), index=found[1])
    width, height = round(A4_POINTS[0] / 72 * dpi), round(A4_POINTS[1] / 72 * dpi)
    margin = round(dpi * 0.8)
    for n in range(1, count + 1):
        img = Image.new("L", (width, height), 250)
        draw = ImageDraw.Draw(img)
        draw.text((margin, margin), f"第 {n} 页 Page {n}", fill=20, font=heading)
        y = margin + round(px * 3)
        for i in range(lines_per_page):
            if y > height - margin - px:
                break
            draw.text((margin, y), PARAGRAPH[(n + i) % len(PARAGRAPH)], fill=20, font=font)
            y += round(px * 1.9)
        yield np.asarray(img).copy()


def pdf_from_pages(pages: Iterable[np.ndarray], *, page_size: tuple[float, float] = A4_POINTS,
                   quality: int = 80) -> bytes:
    """A PDF with one page per image (gray or BGR), each drawn over the whole page as a JPEG
    (the images are encoded one at a time: an iterator of pages is never held whole).

    What a scanner writes: no text layer, one image per page. Written directly (the format is
    plain text around the JPEG streams), so no PDF library is needed to make one.
    """
    objects: dict[int, bytes] = {}
    kids = []
    for i, page in enumerate(pages):
        ok, jpeg = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError(f"page {i + 1}: cannot encode")
        height, width = page.shape[:2]
        colour = "/DeviceGray" if page.ndim == 2 else "/DeviceRGB"
        page_no, content_no, image_no = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        kids.append(f"{page_no} 0 R")
        w, h = page_size
        objects[page_no] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2f} {h:.2f}] "
            f"/Resources << /XObject << /Im0 {image_no} 0 R >> >> /Contents {content_no} 0 R >>"
        ).encode()
        objects[content_no] = _stream(zlib.compress(f"q {w:.2f} 0 0 {h:.2f} 0 0 cm /Im0 Do Q".encode()),
                                      "/Filter /FlateDecode")
        objects[image_no] = _stream(
            jpeg.tobytes(),
            f"/Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {colour} "
            "/BitsPerComponent 8 /Filter /DCTDecode",
        )
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number in range(1, len(objects) + 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _stream(data: bytes, entries: str) -> bytes:
    return f"<< {entries} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


# ---------------------------------------------------------------- cost
def lambda_cost_per_1000_pages(ms_per_page: float, memory_mb: int, pages_per_request: int) -> dict[str, float]:
    """Lambda's price of 1,000 pages at ``ms_per_page`` (duration at ``memory_mb``, one request per range).

    >>> round(lambda_cost_per_1000_pages(500, 2048, 20)["total_usd"], 4)
    0.0167
    """
    duration = 1000 * ms_per_page / 1000 * memory_mb / 1024 * LAMBDA_GB_SECOND_USD
    requests = 1000 / pages_per_request * LAMBDA_REQUEST_USD
    return {"duration_usd": duration, "requests_usd": requests, "total_usd": duration + requests}


def template_memory_mb() -> int:
    from infra.template import load_template

    return int(load_template()["Parameters"]["FunctionMemorySize"]["Default"])


# ---------------------------------------------------------------- the run
def _children_peak_mb() -> float:
    """Peak RSS of the largest finished child process (the engine renders PDF pages in one), MiB."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def _wait_record(s3: Any, bucket: str, keys: list[str], timeout: float) -> tuple[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in keys:
            try:
                return key, json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except s3.exceptions.NoSuchKey:
                continue
        time.sleep(0.05)
    raise TimeoutError(f"no record at {keys} after {timeout:.0f} s")


def _upload_and_wait(stack: Any, key: str, body: bytes, timeout: float) -> tuple[float, dict[str, Any]]:
    prefix = os.environ.get("OCR_RESULTS_PREFIX", "results/")
    bucket = stack.spec.bucket_name
    t0 = time.perf_counter()
    stack.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/pdf")
    found, record = _wait_record(stack.s3, bucket, [f"{prefix}{key}.json", f"{prefix}{key}.error.json"], timeout)
    seconds = time.perf_counter() - t0
    if found.endswith(".error.json"):
        raise RuntimeError(f"{key}: {record.get('error')}")
    return seconds, record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10, help="pages of the document read in one go")
    parser.add_argument("--long-pages", type=int, default=300, help="pages of the fanned-out document (0: skip)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution the pages are scanned at")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for each record")
    args = parser.parse_args(argv)

    os.environ.setdefault("OCR_THREADS", "1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.local_stack import LocalStack
    from infra.procmem import peak_rss_mb

    stack = LocalStack("127.0.0.1", 0, 0, visibility_timeout=60).start()
    figures: dict[str, Any] = {"ocr_threads": os.environ["OCR_THREADS"], "dpi": args.dpi}
    try:
        from ocr_service.settings import get_settings

        per_task = get_settings().pages_per_task
        if args.pages > per_task:
            parser.error(f"--pages must be at most OCR_PAGES_PER_TASK ({per_task}) to be read in one invocation")
        short = pdf_from_pages(text_pages(args.pages, dpi=args.dpi))
        _upload_and_wait(stack, "uploads/bench/warm-up.pdf", pdf_from_pages(text_pages(1, dpi=args.dpi)), args.timeout)
        seconds, record = _upload_and_wait(stack, "uploads/bench/短文档.pdf", short, args.timeout)
        assert len(record["pages"]) == args.pages, record.get("page_count")
        figures.update(
            pages=args.pages,
            pdf_mb=round(len(short) / 1e6, 2),
            seconds=round(seconds, 2),
            engine_ms=record.get("timings_ms"),
            ms_per_page=round(seconds * 1000 / args.pages, 1),
            render_dpi=(record.get("dpi") or [None])[0],
            lines_per_page=round(sum(len(p["lines"]) for p in record["pages"]) / args.pages, 1),
            peak_rss_mb=round(peak_rss_mb(), 1),
            renderer_peak_rss_mb=_children_peak_mb(),
        )
        print(f"{args.pages}-page PDF ({figures['pdf_mb']} MB): {seconds:.2f} s, {figures['ms_per_page']} ms/page, "
              f"peak RSS {figures['peak_rss_mb']} MiB (PDF renderer process: {figures['renderer_peak_rss_mb']} MiB)")
        if args.long_pages:
            long_pdf = pdf_from_pages(text_pages(args.long_pages, dpi=args.dpi))
            invocations = stack.worker.invocations
            seconds_long, record_long = _upload_and_wait(stack, "uploads/bench/长文档.pdf", long_pdf, args.timeout)
            pages = record_long["pages"]
            # each page's heading ("第 n 页 Page n") read with its own number: the pages are in order
            in_order = sum(bool(re.search(rf"(?<!\d){n}(?!\d)", (p.get("text") or "").split("\n")[0]))
                           for n, p in enumerate(pages, 1))
            figures.update(
                long_pages=args.long_pages,
                long_pdf_mb=round(len(long_pdf) / 1e6, 1),
                long_record_mb=round(len(json.dumps(record_long, ensure_ascii=False).encode()) / 1e6, 1),
                long_engine_ms_per_page=round(record_long["timings_ms"].get("total", 0.0) / args.long_pages, 1),
                long_seconds=round(seconds_long, 1),
                long_ms_per_page=round(seconds_long * 1000 / args.long_pages, 1),
                long_invocations=stack.worker.invocations - invocations,
                long_pages_in_record=len(pages),
                long_headings_with_their_page_number=in_order,
                peak_rss_mb=round(peak_rss_mb(), 1),
                renderer_peak_rss_mb=_children_peak_mb(),
            )
            print(f"{args.long_pages}-page PDF ({figures['long_pdf_mb']} MB), fanned out in ranges of {per_task}: "
                  f"{seconds_long:.1f} s wall, {figures['long_ms_per_page']} ms/page "
                  f"(engine {figures['long_engine_ms_per_page']} ms/page), {figures['long_invocations']} worker "
                  f"invocations, record {figures['long_record_mb']} MB; peak RSS {figures['peak_rss_mb']} MiB")
        memory = template_memory_mb()
        ms_per_page = figures.get("long_ms_per_page") or figures["ms_per_page"]
        cost = lambda_cost_per_1000_pages(ms_per_page, memory, per_task)
        figures["cost_per_1000_pages"] = {
            "lambda_usd": round(cost["total_usd"], 4),
            "lambda_duration_usd": round(cost["duration_usd"], 4),
            "lambda_requests_usd": round(cost["requests_usd"], 5),
            "memory_mb": memory,
            "ms_per_page": ms_per_page,
            "textract_detect_usd": TEXTRACT_DETECT_PER_1000_PAGES_USD,
        }
        print(f"Lambda ({memory} MB, x86, {ms_per_page} ms/page, {per_task} pages/request): "
              f"${cost['total_usd']:.4f} per 1,000 pages vs Textract DetectDocumentText "
              f"${TEXTRACT_DETECT_PER_1000_PAGES_USD:.2f}")
    finally:
        stack.stop()
    print("BENCH " + json.dumps(figures, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
