"""Real-print text lines cut from typeset PDF documents that Debian packages ship.

The pages are rendered with poppler (``pdftoppm -r DPI -gray``), the truth of each line comes
from the PDF's own text layer (``pdftotext -bbox-layout``: blocks, lines and words with boxes in
PDF points, scaled here by ``dpi / 72``). A line is kept only when its text layer and its pixels
agree (see :func:`text_problems`, :func:`geometry_problems` and :func:`cut_line`); each kept line
is cut the way the service's line finder cuts lines (the ink box, padded by 0.25 of its height
along the line and 0.2 across it, as ``MorphologyDetector``) and stored as a PNG at render
resolution: the recogniser does its own scaling to height 32.

Whole documents go to one split, fixed by a hash of the document's path (:func:`split_of`).

::

    bash models/realprint.sh                              # fetch + unpack the packages, build
    python3 -m crnn.realprint build --out data/realprint [--max-lines-per-doc N] [--split dev]
    python3 -m ocr_eval lines --labels data/realprint/dev/lines.tsv --json /tmp/rp.json

Packages (fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` under
``data/realprint/pkgs/<package>/``, nothing installed system-wide): :data:`PACKAGES`.
``debian-edu-doc-*`` packages are never used (they are kept for independent evaluation).

Example:
    >>> split_of("texlive-latex-base-doc/usr/share/doc/texlive-doc/latex/base/clsguide.pdf")
    'dev'
    >>> join_words([Word(0, 0, 10, 10, "第"), Word(12.6, 0, 17.9, 10, "3"), Word(20.5, 0, 31, 10, "节")])
    '第 3 节'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crnn.charset import fold_char
from ocr_eval.datasets import write_tsv  # the harness's label format: backslash escapes

# The packages whose documentation PDFs are used: (package, language of most of its documents).
PACKAGES: tuple[tuple[str, str], ...] = (
    ("linuxcnc-doc-zh-cn", "zh"),
    ("texlive-lang-chinese", "zh"),
    ("texlive-latex-base-doc", "en"),
)
FORBIDDEN_PACKAGE = re.compile(r"^debian-edu-doc")
# Parts of documents, not documents: figures, sources and samples of the packages' own folders.
SKIP_PATH = re.compile(r"/(figures?|src|images?|pic|pics)/", re.IGNORECASE)
DPIS: tuple[int, ...] = (100, 150, 200)
DEV_SHARE = 5  # one document in DEV_SHARE goes to dev (hash of its path)
SALT = "realprint-v1"

# Line-finder padding of the service (ocr_engine.detection.morphology.MorphologyDetector).
PAD_X = 0.25
PAD_Y = 0.2
INK_LEVEL = 140  # gray below this is ink (pages are black or coloured text on white)

MONO_FONT = re.compile(r"mono|courier|typewriter|cmtt|lmtt|ectt|txtt|beramono|consol|inconsolata|"
                       r"menlo|sourcecode|fixed|cmuntt|\btt\d", re.IGNORECASE)
_CJK_RANGES = ((0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F), (0x3400, 0x4DBF),
               (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))
_CJK_PUNCT_EXTRA = set("“”‘’—…·")  # CJK punctuation outside those blocks (as CJK text uses them)


def is_cjk(ch: str) -> bool:
    """True for CJK ideographs, kana, CJK and full-width punctuation (as the harness counts them).

    Example:
        >>> is_cjk("中"), is_cjk("，"), is_cjk("a")
        (True, True, False)
    """
    o = ord(ch)
    return any(a <= o <= b for a, b in _CJK_RANGES)


# ----------------------------------------------------------------------------------------------
# The text layer


@dataclass(frozen=True)
class Word:
    """One word of ``pdftotext -bbox-layout``: its box (PDF points, y down) and text."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Line:
    """One line of ``pdftotext -bbox-layout``: its box, its words and the block it belongs to."""

    x0: float
    y0: float
    x1: float
    y1: float
    words: tuple[Word, ...]
    block: int = 0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Page:
    """One page: size in points and its lines in the text layer's order."""

    width: float
    height: float
    lines: tuple[Line, ...]


_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _box(el: ET.Element) -> tuple[float, float, float, float]:
    return tuple(float(el.attrib[k]) for k in ("xMin", "yMin", "xMax", "yMax"))  # type: ignore[return-value]


def parse_bbox_layout(xhtml: str) -> list[Page]:
    """Pages of a ``pdftotext -bbox-layout`` XHTML document (control characters are dropped).

    Example:
        >>> doc = ('<html xmlns="http://www.w3.org/1999/xhtml"><body><doc><page width="100" height="50">'
        ...        '<flow><block xMin="1" yMin="2" xMax="30" yMax="12"><line xMin="1" yMin="2" xMax="30" yMax="12">'
        ...        '<word xMin="1" yMin="2" xMax="12" yMax="12">a&amp;b</word>'
        ...        '<word xMin="15" yMin="2" xMax="30" yMax="12">cd</word></line></block></flow></page></doc></body></html>')
        >>> [w.text for w in parse_bbox_layout(doc)[0].lines[0].words]
        ['a&b', 'cd']
    """
    root = ET.fromstring(_BAD_XML.sub("", xhtml))
    pages = []
    for page_el in root.iter():
        if _local(page_el.tag) != "page":
            continue
        lines = []
        block_no = 0
        for block_el in page_el.iter():
            if _local(block_el.tag) != "block":
                continue
            for line_el in block_el:
                if _local(line_el.tag) != "line":
                    continue
                words = tuple(Word(*_box(w), (w.text or "")) for w in line_el if _local(w.tag) == "word")
                lines.append(Line(*_box(line_el), words, block_no))
            block_no += 1
        pages.append(Page(float(page_el.attrib["width"]), float(page_el.attrib["height"]), tuple(lines)))
    return pages


def scale_box(box: Sequence[float], dpi: int) -> tuple[int, int, int, int]:
    """A box in PDF points (1/72 inch) as whole pixels of a page rendered at ``dpi`` (outward).

    Example:
        >>> scale_box((72, 36, 144, 45.1), 100)
        (100, 50, 200, 63)
    """
    s = dpi / 72.0
    x0, y0, x1, y1 = box
    eps = 1e-6
    return (int(np.floor(x0 * s + eps)), int(np.floor(y0 * s + eps)),
            int(np.ceil(x1 * s - eps)), int(np.ceil(y1 * s - eps)))


def _cjk_end(word: str, last: bool) -> bool:
    """Whether a word's last (or first) character is Chinese; a quote mark counts as Chinese
    when the character inside it is."""
    if not word:
        return False
    ch, inner = (word[-1], word[-2:-1]) if last else (word[0], word[1:2])
    if is_cjk(ch):
        return True
    return ch in _CJK_PUNCT_EXTRA and bool(inner) and is_cjk(inner)


def join_words(words: Sequence[Word]) -> str:
    """The text of a line: its words joined by one space, none between two Chinese characters.

    ``pdftotext`` breaks words only where the print has a gap. Between two Chinese characters
    the harness ignores spaces (and Chinese text writes none); between Chinese and Latin text
    the gap is the quarter-em that Chinese typesetting (xeCJK, ctex) puts there: it is printed,
    and the synthetic training lines write a space where they render one, so a space is
    written (the model reads one at about three in four such gaps).

    Example:
        >>> join_words([Word(0, 0, 20, 10, "Hello,"), Word(24, 0, 40, 10, "world")])
        'Hello, world'
        >>> join_words([Word(0, 0, 20, 10, "使用"), Word(22, 0, 40, 10, "TeX"), Word(42, 0, 60, 10, "排版")])
        '使用 TeX 排版'
        >>> join_words([Word(0, 0, 20, 10, "“三个”"), Word(22, 0, 40, 10, "重要")])
        '“三个”重要'
    """
    out = ""
    prev: Word | None = None
    for w in words:
        if prev is not None and not (_cjk_end(prev.text, True) and _cjk_end(w.text, False)):
            out += " "
        out += w.text
        prev = w
    return out


def monospace_gaps_ok(words: Sequence[Word], pitch: float) -> bool:
    """In a monospace line every gap between words is a whole number of cells (at least one).

    ``pdftotext`` breaks words where glyphs are further apart than a tenth of the font size;
    in fixed-column code (listings, some converters) that happens around narrow punctuation,
    and the gap is then a fraction of a cell: a space the print does not have.

    Example:
        >>> ws = [Word(0, 0, 18, 10, "abc"), Word(24, 0, 42, 10, "def"), Word(44, 0, 62, 10, "ghi")]
        >>> monospace_gaps_ok(ws[:2], 6.0), monospace_gaps_ok(ws, 6.0)
        (True, False)
    """
    for a, b in zip(words, words[1:]):
        r = (b.x0 - a.x1) / pitch
        if round(r) < 1 or abs(r - round(r)) > 0.35:
            return False
    return True


_LIGATURES = {chr(c) for c in range(0xFB00, 0xFB07)}


def normalize_truth(text: str) -> tuple[str, str | None]:
    """The label of a line's text, as training labels are normalised, or why it has none.

    Each character is folded like :func:`crnn.charset.normalize_label` (``FOLD``, then NFKC of a
    single character: full-width letters and digits to ASCII); Latin ligatures (``ﬁ``) are
    written as their letters (the print shows those letters). A character still outside the
    charset, a private-use glyph or a control character rejects the line instead of being
    dropped, since the print shows it. Returns ``(label, None)`` or ``("", reason)``.

    Example:
        >>> normalize_truth("ＡＢ１２ ﬁne")
        ('AB12 fine', None)
        >>> normalize_truth("x ∈ A")
        ('', 'charset')
    """
    out = []
    for ch in text:
        o = ord(ch)
        if 0xE000 <= o <= 0xF8FF or o >= 0xF0000:
            return "", "private-use"
        if ch in _LIGATURES:
            out.append(unicodedata.normalize("NFKC", ch))
            continue
        folded = fold_char(ch)
        if folded is None:
            return "", "charset"
        out.append(folded)
    return " ".join("".join(out).split()), None


_NUMBER = re.compile(r"\d{1,4}")  # page and code-line numbers: most of some pages, little to read
_LEADER = re.compile(r"(\. ?){4,}|(· ?){4,}|(… ?){2,}|_{4,}")


def text_problems(label: str) -> list[str]:
    """Reasons a normalised label is not kept: too short, a bare number of up to 4 digits (page
    and code-line numbers), dot leaders (tables of contents).

    Example:
        >>> text_problems("a"), text_problems("253"), text_problems("Intro . . . . . . 3"), text_problems("ok")
        (['short'], ['number'], ['leaders'], [])
    """
    out = []
    if len(label.replace(" ", "")) < 2:
        out.append("short")
    elif _NUMBER.fullmatch(label):
        out.append("number")
    if _LEADER.search(label):
        out.append("leaders")
    return out


def monospace_pitch(words: Sequence[Word]) -> float | None:
    """The cell width of a line set in one monospace font, else None.

    At least 3 words and 12 characters, all giving the same width per character within 3 %.

    Example:
        >>> monospace_pitch([Word(0, 0, 18, 10, "abc"), Word(24, 0, 30, 10, "("), Word(30.2, 0, 54, 10, "defg")])
        6.0
        >>> monospace_pitch([Word(0, 0, 18, 10, "abc"), Word(24, 0, 28, 10, "i;"), Word(30, 0, 54, 10, "defg")])
    """
    if len(words) < 3 or sum(len(w.text) for w in words) < 8 or any(is_cjk(c) for w in words for c in w.text):
        return None
    per = [(w.x1 - w.x0) / len(w.text) for w in words if w.text]
    p = float(np.median(per))
    if p <= 0 or any(abs(q - p) > 0.03 * p for q in per):
        return None
    return round(p, 4)


def geometry_problems(line: Line, others: Iterable[Line]) -> list[str]:
    """Reasons a line's boxes disagree with one plain line of text (pure geometry, PDF points).

    - ``empty``: no words, or a word without text;
    - ``order``: a word starts left of where the previous one ends (by more than 0.2 of the
      line's height) or the words are not left to right;
    - ``size``: word heights differ by more than 20 % (sub/superscripts, math, mixed sizes);
    - ``baseline``: a word's bottom is off the others' by more than 20 % of the line's height;
    - ``tight-gap``: two words of Latin text closer than 0.12 of their height (a space the text
      layer inserted where the print has none: fixed-column code listings);
    - ``overlap``: the line's box overlaps another line's by more than 15 % of its height
      (overprinted text, labels of figures, superscripts set as lines of their own);
    - ``vertical``: the box is taller than wide, or narrower than one height.

    Example:
        >>> a = Line(0, 0, 50, 10, (Word(0, 0, 20, 10, "ab"), Word(25, 0, 50, 10, "cd")))
        >>> geometry_problems(a, [Line(0, 9, 50, 19, ())]), geometry_problems(a, [Line(0, 5, 50, 15, ())])
        ([], ['overlap'])
    """
    out: list[str] = []
    h = line.height
    if not line.words or any(not w.text.strip() for w in line.words) or h <= 0:
        return ["empty"]
    if line.x1 - line.x0 < h:
        out.append("vertical")
    ws = line.words
    for a, b in zip(ws, ws[1:]):
        if b.x0 < a.x1 - 0.2 * h or b.x1 <= a.x1:
            out.append("order")
            break
    heights = [w.height for w in ws]
    hmed = float(np.median(heights))
    if max(heights) > 1.2 * min(heights) and not _cjk_mixed_heights(ws, hmed):
        out.append("size")
    bottoms = [w.y1 for w in ws]
    if max(bottoms) - min(bottoms) > 0.2 * h and not _cjk_mixed_heights(ws, hmed):
        out.append("baseline")
    for a, b in zip(ws, ws[1:]):
        if _cjk_end(a.text, True) or _cjk_end(b.text, False):
            continue
        if b.x0 - a.x1 < 0.12 * min(a.height, b.height):
            out.append("tight-gap")
            break
    for o in others:
        if o is line:
            continue
        dy = min(line.y1, o.y1) - max(line.y0, o.y0)
        dx = min(line.x1, o.x1) - max(line.x0, o.x0)
        if dx > 0 and dy > 0.15 * h:
            out.append("overlap")
            break
    return out


def _cjk_mixed_heights(ws: Sequence[Word], hmed: float) -> bool:
    """Chinese and Latin words of one size differ in box height (two fonts' ascent/descent).

    The Latin and CJK words each agree among themselves within 20 %, and the two groups within 35 %.
    """
    cjk = [w.height for w in ws if any(is_cjk(c) for c in w.text)]
    lat = [w.height for w in ws if not any(is_cjk(c) for c in w.text)]
    if not cjk or not lat:
        return False
    ok = max(cjk) <= 1.2 * min(cjk) and max(lat) <= 1.2 * min(lat)
    return ok and max(max(cjk), max(lat)) <= 1.35 * min(min(cjk), min(lat))


# ----------------------------------------------------------------------------------------------
# The pixels


@dataclass
class Cut:
    """A line's crop (or why there is none) and its box in page pixels."""

    crop: np.ndarray | None
    box: tuple[int, int, int, int] | None
    problem: str | None = None


def cut_line(gray: np.ndarray, line: Line, dpi: int) -> Cut:
    """Cut one line out of a page rendered at ``dpi``, checking that the pixels match its words.

    The line's own ink is every connected piece of ink (``gray < INK_LEVEL``) that reaches into
    the middle band of its box (the box shrunk by 15 % of its height at top and bottom), taken
    in a window of half a height around the box. Its bounding box, padded like the service's
    line finder, is the crop. Reasons for no crop:

    - ``blank``: no ink, or a word's box holds (almost) no ink (text that is not printed);
    - ``ink-height``: the ink is over 1.7 heights tall (glyphs touching the next line);
    - ``foreign-ink``: over 0.5 % of the crop is ink that is not the line's (neighbours, rules);
    - ``uncovered-ink``: a piece of the line's ink lies under no word (a glyph the text layer
      does not have, a rule, a picture);
    - ``gap-ink``: ink in the middle of the gap between two words (a visible-space glyph);
    - ``missing-space``: a word of Latin text has a gap in its ink wider than 0.35 of its height
      (the print has a space the text layer does not);
    - ``edge``: the line touches the page edge; ``inverted``: light text on dark.

    Example:
        >>> page = np.full((40, 120), 255, np.uint8); page[12:22, 10:30] = 0; page[12:22, 36:60] = 0
        >>> line = Line(10, 10, 60, 24, (Word(10, 10, 30, 24, "ab"), Word(36, 10, 60, 24, "cd")))
        >>> cut = cut_line(page, line, 72); cut.problem, cut.box
        (None, (8, 10, 62, 24))
    """
    import cv2

    H, W = gray.shape[:2]
    bx0, by0, bx1, by1 = scale_box(line.box, dpi)
    h = max(1, by1 - by0)
    m = int(round(0.5 * h))
    wx0, wy0, wx1, wy1 = max(0, bx0 - m), max(0, by0 - m), min(W, bx1 + m), min(H, by1 + m)
    if bx0 < 1 or by0 < 1 or bx1 > W - 1 or by1 > H - 1:
        return Cut(None, None, "edge")
    win = gray[wy0:wy1, wx0:wx1]
    ring = np.ones(win.shape, bool)
    ring[by0 - wy0:by1 - wy0, bx0 - wx0:bx1 - wx0] = False
    if not ring.any() or float(np.median(win[ring])) < 128:
        return Cut(None, None, "inverted")
    ink = (win < INK_LEVEL).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    core_y0 = by0 - wy0 + int(round(0.15 * h))
    core_y1 = by1 - wy0 - int(round(0.15 * h))
    core_x0, core_x1 = bx0 - wx0, bx1 - wx0
    own = np.zeros(n, bool)
    for k in range(1, n):
        x, y, w, hh, _area = stats[k]
        if x < core_x1 and x + w > core_x0 and y < core_y1 and y + hh > core_y0:
            own[k] = True
    if not own.any():
        return Cut(None, None, "blank")
    own_mask = own[labels]
    ys, xs = np.nonzero(own_mask)
    ix0, iy0, ix1, iy1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    ink_h = iy1 - iy0
    if ink_h > 1.7 * h:
        return Cut(None, None, "ink-height")
    # Every word's box holds ink; every piece of own ink lies under some word.
    s = dpi / 72.0
    spans = []
    for wd in line.words:
        x0, y0, x1, y1 = scale_box((wd.x0, wd.y0, wd.x1, wd.y1), dpi)
        x0, x1 = x0 - wx0, x1 - wx0
        sub = own_mask[max(0, y0 - wy0):max(0, y1 - wy0), max(0, x0):max(0, x1)]
        if sub.size == 0 or sub.sum() < max(2, 0.01 * sub.size):
            return Cut(None, None, "blank")
        spans.append((x0, x1))
        if not any(is_cjk(c) for c in wd.text) and len(wd.text) > 1:
            cols = sub.any(axis=0)
            idx = np.nonzero(cols)[0]
            if idx.size:
                run = _longest_false_run(cols[idx[0]:idx[-1] + 1])
                if run > 0.35 * wd.height * s:
                    return Cut(None, None, "missing-space")
    for k in np.nonzero(own)[0]:
        x, y, w, hh, _area = stats[k]
        if max(w, hh) < 0.15 * h:
            continue  # specks, dots of leaders and accents are judged with the words
        inside = max(max(0, min(x + w, b + 1) - max(x, a - 1)) for a, b in spans)
        if inside < 0.5 * w:
            return Cut(None, None, "uncovered-ink")
    # Between two words there is paper: a glyph printed there is not in the text (a visible
    # space, a bullet drawn as a picture); italic overhangs reach in less than a fifth of the gap.
    cols = own_mask[by0 - wy0:by1 - wy0].any(axis=0)
    for (_a0, a1), (b0, _b1) in zip(spans, spans[1:]):
        g0, g1 = a1 + 1, b0 - 1
        if g1 - g0 >= 3:
            shrink = max(1, int(0.2 * (g1 - g0)))
            if cols[max(0, g0 + shrink):max(0, g1 - shrink)].any():
                return Cut(None, None, "gap-ink")
    # The service's padding around the ink box.
    px, py = PAD_X * ink_h, PAD_Y * ink_h
    cx0, cx1 = max(0, int(round(wx0 + ix0 - px))), min(W, int(round(wx0 + ix1 + px)))
    cy0, cy1 = max(0, int(round(wy0 + iy0 - py))), min(H, int(round(wy0 + iy1 + py)))
    crop = gray[cy0:cy1, cx0:cx1]
    foreign = (crop < INK_LEVEL)
    oy0, ox0 = cy0 - wy0, cx0 - wx0
    sub_own = np.zeros_like(foreign)
    ry0, rx0 = max(0, oy0), max(0, ox0)
    ry1, rx1 = min(own_mask.shape[0], oy0 + crop.shape[0]), min(own_mask.shape[1], ox0 + crop.shape[1])
    sub_own[ry0 - oy0:ry1 - oy0, rx0 - ox0:rx1 - ox0] = own_mask[ry0:ry1, rx0:rx1]
    foreign &= ~sub_own
    # ink outside the search window counts as foreign too (it is not in own_mask)
    if foreign.mean() > 0.005:
        return Cut(None, None, "foreign-ink")
    return Cut(crop.copy(), (cx0, cy0, cx1, cy1), None)


def _longest_false_run(cols: np.ndarray) -> int:
    best = cur = 0
    for c in cols:
        cur = 0 if c else cur + 1
        best = max(best, cur)
    return best


# ----------------------------------------------------------------------------------------------
# Documents, pages, splits


def _h(text: str) -> int:
    return int(hashlib.sha256(f"{SALT}:{text}".encode()).hexdigest()[:12], 16)


def split_of(doc_id: str) -> str:
    """``dev`` for one document in :data:`DEV_SHARE` (a hash of its id: package/path), else ``train``.

    Example:
        >>> sorted({split_of(f"pkg/doc{i}.pdf") for i in range(20)})
        ['dev', 'train']
    """
    return "dev" if _h(doc_id) % DEV_SHARE == 0 else "train"


def page_dpi(doc_id: str, page: int, dpis: Sequence[int] = DPIS) -> int:
    """The resolution a page is rendered at: one of ``dpis``, by a hash of document and page.

    Example:
        >>> page_dpi("pkg/a.pdf", 3) in DPIS
        True
    """
    return dpis[_h(f"{doc_id}#{page}") % len(dpis)]


def spread_pages(n_pages: int, k: int, skip_first: bool = True) -> list[int]:
    """``k`` page numbers (1-based) spread evenly through a document (the title page left out).

    Example:
        >>> spread_pages(100, 4), spread_pages(3, 5), spread_pages(1, 2)
        ([14, 39, 63, 88], [2, 3], [1])
    """
    first = 2 if skip_first and n_pages > 1 else 1
    span = n_pages - first + 1
    if k >= span:
        return list(range(first, n_pages + 1))
    return sorted({first + int((i + 0.5) * span / k) for i in range(k)})


def pick_evenly(items: Sequence, n: int) -> list:
    """At most ``n`` of ``items``, evenly spaced, in order.

    Example:
        >>> pick_evenly(list(range(10)), 3)
        [0, 3, 6]
    """
    if n <= 0 or len(items) <= n:
        return list(items)
    return [items[int(i * len(items) / n)] for i in range(n)]


def find_documents(root: Path, packages: Sequence[tuple[str, str]] = PACKAGES) -> list[tuple[str, str, Path]]:
    """``(package, doc_id, path)`` of every documentation PDF of the unpacked packages, sorted.

    ``doc_id`` is ``package/path inside the package`` (what the split hashes).
    """
    out = []
    for pkg, _kind in packages:
        if FORBIDDEN_PACKAGE.match(pkg):
            raise ValueError(f"{pkg}: debian-edu-doc packages are kept for independent evaluation")
        base = root / pkg
        for path in sorted(base.glob("usr/share/doc/**/*.pdf")):
            rel = path.relative_to(base).as_posix()
            if SKIP_PATH.search("/" + rel):
                continue
            out.append((pkg, f"{pkg}/{rel}", path))
    return out


def _run(cmd: list[str], binary: bool = False) -> bytes | str:
    res = subprocess.run(cmd, capture_output=True, check=False, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.decode(errors='replace')[:300]}")
    return res.stdout if binary else res.stdout.decode("utf-8", errors="replace")


def pdf_pages(path: Path) -> int:
    info = _run(["pdfinfo", str(path)])
    m = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    return int(m.group(1)) if m else 0


def page_fonts(path: Path, page: int) -> list[tuple[str, bool]]:
    """``(name, embedded)`` of each font on one page (``pdffonts``)."""
    rows = _run(["pdffonts", "-f", str(page), "-l", str(page), str(path)]).splitlines()[2:]
    return [parse_pdffonts_row(r) for r in rows if r.strip()]


def parse_pdffonts_row(row: str) -> tuple[str, bool]:
    """Name and whether the font is embedded, from one row of ``pdffonts`` (type names have spaces).

    Example:
        >>> parse_pdffonts_row("ABCDEF+KaiTi     CID TrueType      Identity-H       yes yes yes     67  0")
        ('ABCDEF+KaiTi', True)
        >>> parse_pdffonts_row("[none]           Type 3            Custom           no  no  no      12  0")
        ('[none]', False)
    """
    parts = row.split()
    return parts[0], len(parts) >= 6 and parts[-5] == "yes"


def page_images(path: Path, page: int) -> list[tuple[int, int]]:
    """(width, height) in pixels of the images drawn on one page (``pdfimages -list``)."""
    rows = _run(["pdfimages", "-list", "-f", str(page), "-l", str(page), str(path)]).splitlines()[2:]
    out = []
    for r in rows:
        parts = r.split()
        if len(parts) > 4 and parts[2] == "image":
            out.append((int(parts[3]), int(parts[4])))
    return out


def render_page(path: Path, page: int, dpi: int) -> np.ndarray:
    """One page as 8-bit gray at ``dpi`` (``pdftoppm -gray``, annotations hidden as in print)."""
    import cv2

    data = _run(["pdftoppm", "-r", str(dpi), "-gray", "-hide-annotations", "-f", str(page), "-l", str(page),
                 str(path)], binary=True)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise RuntimeError(f"{path} page {page}: pdftoppm gave no image")
    return img


def page_text(path: Path, page: int) -> Page:
    xhtml = _run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(path), "-"])
    pages = parse_bbox_layout(xhtml)
    return pages[0] if pages else Page(0, 0, ())


@dataclass
class Kept:
    """A kept line before it is written."""

    text: str
    crop: np.ndarray
    page: int
    dpi: int
    index: int
    box_px: tuple[int, int, int, int]
    box_pt: tuple[float, float, float, float]
    mono: bool


@dataclass
class DocResult:
    package: str
    doc_id: str
    pages: list[tuple[int, int]] = field(default_factory=list)  # (page, dpi) used
    skipped_pages: list[tuple[int, str]] = field(default_factory=list)
    lines: list[Kept] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    seen: int = 0


def line_label(line: Line, mono_page: bool) -> tuple[str, str | None, bool]:
    """``(label, reason, monospace)`` of one line from its words alone.

    Example:
        >>> ws = (Word(0, 0, 18, 10, "abc"), Word(24, 0, 42, 10, "def"), Word(44, 0, 62, 10, "ghi"))
        >>> line_label(Line(0, 0, 62, 10, ws), True), line_label(Line(0, 0, 42, 10, ws[:2]), True)
        (('', 'mono-gap', True), ('abc def', None, False))
    """
    pitch = monospace_pitch(line.words) if mono_page else None
    if pitch is not None and not monospace_gaps_ok(line.words, pitch):
        return "", "mono-gap", True
    label, why = normalize_truth(join_words(line.words))
    if why:
        return "", why, pitch is not None
    probs = text_problems(label)
    return label, (probs[0] if probs else None), pitch is not None


def process_page(path: Path, page: int, dpi: int, res: DocResult, max_image_side: int = 120) -> None:
    """Add the kept lines of one page to ``res`` (its reasons counted)."""
    big = [wh for wh in page_images(path, page) if min(wh) > max_image_side]
    if big:
        res.skipped_pages.append((page, "image"))
        return
    text = page_text(path, page)
    if not text.lines:
        res.skipped_pages.append((page, "no-text"))
        return
    fonts = page_fonts(path, page)
    if not all(emb for _, emb in fonts):
        # A font the PDF does not carry is drawn with whatever this machine substitutes (the
        # training fonts, often) and its text may not map: not the document's print.
        res.skipped_pages.append((page, "font-not-embedded"))
        return
    mono_page = any(MONO_FONT.search(name) for name, _ in fonts)
    gray = render_page(path, page, dpi)
    res.pages.append((page, dpi))
    for i, line in enumerate(text.lines):
        res.seen += 1
        geo = geometry_problems(line, text.lines)
        if geo:
            res.reasons[geo[0]] += 1
            continue
        label, why, mono = line_label(line, mono_page)
        if why:
            res.reasons[why] += 1
            continue
        cut = cut_line(gray, line, dpi)
        if cut.problem:
            res.reasons[cut.problem] += 1
            continue
        res.reasons["kept"] += 1
        res.lines.append(Kept(label, cut.crop, page, dpi, i, cut.box, line.box, mono))  # type: ignore[arg-type]


def _lang(text: str) -> str:
    return "zh" if any(is_cjk(c) for c in text) else "en"


def doc_slug(doc_id: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(doc_id).stem)[:40]
    return f"{stem}-{hashlib.sha256(doc_id.encode()).hexdigest()[:8]}"


def deb_versions(debs: Path) -> dict[str, str]:
    """Package → version from the ``.deb`` files that were fetched (``name_version_arch.deb``)."""
    out = {}
    for p in sorted(debs.glob("*.deb")):
        parts = p.name.split("_")
        if len(parts) >= 2:
            out[parts[0]] = parts[1]
    return out


def tool_version() -> str:
    res = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True, check=False)
    return (res.stderr or res.stdout).splitlines()[0].strip() if (res.stderr or res.stdout) else "?"


def build(out: Path, root: Path, *, splits: Sequence[str] = ("train", "dev"), max_lines_per_doc: int = 40,
          pages_per_doc: int = 6, max_docs_per_package: int = 0, dpis: Sequence[int] = DPIS,
          log=print) -> dict:
    """Build ``out/<split>/lines.tsv``, ``crops/`` and ``manifest.tsv`` for each split; return the summary."""
    import cv2

    docs = find_documents(root)
    versions = deb_versions(root.parent / "debs")
    summary: dict = {"salt": SALT, "dev_share": DEV_SHARE, "dpis": list(dpis), "pages_per_doc": pages_per_doc,
                     "max_lines_per_doc": max_lines_per_doc, "max_docs_per_package": max_docs_per_package,
                     "poppler": tool_version(), "packages": versions, "splits": {}}
    for split in splits:
        chosen = [d for d in docs if split_of(d[1]) == split]
        if max_docs_per_package:
            by_pkg: dict[str, list] = {}
            for d in sorted(chosen, key=lambda d: _h("order:" + d[1])):
                by_pkg.setdefault(d[0], []).append(d)
            chosen = sorted(x for v in by_pkg.values() for x in v[:max_docs_per_package])
        sdir = out / split
        if (sdir / "crops").is_dir():
            shutil.rmtree(sdir / "crops")  # a rebuild leaves no crop of an earlier one behind
        (sdir / "crops").mkdir(parents=True, exist_ok=True)
        rows, manifest = [], []
        reasons: Counter = Counter()
        stats = {"documents": 0, "pages": 0, "lines": 0, "by_package": {}, "by_dpi": Counter(),
                 "by_lang": Counter(), "docs_without_lines": []}
        for n_doc, (pkg, doc_id, path) in enumerate(chosen, 1):
            res = DocResult(pkg, doc_id)
            try:
                n_pages = pdf_pages(path)
                for p in spread_pages(n_pages, pages_per_doc):
                    process_page(path, p, page_dpi(doc_id, p, dpis), res)
            except (RuntimeError, ET.ParseError, subprocess.TimeoutExpired) as err:
                res.skipped_pages.append((0, f"error: {str(err)[:120]}"))
            reasons.update(res.reasons)
            reasons["seen"] += res.seen
            kept = [k for lang in ("en", "zh") for k in pick_evenly(
                [k for k in res.lines if _lang(k.text) == lang], max_lines_per_doc)]
            kept.sort(key=lambda k: (k.page, k.index))
            slug = doc_slug(doc_id)
            for k in kept:
                name = f"crops/{slug}/p{k.page:04d}_d{k.dpi}_l{k.index:03d}.png"
                (sdir / name).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(sdir / name), k.crop)
                lang = _lang(k.text)
                rows.append((name, k.text, lang))
                manifest.append((name, pkg, versions.get(pkg, "?"), doc_id.split("/", 1)[1], k.page, k.dpi, k.index,
                                 ",".join(map(str, k.box_px)), ",".join(f"{v:.2f}" for v in k.box_pt),
                                 int(k.mono)))
                stats["by_dpi"][k.dpi] += 1
                stats["by_lang"][lang] += 1
            stats["documents"] += 1 if kept else 0
            if not kept:
                stats["docs_without_lines"].append(doc_id)
            stats["pages"] += len({k.page for k in kept})
            stats["lines"] += len(kept)
            bp = stats["by_package"].setdefault(pkg, {"documents": 0, "pages": 0, "lines": 0})
            bp["documents"] += 1 if kept else 0
            bp["pages"] += len({k.page for k in kept})
            bp["lines"] += len(kept)
            log(f"[{split} {n_doc}/{len(chosen)}] {doc_id}: {len(res.pages)} pages, {res.seen} lines seen, "
                f"{len(res.lines)} kept, {len(kept)} written")
        write_tsv(sdir / "lines.tsv", rows, header=("image", "text", "lang"))
        with open(sdir / "manifest.tsv", "w", encoding="utf-8") as fh:
            fh.write("image\tpackage\tversion\tdocument\tpage\tdpi\tline\tbox_px\tbox_pt\tmonospace\n")
            for r in manifest:
                fh.write("\t".join(map(str, r)) + "\n")
        stats["by_dpi"] = dict(sorted(stats["by_dpi"].items()))
        stats["by_lang"] = dict(sorted(stats["by_lang"].items()))
        stats["reasons"] = dict(reasons.most_common())
        summary["splits"][split] = stats
    # One summary for the splits, each with the settings it was built with (a split built alone
    # keeps the others' entries).
    path = out / "summary.json"
    merged = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"splits": {}}
    settings = {k: v for k, v in summary.items() if k != "splits"}
    for split, st in summary["splits"].items():
        merged["splits"][split] = {"settings": settings, **st}
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m crnn.realprint", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="cut the real-print line set")
    b.add_argument("--out", type=Path, default=Path("data/realprint"))
    b.add_argument("--root", type=Path, help="unpacked packages (default: OUT/pkgs)")
    b.add_argument("--split", choices=("train", "dev", "all"), default="all")
    b.add_argument("--max-lines-per-doc", type=int, default=40,
                   help="at most this many lines of each language (with / without Chinese) per document")
    b.add_argument("--pages-per-doc", type=int, default=6)
    b.add_argument("--max-docs-per-package", type=int, default=0, help="0: all")
    b.add_argument("--dpis", default=",".join(map(str, DPIS)))
    b.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    root = args.root or args.out / "pkgs"
    if not root.is_dir():
        print(f"{root}: no unpacked packages; run bash models/realprint.sh --fetch-only first", file=sys.stderr)
        return 2
    splits = ("train", "dev") if args.split == "all" else (args.split,)
    summary = build(args.out, root, splits=splits, max_lines_per_doc=args.max_lines_per_doc,
                    pages_per_doc=args.pages_per_doc, max_docs_per_package=args.max_docs_per_package,
                    dpis=tuple(int(x) for x in args.dpis.split(",")),
                    log=(lambda *_: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True)))
    for split, st in summary["splits"].items():
        print(f"{split}: {st['documents']} documents, {st['pages']} pages, {st['lines']} lines "
              f"{st['by_lang']} by dpi {st['by_dpi']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
