"""The ``alto`` format: ALTO 4.4 XML (namespace :data:`ALTO_NS`), UTF-8, in pixels.

One ``Page`` per page (``PHYSICAL_IMG_NR``: its 1-based number in the source, ``WIDTH`` and
``HEIGHT`` in pixels) holding a ``PrintSpace`` the size of the page and in it one
``TextBlock`` per block of the page, in reading order
(:meth:`~ocr_engine.schema.OcrResult.reading_blocks`: one around all lines when the result
has no blocks; none on a page without text). Each line is a ``TextLine``, each word a
``String`` (``CONTENT``, ``WC`` 0-1; each Chinese character is a word of its own) and the
whitespace between two words an ``SP``. Boxes are the axis-aligned whole-pixel bounds (a
block's grown to hold its lines, see :func:`~ocr_engine.formats.words.block_boxes`).
Lines without words, and blocks without such lines, are left out.

Example:
    >>> from ocr_engine.schema import Line, OcrResult
    >>> page = OcrResult(width=100, height=40, lines=[Line("ab cd", 0.9, [[0, 0], [100, 0], [100, 20], [0, 20]])])
    >>> print(render_alto(page).decode().split("<TextBlock")[1].split("</TextBlock>")[0])
     ID="p1_b1" HPOS="0" VPOS="0" WIDTH="100" HEIGHT="20">
              <TextLine ID="p1_l1" HPOS="0" VPOS="0" WIDTH="100" HEIGHT="20">
                <String ID="p1_l1_w1" CONTENT="ab" HPOS="0" VPOS="0" WIDTH="40" HEIGHT="20" WC="0.9" />
                <SP HPOS="40" VPOS="0" WIDTH="20" />
                <String ID="p1_l1_w2" CONTENT="cd" HPOS="60" VPOS="0" WIDTH="40" HEIGHT="20" WC="0.9" />
              </TextLine>
    <BLANKLINE>
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ocr_engine.formats.words import bbox, block_boxes, pages_of, words_of
from ocr_engine.schema import DocumentResult, OcrResult

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_LOCATION = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"


def _box(x0: int, y0: int, x1: int, y1: int) -> dict[str, str]:
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def render_alto(result: OcrResult | DocumentResult) -> bytes:
    """The result as an ALTO 4.4 document, UTF-8."""
    from ocr_engine import __version__

    root = ET.Element("alto", {
        "xmlns": ALTO_NS,
        "xmlns:xlink": "http://www.w3.org/1999/xlink",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:schemaLocation": f"{ALTO_NS} {SCHEMA_LOCATION}",
        "SCHEMAVERSION": "4.4",
    })
    description = ET.SubElement(root, "Description")
    ET.SubElement(description, "MeasurementUnit").text = "pixel"
    processing = ET.SubElement(description, "Processing", {"ID": "ocr"})
    ET.SubElement(processing, "processingCategory").text = "contentGeneration"
    ET.SubElement(processing, "processingStepSettings").text = f"model {result.model.name} {result.model.version}"
    software = ET.SubElement(processing, "processingSoftware")
    ET.SubElement(software, "softwareName").text = "ocr-engine"
    ET.SubElement(software, "softwareVersion").text = __version__
    layout = ET.SubElement(root, "Layout")
    for page in pages_of(result):
        w, h = page.result.width, page.result.height
        p = f"p{page.number}"
        page_el = ET.SubElement(layout, "Page", {"ID": p, "PHYSICAL_IMG_NR": str(page.number),
                                                 "WIDTH": str(w), "HEIGHT": str(h), "PROCESSINGREFS": "ocr"})
        space = ET.SubElement(page_el, "PrintSpace", _box(0, 0, w, h))
        for bi, (block, block_box) in enumerate(block_boxes(page.result), start=1):
            block_el = ET.SubElement(space, "TextBlock", {"ID": f"{p}_b{bi}", **_box(*block_box)})
            for i in block.lines:
                line, li = page.result.lines[i], i + 1
                words = words_of(line)
                line_el = ET.SubElement(block_el, "TextLine", {"ID": f"{p}_l{li}", **_box(*bbox(line.box, w, h))})
                for wi, word in enumerate(words, start=1):
                    x0, y0, x1, y1 = bbox(word.box, w, h, outward=False)
                    ET.SubElement(line_el, "String", {"ID": f"{p}_l{li}_w{wi}", "CONTENT": word.text,
                                                      **_box(x0, y0, x1, y1), "WC": f"{word.confidence:.4g}"})
                    if word.space_after and wi < len(words):
                        nx0 = bbox(words[wi].box, w, h, outward=False)[0]
                        ET.SubElement(line_el, "SP", {"HPOS": str(x1), "VPOS": str(y0), "WIDTH": str(max(nx0 - x1, 0))})
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
