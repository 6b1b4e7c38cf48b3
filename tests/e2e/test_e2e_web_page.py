"""The upload page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from support.stack_client import lines_of

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def page(stack):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            tab = context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.errors = errors
            yield tab
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _open(page, stack) -> None:
    page.goto(stack["web_url"])
    page.wait_for_selector("#file-input")


def _wait_done(page) -> None:
    # Selector-based waits: the page's CSP (rightly) forbids evaluating strings as script.
    page.wait_for_selector("#status:text-matches('^Done')", timeout=60_000)


def _shown_lines(card) -> list[str]:
    return [row.inner_text() for row in card.query_selector_all("tr.line td.text")]


def test_upload_one_image_shows_lines_and_boxes(page, stack, reference_engine, sample_bytes):
    expected = reference_engine.run(sample_bytes).to_dict()
    _open(page, stack)
    page.set_input_files("#file-input", files=[{"name": "示例.png", "mimeType": "image/png", "buffer": sample_bytes}])
    page.click("#submit-button")
    _wait_done(page)
    cards = page.query_selector_all("section.result")
    assert len(cards) == 1
    assert cards[0].query_selector("h2").inner_text() == "示例.png"
    assert _shown_lines(cards[0]) == [text for text, _ in lines_of(expected)]
    if expected["lines"]:
        confidences = [td.inner_text() for td in cards[0].query_selector_all("tr.line td.conf")]
        assert confidences == [f"{line['confidence'] * 100:.1f}%" for line in expected["lines"]]
        assert cards[0].query_selector("pre.full-text").inner_text() == expected["text"]
    else:
        assert "No text found." in cards[0].inner_text()
    # The image is drawn with one box per line.
    page.wait_for_selector("section.result canvas[data-drawn-boxes]")
    canvas = cards[0].query_selector("canvas")
    assert canvas.get_attribute("data-drawn-boxes") == str(len(expected["lines"]))
    assert int(canvas.get_attribute("width")) > 0
    assert page.errors == []


def test_several_images_use_the_batch_route_and_escape_names(page, stack, reference_engine, sample_bytes):
    expected = [text for text, _ in lines_of(reference_engine.run(sample_bytes).to_dict())]
    hostile = '<img src=x onerror="document.title=\'pwned\'">.png'
    _open(page, stack)
    page.set_input_files(
        "#file-input",
        files=[
            {"name": "first.png", "mimeType": "image/png", "buffer": sample_bytes},
            {"name": hostile, "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\0" * 40},
            {"name": "third.png", "mimeType": "image/png", "buffer": sample_bytes},
        ],
    )
    with page.expect_response(lambda r: r.url.split("?", 1)[0].endswith("/ocr/batch")) as resp:
        page.click("#submit-button")
    assert resp.value.status == 200
    _wait_done(page)
    cards = page.query_selector_all("section.result")
    assert [c.query_selector("h2").inner_text() for c in cards] == ["first.png", hostile, "third.png"]
    assert _shown_lines(cards[0]) == expected == _shown_lines(cards[2])
    assert "undecodable_image" in cards[1].query_selector(".item-error").inner_text()
    assert page.query_selector("section.result img") is None  # the name stayed text
    assert page.title() != "pwned"
    assert page.errors == []
