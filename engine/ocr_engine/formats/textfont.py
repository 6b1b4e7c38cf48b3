"""The TrueType font of the searchable PDF's invisible text layer, shipped as package data.

It has two glyphs besides ``.notdef``, each a plain rectangle the size of its em box: one
1/2 em wide for printable ASCII, one 1 em wide for every other character of the Basic
Multilingual Plane (Chinese among them). The text set in it is never painted, so only the
glyphs' widths and boxes matter (readers select text with them). A PDF writer that subsets
it (as reportlab does) adds a ``ToUnicode`` map, from which any reader extracts the text,
with no CJK font, CMap or language pack needed on either side.

The file, ``text_layer.ttf`` next to this module (under 1 KB), is built with fontTools by
``python3 tools/build_text_layer_font.py`` from the repository root; the engine only reads it.

Example:
    >>> font = build_font()
    >>> font[:4], len(font) < 2000
    (b'\\x00\\x01\\x00\\x00', True)
"""

from __future__ import annotations

import functools
from importlib.resources import files

FONT_FILE = "text_layer.ttf"


@functools.cache
def build_font() -> bytes:
    """The font file's bytes (always the same; read from the package once a process)."""
    return (files("ocr_engine.formats") / FONT_FILE).read_bytes()
