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


def test_upload_a_pdf_page_through_it_and_download_it_as_pdf(page, stack, reference_engine):
    """A 2-page PDF: each page drawn from its preview with its own boxes; the PDF download."""
    from PIL import Image

    from ocr_engine.document import DocumentLimits
    from support.documents import pdf_of
    from support.render import render_page, require_font

    font = require_font("gbsn")
    texts = (["欢迎使用中文识别服务", "Serverless OCR demo"], ["今天天气很好", "Total 128.50 元"])
    pdf = pdf_of([Image.fromarray(render_page(t, font, size=34, width=700).image) for t in texts], dpi=150)
    expected = reference_engine.run_document(pdf, limits=DocumentLimits(max_pages=10)).to_dict()
    _open(page, stack)
    page.set_input_files("#file-input", files=[{"name": "两页.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    page.click("#submit-button")
    _wait_done(page)
    card = page.query_selector("section.result")
    assert card.query_selector("h2").inner_text() == "两页.pdf"
    for number in (1, 2):
        want = expected["pages"][number - 1]
        if number == 2:
            page.get_by_role("button", name="Next").click()
        page.wait_for_selector(f"section.result[data-page='{number}'] canvas[data-drawn-boxes='{len(want['lines'])}']",
                               timeout=20_000)
        assert card.query_selector(".page-label").inner_text() == f"Page {number} of 2"
        if want["lines"]:
            assert _shown_lines(card) == [line["text"] for line in want["lines"]]
        else:
            assert "No text found." in card.inner_text()
        # each page's boxes lie on its picture, which has the page's shape
        m = page.evaluate("""() => {
            const c = document.querySelector('section.result canvas').getBoundingClientRect();
            return {c: [c.left, c.top, c.right, c.bottom], boxes: Array.from(document.querySelectorAll(
                'section.result svg polygon.box')).map(p => { const b = p.getBoundingClientRect();
                return [b.left, b.top, b.right, b.bottom]; })};
        }""")
        left, top, right, bottom = m["c"]
        assert ((right - left) / (bottom - top)) / (want["width"] / want["height"]) == pytest.approx(1, abs=0.01)
        for x0, y0, x1, y1 in m["boxes"]:
            assert left - 1 <= x0 < x1 <= right + 1 and top - 1 <= y0 < y1 <= bottom + 1, m
    assert any(p["lines"] for p in expected["pages"]), "the model read nothing on either page"
    with page.expect_download(timeout=60_000) as info:
        card.query_selector("button.download-button[data-format='pdf']").click()
    saved = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename == "两页.pdf" and saved.startswith(b"%PDF-")
    assert page.errors == []
