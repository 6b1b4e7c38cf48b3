"""The upload page in headless Chromium against the handler with the fake engine.

The fake engine always returns two known lines (one with HTML in its text), so this test
checks what the page shows whatever the model's quality: the lines, their confidences, the
boxes drawn on the image, and that recognised text is never interpreted as HTML.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from fn_support import png_bytes

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
            context = pw.chromium.launch_persistent_context(profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS)
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
    # The first box's top edge runs along y=3 from x=2 to x=150: its pixels are the box colour.
    pixel = page.evaluate(
        "() => Array.from(document.querySelector('section.result canvas').getContext('2d').getImageData(75, 3, 1, 1).data)"
    )
    assert pixel[0] > 150 and pixel[1] < 100 and pixel[2] < 150, pixel
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
