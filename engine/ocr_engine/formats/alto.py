"""The ``alto`` format: ALTO 4.4 XML (namespace :data:`ALTO_NS`), UTF-8, in pixels.

One ``Page`` per page (``PHYSICAL_IMG_NR``: its 1-based number in the source, ``WIDTH`` and
``HEIGHT`` in pixels) holding a ``PrintSpace`` the size of the page and, when the page has
text, one ``TextBlock`` around all its lines. Each line is a ``TextLine``, each word a
``String`` (``CONTENT``, ``WC`` 0-1; each Chinese character is a word of its own) and the
whitespace between two words an ``SP``. Boxes are the axis-aligned whole-pixel bounds.

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

from ocr_engine.formats.words import bbox, pages_of, words_of
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
        lines = [(li, line, words_of(line)) for li, line in enumerate(page.result.lines, start=1)]
        lines = [(li, line, words) for li, line, words in lines if words]
        if not lines:
            continue
        boxes = [bbox(line.box, w, h) for _, line, _ in lines]
        block = ET.SubElement(space, "TextBlock", {"ID": f"{p}_b1", **_box(
            min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))})
        for (li, _, words), line_box in zip(lines, boxes):
            line_el = ET.SubElement(block, "TextLine", {"ID": f"{p}_l{li}", **_box(*line_box)})
            for wi, word in enumerate(words, start=1):
                x0, y0, x1, y1 = bbox(word.box, w, h, outward=False)
                ET.SubElement(line_el, "String", {"ID": f"{p}_l{li}_w{wi}", "CONTENT": word.text,
                                                  **_box(x0, y0, x1, y1), "WC": f"{word.confidence:.4g}"})
                if word.space_after and wi < len(words):
                    nx0 = bbox(words[wi].box, w, h, outward=False)[0]
                    ET.SubElement(line_el, "SP", {"HPOS": str(x1), "VPOS": str(y0), "WIDTH": str(max(nx0 - x1, 0))})
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
