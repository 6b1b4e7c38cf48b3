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
from urllib.parse import urlsplit

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
