"""The upload page in headless Chromium against the handler with the fake engine.

The fake engine always returns two known lines (one with HTML in its text), so this test
checks what the page shows whatever the model's quality: the lines, their confidences, the
boxes drawn on the image, and that recognised text is never interpreted as HTML. The layout
tests answer ``POST /ocr`` in the browser (Playwright routing) with results made to measure
for images of other shapes: the image keeps its aspect ratio at every viewport width and the
boxes stay on it; low-confidence lines are marked; "Copy text" copies the text.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from support.lambda_events import png_bytes

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture
def browser_page(engine):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium (apt-get install chromium)")
    from infra.gateway import LocalGateway
    from ocr_service.handlers import http_api

    gateway = LocalGateway(http_api.handler, [("GET", "/"), ("POST", "/ocr"), ("POST", "/ocr/batch")]).start()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_api.sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                permissions=["clipboard-read", "clipboard-write"],
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(gateway.url)
            yield page, errors
            context.close()
    finally:
        gateway.stop()
        shutil.rmtree(profile, ignore_errors=True)


def test_lines_confidences_and_boxes_are_shown_as_text(browser_page):
    page, errors = browser_page
    page.set_input_files("#file-input", files=[{"name": "page.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    card = page.query_selector("section.result")
    assert [td.inner_text() for td in card.query_selector_all("tr.line td.text")] == ["Hello <b>world</b>", "你好 世界"]
    assert [td.inner_text() for td in card.query_selector_all("tr.line td.conf")] == ["98.0%", "91.0%"]
    assert card.query_selector("td b") is None  # the recognised "<b>" stayed text
    assert card.query_selector("pre.full-text").inner_text() == "Hello <b>world</b>\n你好 世界"
    canvas = page.wait_for_selector("section.result canvas[data-drawn-boxes='2']")
    assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("200", "80")
    # The boxes are drawn over the image (shown at its natural size here): the first one's top
    # edge runs along y=3 from x=2 to x=150, in the box colour.
    first = page.evaluate(
        """() => {
            const c = document.querySelector('section.result canvas').getBoundingClientRect();
            const box = document.querySelector('section.result svg polygon.box');
            const b = box.getBoundingClientRect();
            return {box: [b.left - c.left, b.top - c.top, b.right - c.left, b.bottom - c.top],
                    stroke: getComputedStyle(box).stroke};
        }"""
    )
    assert first["box"] == pytest.approx([2, 3, 150, 30], abs=1), first
    assert first["stroke"] == "rgb(225, 29, 72)", first
    background = page.evaluate(
        "() => Array.from(document.querySelector('section.result canvas').getContext('2d').getImageData(75, 20, 1, 1).data)"
    )
    assert background[:3] == [255, 255, 255]
    assert errors == []


def test_the_chosen_text_direction_is_sent(browser_page, engine):
    page, errors = browser_page
    page.select_option("#direction", "vertical")
    page.set_input_files("#file-input", files=[{"name": "scroll.png", "mimeType": "image/png", "buffer": png_bytes(80, 200)}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    assert engine.directions == ["vertical"]
    assert errors == []


def test_the_chosen_detector_is_sent_and_the_one_used_is_shown(browser_page, engine, monkeypatch):
    from support.documents import fake_run_document

    page, errors = browser_page
    doc_calls: list[dict] = []
    monkeypatch.setattr(engine, "run_document", fake_run_document(doc_calls), raising=False)
    # the choices, the service's own setting first (and chosen): no detector= is sent then
    assert page.eval_on_selector_all("#detector option", "els => els.map(o => [o.value, o.selected])") == [
        ["", True], ["auto", False], ["learned", False], ["opencv", False]]

    def recognise(files: list[dict]) -> list[str]:
        """Submit ``files``; the detector= of each request the page sent."""
        sent: list[str] = []

        def record(request) -> None:
            if request.method == "POST":
                sent.append(parse_qs(urlsplit(request.url).query).get("detector", [""])[0])

        page.on("request", record)
        page.set_input_files("#file-input", files=files)
        # the status may still say "Done" from the last run: wait for this run's answer first
        with page.expect_response(lambda r: r.request.method == "POST", timeout=30_000):
            page.click("#submit-button")
        page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
        page.remove_listener("request", record)
        return sent

    one = [{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)}]
    page.select_option("#detector", "learned")
    assert recognise(one) == ["learned"]
    assert engine.detectors_asked == ["learned"]
    info = page.query_selector("section.result .detector-info")
    assert info.inner_text() == "Lines found by: learned detector" and info.get_attribute("data-detector") == "learned"

    page.select_option("#detector", "opencv")  # two images: one batch request
    two = one + [{"name": "scan.png", "mimeType": "image/png", "buffer": png_bytes(120, 60)}]
    assert recognise(two) == ["opencv"]
    assert engine.detectors_asked[1:] == ["opencv", "opencv"]
    assert [e.inner_text() for e in page.query_selector_all("section.result .detector-info")] == [
        "Lines found by: OpenCV line finder"] * 2

    page.select_option("#detector", "auto")  # a document: every page with it, each page says its finder
    pdf = [{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": _two_page_pdf()}]
    assert recognise(pdf) == ["auto"]
    assert [c["detector"] for c in doc_calls] == ["auto"]
    assert page.inner_text("section.result .page-view .detector-info") == "Lines found by: learned detector"
    with page.expect_request(lambda r: "format=text" in r.url) as download:  # downloads ask for it too
        page.click("section.result button.download-button[data-format='text']")
    assert parse_qs(urlsplit(download.value.url).query)["detector"] == ["auto"]

    page.select_option("#detector", "")  # the service's own setting
    assert recognise(one) == [""]
    assert engine.detectors_asked[-1] is None
    assert page.inner_text("section.result .detector-info") == "Lines found by: OpenCV line finder"
    assert errors == []


# --- layout, low confidence, copy: results made to measure, answered in the browser ----------

SHAPES = {
    # name: (width, height, boxes as [x0, y0, x1, y1] in image pixels)
    "wide-line": (436, 30, [[4, 3, 300, 27], [320, 5, 430, 25]]),
    "square": (500, 500, [[40, 30, 460, 90], [40, 400, 250, 470]]),
    "tall": (240, 900, [[20, 40, 220, 120], [60, 700, 200, 860]]),
}
VIEWPORT_WIDTHS = (360, 800, 1400)


def _image(width: int, height: int, boxes: list[list[int]]) -> bytes:
    """A white PNG with a dark block inside each box (where the text would be)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0 + 2, y0 + 2, x1 - 3, y1 - 3], fill=(40, 40, 40))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _body(width: int, height: int, lines: list[tuple[str, float, list[int]]]) -> dict:
    """A ``POST /ocr`` answer: lines of (text, confidence, [x0, y0, x1, y1])."""
    data = [
        {"text": text, "confidence": conf, "box": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]}
        for text, conf, (x0, y0, x1, y1) in lines
    ]
    return {"success": True, "data": data, "text": "\n".join(t for t, _, _ in lines),
            "meta": {"width": width, "height": height}}


def _recognise(page, name: str, image: bytes, body: dict) -> None:
    """Upload ``image``; the browser answers ``POST /ocr`` with ``body``; wait for the drawing."""
    page.route(
        lambda url: urlsplit(url).path.endswith("/ocr"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body)),
    )
    page.set_input_files("#file-input", files=[{"name": name, "mimeType": "image/png", "buffer": image}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    page.wait_for_selector(f"section.result canvas[data-drawn-boxes='{len(body['data'])}']", timeout=10_000)


MEASURE = """() => {
    const canvas = document.querySelector('section.result canvas');
    const r = canvas.getBoundingClientRect();
    const boxes = Array.from(document.querySelectorAll('section.result svg polygon.box')).map(p => {
        const b = p.getBoundingClientRect();
        return [b.left, b.top, b.right, b.bottom];
    });
    return {canvas: [r.left, r.top, r.width, r.height], bitmap: [canvas.width, canvas.height], boxes,
            viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_image_keeps_its_aspect_ratio_and_the_boxes_stay_on_it(browser_page, shape):
    page, errors = browser_page
    width, height, boxes = SHAPES[shape]
    lines = [(f"line {i}", 0.9, box) for i, box in enumerate(boxes)]
    page.set_viewport_size({"width": VIEWPORT_WIDTHS[0], "height": 800})
    _recognise(page, f"{shape}.png", _image(width, height, boxes), _body(width, height, lines))
    for viewport in VIEWPORT_WIDTHS:
        page.set_viewport_size({"width": viewport, "height": 800})
        m = page.evaluate(MEASURE)
        left, top, shown_w, shown_h = m["canvas"]
        where = f"{shape} at {viewport}px: {m}"
        assert shown_w > 0 and shown_h > 0, where
        assert (shown_w / shown_h) / (width / height) == pytest.approx(1, abs=0.01), where
        assert (m["bitmap"][0] / m["bitmap"][1]) / (width / height) == pytest.approx(1, abs=0.01), where
        # Never wider than the window (no sideways scrolling), never enlarged past its size.
        assert left + shown_w <= m["viewport"] + 0.5 and m["scroll"] <= m["viewport"], where
        scale = shown_w / width
        assert scale <= 1 + 1e-6, where
        # One factor for x and y: each box is its image-pixel box scaled by it.
        assert len(m["boxes"]) == len(boxes), where
        for (x0, y0, x1, y1), drawn in zip(boxes, m["boxes"], strict=True):
            expected = [left + x0 * scale, top + y0 * scale, left + x1 * scale, top + y1 * scale]
            assert drawn == pytest.approx(expected, abs=1.5), where
    # At 360 px the square and the line must shrink to fit; the 436 px line is shown at its
    # natural size in a wide window.
    if width > 360:
        page.set_viewport_size({"width": 360, "height": 800})
        assert page.evaluate(MEASURE)["canvas"][2] < width
    if shape == "wide-line":
        page.set_viewport_size({"width": 1400, "height": 800})
        assert page.evaluate(MEASURE)["canvas"][2] == pytest.approx(width, abs=0.5)
    assert errors == []


def test_low_confidence_lines_are_marked_in_the_list_and_on_the_image(browser_page):
    page, errors = browser_page
    boxes = [[10, 10, 200, 40], [10, 50, 200, 80], [10, 90, 200, 120]]
    lines = [("sure", 0.95, boxes[0]), ("unsure", 0.5, boxes[1]), ("on the line", 0.80, boxes[2])]
    _recognise(page, "mixed.png", _image(240, 130, boxes), _body(240, 130, lines))
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('section.result tr.line')).map(tr => ({
            text: tr.querySelector('td.text').innerText,
            low: tr.classList.contains('low-confidence'),
            badge: tr.querySelector('.badge') ? tr.querySelector('.badge').innerText : null,
            background: getComputedStyle(tr.querySelector('td.text')).backgroundColor,
        }))"""
    )
    assert [r["text"] for r in rows] == ["sure", "unsure", "on the line"]
    assert [r["low"] for r in rows] == [False, True, False]
    assert [r["badge"] for r in rows] == [None, "low", None]
    assert rows[1]["background"] != rows[0]["background"] == rows[2]["background"]
    # The confidence column still shows the numbers only.
    assert [td.inner_text() for td in page.query_selector_all("tr.line td.conf")] == ["95.0%", "50.0%", "80.0%"]
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll('section.result svg polygon.box')).map(p => ({
            low: p.classList.contains('low'), stroke: getComputedStyle(p).stroke,
            dash: getComputedStyle(p).strokeDasharray, title: p.querySelector('title').textContent,
        }))"""
    )
    assert [b["low"] for b in shown] == [False, True, False]
    assert shown[1]["stroke"] != shown[0]["stroke"] == shown[2]["stroke"]
    assert shown[1]["dash"] != shown[0]["dash"]
    assert "low confidence (< 0.80)" in shown[1]["title"] and "low" not in shown[0]["title"]
    legend = page.inner_text("section.result .legend")
    assert "low confidence (< 0.80)" in legend and "1 of 3" in legend
    assert errors == []


def test_copy_text_puts_the_whole_text_on_the_clipboard(browser_page):
    page, errors = browser_page
    page.set_input_files("#file-input", files=[{"name": "page.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    page.evaluate("() => navigator.clipboard.writeText('before')")
    button = page.get_by_role("button", name="Copy text")
    assert button.evaluate("b => b.tagName + ':' + b.type") == "BUTTON:button"
    button.click()
    page.wait_for_selector("section.result .copy-status:text-is('Copied')", timeout=5_000)
    assert page.evaluate("() => navigator.clipboard.readText()") == "Hello <b>world</b>\n你好 世界"
    assert errors == []


def test_copy_text_falls_back_without_the_clipboard_api(browser_page):
    page, errors = browser_page
    lines = [("第一行 first", 0.9, [5, 5, 100, 30]), ("second 第二行", 0.6, [5, 40, 100, 70])]
    # No async clipboard API (as on a page served over plain HTTP from another host).
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});")
    page.reload()
    assert page.evaluate("() => typeof navigator.clipboard") == "undefined"
    _recognise(page, "two.png", _image(120, 80, [line[2] for line in lines]), _body(120, 80, lines))
    page.get_by_role("button", name="Copy text").click()
    page.wait_for_selector("section.result .copy-status:text-is('Copied')", timeout=5_000)
    # Read the clipboard from another tab, which still has the API.
    reader = page.context.new_page()
    reader.goto(page.url)
    assert reader.evaluate("() => navigator.clipboard.readText()") == "第一行 first\nsecond 第二行"
    assert errors == []


# --- documents: a PDF read page by page, downloads in each format -----------------------------

@pytest.fixture
def doc_calls(engine, monkeypatch):
    """The fake engine reads documents too: two known lines per real page (support/documents.py)."""
    from support.documents import fake_run_document

    calls: list[dict] = []
    monkeypatch.setattr(engine, "run_document", fake_run_document(calls), raising=False)
    return calls


def _two_page_pdf() -> bytes:
    from support.documents import page_image, pdf_of

    # Page 1 is landscape with a dark band near its top; page 2 portrait with one lower down.
    return pdf_of([page_image(300, 200, [[20, 20, 200, 60]]), page_image(200, 300, [[30, 200, 170, 260]])])


PAGE_VIEW = """() => {
    const card = document.querySelector('section.result');
    const canvas = card.querySelector('canvas');
    const r = canvas.getBoundingClientRect();
    const boxes = Array.from(card.querySelectorAll('svg polygon.box')).map(p => {
        const b = p.getBoundingClientRect();
        return [b.left, b.top, b.right, b.bottom];
    });
    return {label: card.querySelector('.page-label').textContent, page: card.dataset.page,
            prev: card.querySelector('button.prev-page').disabled, next: card.querySelector('button.next-page').disabled,
            lines: Array.from(card.querySelectorAll('tr.line td.text')).map(td => td.textContent),
            text: card.querySelector('pre.full-text').textContent,
            canvas: [r.left, r.top, r.right, r.bottom], bitmap: [canvas.width, canvas.height], boxes};
}"""


def _check_page(view: dict, number: int, total: int, size: tuple[int, int]) -> None:
    assert view["label"] == f"Page {number} of {total}" and view["page"] == str(number), view
    assert view["lines"] == [f"page {number} <i>top</i>", f"第{number}页"], view
    assert view["text"] == f"page {number} <i>top</i>\n第{number}页"
    left, top, right, bottom = view["canvas"]
    width, height = right - left, bottom - top
    assert (width / height) / (size[0] / size[1]) == pytest.approx(1, abs=0.01), view
    assert (view["bitmap"][0] / view["bitmap"][1]) / (size[0] / size[1]) == pytest.approx(1, abs=0.01), view
    # The fake lines sit at known fractions of the page: each box is there, within the picture.
    expected = [(0.1, 0.1, 0.6, 0.2), (0.2, 0.5, 0.7, 0.8)]
    assert len(view["boxes"]) == 2, view
    for (x0, y0, x1, y1), drawn in zip(expected, view["boxes"], strict=True):
        assert left - 1 <= drawn[0] < drawn[2] <= right + 1 and top - 1 <= drawn[1] < drawn[3] <= bottom + 1, view
        want = [left + x0 * width, top + y0 * height, left + x1 * width, top + y1 * height]
        assert drawn == pytest.approx(want, abs=1.5), view


def _dark_at(page, fx: float, fy: float) -> bool:
    """Whether the drawn page is dark at (fx, fy), fractions of its width and height."""
    rgb = page.evaluate(
        """([fx, fy]) => { const c = document.querySelector('section.result canvas');
            return Array.from(c.getContext('2d').getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data); }""",
        [fx, fy],
    )
    return sum(rgb[:3]) / 3 < 100


def test_a_two_page_pdf_is_read_and_shown_page_by_page(browser_page, engine, doc_calls):
    page, errors = browser_page
    with page.expect_request(lambda r: urlsplit(r.url).path.endswith("/ocr")) as sent:
        page.set_input_files("#file-input", files=[{"name": "合同.pdf", "mimeType": "application/pdf", "buffer": _two_page_pdf()}])
        page.click("#submit-button")
    assert "previews=1" in urlsplit(sent.value.url).query
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    assert page.inner_text("section.result h2") == "合同.pdf"
    assert page.inner_text("section.result .doc-info") == "PDF, 2 page(s)"
    page.wait_for_selector("section.result canvas[data-drawn-boxes='2']", timeout=10_000)
    first = page.evaluate(PAGE_VIEW)
    _check_page(first, 1, 2, (600, 400))
    assert (first["prev"], first["next"]) == (True, False)
    assert _dark_at(page, 110 / 300, 40 / 200) and not _dark_at(page, 250 / 300, 150 / 200)  # the page's own picture

    page.get_by_role("button", name="Next").click()
    page.wait_for_selector("section.result[data-page='2'] canvas[data-drawn-boxes='2']", timeout=10_000)
    second = page.evaluate(PAGE_VIEW)
    _check_page(second, 2, 2, (400, 600))
    assert (second["prev"], second["next"]) == (False, True)
    assert _dark_at(page, 100 / 200, 230 / 300) and not _dark_at(page, 100 / 200, 40 / 300)

    page.get_by_role("button", name="Previous").click()
    page.wait_for_selector("section.result[data-page='1'] canvas[data-drawn-boxes='2']", timeout=10_000)
    _check_page(page.evaluate(PAGE_VIEW), 1, 2, (600, 400))
    # the low-confidence marking holds on pages too (the fake's second line is at 0.6)
    assert page.evaluate("() => document.querySelectorAll('section.result tr.low-confidence').length") == 1
    assert page.query_selector("section.result td i") is None  # recognised markup stays text
    assert len(doc_calls) == 1 and engine.calls == []
    assert errors == []


def test_the_pages_field_asks_for_a_range(browser_page, engine, doc_calls):
    from support.documents import page_image, pdf_of

    page, errors = browser_page
    page.fill("#pages", "2")
    pdf = pdf_of([page_image(100, 80), page_image(100, 80), page_image(100, 80)])
    page.set_input_files("#file-input", files=[{"name": "three.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    page.wait_for_selector("section.result canvas[data-drawn-boxes='2']", timeout=10_000)
    view = page.evaluate(PAGE_VIEW)
    assert view["label"] == "Page 2 of 3" and (view["prev"], view["next"]) == (True, True), view
    assert page.inner_text("section.result .doc-info") == "PDF, 1 of 3 pages read"
    assert (doc_calls[0]["first_page"], doc_calls[0]["last_page"]) == (2, 2)
    assert errors == []


def test_a_document_over_the_page_limit_shows_the_error(browser_page, engine, doc_calls):
    from support.documents import page_image, pdf_of

    page, errors = browser_page
    pdf = pdf_of([page_image(60, 40) for _ in range(11)])
    page.set_input_files("#file-input", files=[{"name": "long.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Request failed')", timeout=30_000)
    message = page.inner_text("section.result .item-error")
    assert "413" in message and "too_many_pages" in message and "bucket" in message
    assert errors == []


def test_images_go_in_one_batch_and_a_pdf_on_its_own(browser_page, engine, doc_calls):
    page, errors = browser_page
    paths: list[str] = []
    page.on("request", lambda r: paths.append(urlsplit(r.url).path) if r.method == "POST" else None)
    page.set_input_files("#file-input", files=[
        {"name": "a.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)},
        {"name": "doc.pdf", "mimeType": "application/pdf", "buffer": _two_page_pdf()},
        {"name": "b.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)},
    ])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    assert sorted(p.rsplit("/", 1)[-1] for p in paths) == ["batch", "ocr"]
    cards = page.query_selector_all("section.result")
    assert [c.query_selector("h2").inner_text() for c in cards] == ["a.png", "doc.pdf", "b.png"]
    assert cards[1].query_selector(".page-label").inner_text() == "Page 1 of 2"
    assert cards[0].query_selector(".page-label") is None and cards[0].query_selector("td.text").inner_text() == "Hello <b>world</b>"
    assert len(engine.calls) == 2 and len(doc_calls) == 1
    assert errors == []


def _download(page, card_index: int, fmt: str):
    """Click the card's download button for ``fmt``; the saved file's (name, bytes)."""
    button = page.query_selector_all("section.result")[card_index].query_selector(f"button.download-button[data-format='{fmt}']")
    with page.expect_download(timeout=30_000) as info:
        button.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_download_buttons_save_each_format(browser_page, engine, doc_calls):
    import pypdfium2

    page, errors = browser_page
    page.set_input_files("#file-input", files=[{"name": "合同 v2.pdf", "mimeType": "application/pdf", "buffer": _two_page_pdf()}])
    page.click("#submit-button")
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    labels = [b.inner_text() for b in page.query_selector_all("section.result button.download-button")]
    assert labels == ["JSON", "Text", "hOCR", "ALTO", "PDF", "Textract"]
    name, payload = _download(page, 0, "pdf")
    assert name == "合同 v2.pdf" and payload.startswith(b"%PDF-")
    assert len(pypdfium2.PdfDocument(payload)) == 2
    name, payload = _download(page, 0, "text")
    assert name == "合同 v2.txt" and "page 2 <i>top</i>" in payload.decode("utf-8")
    name, payload = _download(page, 0, "json")
    assert name == "合同 v2.json" and [p["page"] for p in json.loads(payload)["pages"]] == [1, 2]
    assert page.inner_text("section.result .download-status") == "Saved 合同 v2.json"
    # an image card has the same buttons
    page.set_input_files("#file-input", files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": png_bytes(200, 80)}])
    page.click("#submit-button")
    page.wait_for_selector("section.result:not(.document)", timeout=30_000)
    page.wait_for_selector("#status:text-matches('^Done')", timeout=30_000)
    name, payload = _download(page, 0, "pdf")
    assert name == "receipt.pdf" and payload.startswith(b"%PDF-") and len(pypdfium2.PdfDocument(payload)) == 1
    name, payload = _download(page, 0, "alto")
    assert name == "receipt.alto.xml" and b"<alto" in payload
    assert errors == []
