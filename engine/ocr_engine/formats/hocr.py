"""The ``hocr`` format: hOCR 1.2 in XHTML, UTF-8.

One ``ocr_page`` div per page (``bbox`` of the whole page, ``ppageno`` counted from 0 as the
page's place in the source, ``scan_res`` when the render resolution is known); in it, one
``ocr_carea`` div holding one ``ocr_par`` paragraph per block of the page
(:meth:`~ocr_engine.schema.OcrResult.reading_blocks`, in reading order; one for all lines
when the result has no blocks), both with the block's ``bbox``; in those, one ``ocr_line``
span per line (``bbox``, ``x_wconf``) and one ``ocrx_word`` span per word
(:func:`~ocr_engine.formats.words.words_of`: each Chinese character is a word). Boxes are
whole pixels, axis-aligned, clamped to the page (a block's box grown to hold its lines);
confidences are percentages. Lines without words, and blocks without such lines, are left out.

Example:
    >>> from ocr_engine.schema import Line, OcrResult
    >>> page = OcrResult(width=100, height=40, lines=[Line("你好", 0.97, [[2, 3], [90, 3], [90, 30], [2, 30]])])
    >>> print(render_hocr(page).decode().split("<body>")[1].strip())  # doctest: +NORMALIZE_WHITESPACE
    <div class="ocr_page" id="page_1" title="bbox 0 0 100 40; ppageno 0">
     <div class="ocr_carea" id="block_1_1" title="bbox 2 3 90 30">
      <p class="ocr_par" id="par_1_1" title="bbox 2 3 90 30">
       <span class="ocr_line" id="line_1_1" title="bbox 2 3 90 30; x_wconf 97"><span class="ocrx_word"
        id="word_1_1_1" title="bbox 2 3 46 30; x_wconf 97">你</span><span class="ocrx_word"
        id="word_1_1_2" title="bbox 46 3 90 30; x_wconf 97">好</span></span>
      </p>
     </div>
    </div>
    </body>
    </html>
"""

from __future__ import annotations

from html import escape

from ocr_engine.formats.words import bbox, block_boxes, pages_of, words_of
from ocr_engine.schema import DocumentResult, Line, OcrResult

CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"


def _percent(confidence: float) -> int:
    return max(0, min(100, round(confidence * 100)))


def _line_span(line: Line, page_number: int, li: int, w: int, h: int) -> str:
    """The ``ocr_line`` span of a line (``li``: its 1-based number on the page) and its words."""
    x0, y0, x1, y1 = bbox(line.box, w, h)
    spans = []
    for wi, word in enumerate(words_of(line), start=1):
        a0, b0, a1, b1 = bbox(word.box, w, h, outward=False)
        spans.append(f'<span class="ocrx_word" id="word_{page_number}_{li}_{wi}" '
                     f'title="bbox {a0} {b0} {a1} {b1}; x_wconf {_percent(word.confidence)}">'
                     f"{escape(word.text)}</span>" + (" " if word.space_after else ""))
    return (f'<span class="ocr_line" id="line_{page_number}_{li}" '
            f'title="bbox {x0} {y0} {x1} {y1}; x_wconf {_percent(line.confidence)}">'
            + "".join(spans).rstrip(" ") + "</span>")


def render_hocr(result: OcrResult | DocumentResult) -> bytes:
    """The result as an hOCR document (XHTML 1.0 Transitional), UTF-8."""
    from ocr_engine import __version__

    pages = pages_of(result)
    model = result.model
    system = f"ocr-engine {__version__} ({model.name} {model.version})"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml">',
        "<head>",
        "<title>OCR</title>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>',
        f'<meta name="ocr-system" content="{escape(system)}"/>',
        f'<meta name="ocr-capabilities" content="{CAPABILITIES}"/>',
        f'<meta name="ocr-number-of-pages" content="{len(pages)}"/>',
        "</head>",
        "<body>",
    ]
    for page in pages:
        w, h = page.result.width, page.result.height
        title = f"bbox 0 0 {w} {h}; ppageno {page.number - 1}"
        if page.dpi:
            title += f"; scan_res {round(page.dpi)} {round(page.dpi)}"
        out.append(f'<div class="ocr_page" id="page_{page.number}" title="{title}">')
        lines = page.result.lines
        for bi, (block, block_box) in enumerate(block_boxes(page.result), start=1):
            x0, y0, x1, y1 = block_box
            out.append(f' <div class="ocr_carea" id="block_{page.number}_{bi}" title="bbox {x0} {y0} {x1} {y1}">')
            out.append(f'  <p class="ocr_par" id="par_{page.number}_{bi}" title="bbox {x0} {y0} {x1} {y1}">')
            for i in block.lines:
                out.append("   " + _line_span(lines[i], page.number, i + 1, w, h))
            out += ["  </p>", " </div>"]
        out.append("</div>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out).encode("utf-8")
