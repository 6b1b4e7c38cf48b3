"""Builds the font of the searchable PDF's invisible text layer: engine/ocr_engine/formats/text_layer.ttf.

    python3 tools/build_text_layer_font.py           # (re)writes the file
    python3 tools/build_text_layer_font.py --check   # exit status 1 when the shipped file differs

The font has two glyphs besides ``.notdef``, each a plain rectangle the size of its em box:
``narrow`` (1/2 em) for printable ASCII and ``wide`` (1 em) for every other character of the
Basic Multilingual Plane but the surrogates, U+FFFE and U+FFFF (the ranges ``ocr_engine.formats.pdf``
sets in it; it writes the rest as U+FFFD). The cmap is a single format 13 subtable (many code
points to one glyph, in the Windows full-Unicode encoding): three groups cover it all, where a
format 4 or 12 subtable would need an entry per code point.

Built with fontTools (a dependency of the ``train`` extra only): the engine ships the file and
reads it as package data. The output is byte-identical from run to run (fixed timestamps), so
the unit tests can check that the shipped file is what this script builds.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampFromString
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

OUTPUT = Path(__file__).resolve().parents[1] / "engine" / "ocr_engine" / "formats" / "text_layer.ttf"
FAMILY = "OcrTextLayer"  # the name ocr_engine.formats.pdf registers it under
VERSION = "1.0"
TIMESTAMP = timestampFromString("Mon Jan  1 00:00:00 2024")  # head created/modified: reproducible output
UNITS_PER_EM = 1000
ASCENT, DESCENT = 800, -200  # an em box from the descender to the ascender
NARROW, WIDE = 500, 1000  # advances of the ASCII glyph and of every other glyph
GLYPHS = [".notdef", "narrow", "wide"]
# (first code point, last code point, glyph) of the format 13 cmap
RANGES = [(0x20, 0x7E, "narrow"), (0xA0, 0xD7FF, "wide"), (0xE000, 0xFFFD, "wide")]


def _box(advance: int):
    """A glyph whose outline is its em box, ``advance`` wide: one clockwise rectangle. Never
    painted (the text layer is invisible), it gives readers a box to select."""
    pen = TTGlyphPen(None)
    pen.moveTo((0, DESCENT))
    pen.lineTo((0, ASCENT))
    pen.lineTo((advance, ASCENT))
    pen.lineTo((advance, DESCENT))
    pen.closePath()
    return pen.glyph()


def _cmap():
    """The cmap table: one format 13 subtable (platform 3, encoding 10) for the ranges."""
    sub = CmapSubtable.newSubtable(13)
    sub.platformID, sub.platEncID, sub.language = 3, 10, 0
    sub.cmap = {code: glyph for first, last, glyph in RANGES for code in range(first, last + 1)}
    table = newTable("cmap")
    table.tableVersion = 0
    table.tables = [sub]
    return table


def build() -> bytes:
    """The font file's bytes (the same on every run with a given fontTools)."""
    fb = FontBuilder(UNITS_PER_EM, isTTF=True)
    fb.setupGlyphOrder(GLYPHS)
    fb.font["cmap"] = _cmap()
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "narrow": _box(NARROW), "wide": _box(WIDE)})
    fb.setupHorizontalMetrics({".notdef": (WIDE, 0), "narrow": (NARROW, 0), "wide": (WIDE, 0)})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    fb.setupNameTable({
        "familyName": FAMILY,
        "styleName": "Regular",
        "uniqueFontIdentifier": f"{FAMILY}-{VERSION}",
        "fullName": FAMILY,
        "version": f"Version {VERSION}",
        "psName": FAMILY,
    }, mac=False)
    fb.setupOS2(
        version=4,
        fsType=0,  # installable embedding
        achVendID="OCRE",
        fsSelection=0x40,  # regular
        usWeightClass=400,
        sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0,
        usWinAscent=ASCENT, usWinDescent=-DESCENT,
        # Unicode ranges: Basic Latin (bit 0); CJK Symbols and Punctuation (48), CJK Unified
        # Ideographs (59), CJK Compatibility Ideographs (61); Halfwidth and Fullwidth Forms (68)
        ulUnicodeRange1=1 << 0,
        ulUnicodeRange2=(1 << 16) | (1 << 27) | (1 << 29),
        ulUnicodeRange3=1 << 4,
        ulCodePageRange1=(1 << 0) | (1 << 18),  # Latin 1, simplified Chinese
        sxHeight=500, sCapHeight=700,
        usDefaultChar=0, usBreakChar=0x20, usMaxContext=1,
    )
    fb.setupPost(keepGlyphNames=True, underlinePosition=-100, underlineThickness=50)
    fb.updateHead(created=TIMESTAMP, modified=TIMESTAMP, lowestRecPPEM=8)
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    args = parser.parse_args(argv)
    font = build()
    if args.check:
        same = OUTPUT.is_file() and OUTPUT.read_bytes() == font
        print(f"{OUTPUT}: {'up to date' if same else 'differs from what this script builds'}")
        return 0 if same else 1
    OUTPUT.write_bytes(font)
    print(f"wrote {OUTPUT} ({len(font)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
