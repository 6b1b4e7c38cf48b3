"""Real typeset pages for the page benchmark: PDF manuals of Debian packages and their text layer.

The documents are the ones :mod:`crnn.realprint` cuts its line set from (unpacked by
``bash models/realprint.sh --fetch-only`` under ``data/realprint/pkgs/<package>/``), and only
those of its ``dev`` split (:func:`crnn.realprint.split_of`): no page here was trained on.
For each document (sorted, at most ``max_docs`` per package, evenly picked) some candidate pages
spread through it are looked at (the title page left out); the first usable ones, again evenly
picked, are rendered at ``dpi`` (``pdftoppm -gray``) and written as ``pages/*.png`` with a
``pages.tsv`` (columns ``image``, ``line_no``, ``text``, ``provenance``, ``notes``, ``tags``).

The truth of a page is its whole text layer (``pdftotext -bbox-layout``) in the layer's reading
order: blocks in order, lines in order, each line's words joined as the real-print line set
joins them (:func:`crnn.realprint.join_words`, :func:`crnn.realprint.normalize_truth`).
Characters outside the recogniser's charset stay (``⟨``, ``–``, ``ε`` are printed: not reading
them is an error of the engine). A line is never left out of a page's truth: the engine would
still read it, and in the reading-order CER that counts as an insertion. A page whose text
layer cannot stand for its print is dropped whole instead (:func:`page_problem`):

- ``no-text``: fewer than :data:`MIN_LINES` lines of text;
- ``figure``: a picture larger than 120 px a side, or ink that no line of the text layer covers
  (vector drawings, text set as outlines, heavy rules), over :data:`MAX_UNCOVERED_INK` of the ink;
- ``not-printed``: over :data:`MAX_UNPRINTED` of the text layer's characters lie in word boxes
  without ink (a font poppler cannot draw here: the Chinese of some documents needs the
  ``Adobe-GB1`` language pack), see :func:`unprinted_share`;
- ``font-not-embedded``: poppler would draw a substitute font, not the document's print;
- ``font-not-drawn``: poppler reports a font it cannot use (``Missing language pack``, an
  unknown font): some of the print (the Chinese of ``tlmgr-intro-zh-cn``, say) is missing from
  the render and from the text layer alike (:func:`font_warnings`);
- ``unmapped-glyph``: a control character, a private-use glyph or U+FFFD in the text layer;
- ``leaders``: dot leaders (tables of contents: how many dots, and spaces between them, the
  text layer gives is not what one reads);
- ``side-by-side``: on a page of one column, over :data:`MAX_SIDE_BY_SIDE` of the lines have
  another line on their row that is not next to them in the text layer's order (tables, notes
  in the margin): the layer then reads down one column of cells, then the next, or mixes
  them, and that is no more the reading order than the engine's row by row
  (:func:`side_by_side_share`);
- ``interleaved-columns``: on a page of several columns, the text layer's order goes from one
  column to another more than twice per gutter, plus two (:func:`column_switches`): it reads
  across the columns, not down each;
- ``numbered-code``: more than :data:`MAX_NUMBER_LINES` lines that are a bare number and not
  followed by a line on the same row (the margin line numbers of ``.dtx`` listings: the text
  layer gives them as a column of their own, before or after the code, where the print is read
  one numbered line at a time; a section number just before its heading is fine).

Tags: ``real``, the language (``zh`` when at least :data:`ZH_SHARE` of the page's characters
are CJK, else ``en``: an English manual quoting some Chinese is ``en`` here, while the harness's
``by_lang`` calls any page with CJK ``zh``) and ``cols=N`` (:func:`count_columns`).

Command line::

    python -m ocr_eval build-real-pages --pkgs data/realprint/pkgs --out data/pagebench/real \\
        [--dpi 150] [--pages-per-doc 5] [--max-docs 16]

Example:
    >>> from crnn.realprint import Line, Word
    >>> page = Page(600, 800, (Line(50, 50, 300, 62, (Word(50, 50, 120, 62, "Hello"),
    ...                                                 Word(125, 50, 300, 62, "world"))),))
    >>> truth_lines(page)
    ['Hello world']
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crnn import realprint
from crnn.realprint import Page
from ocr_eval.datasets import write_tsv
from ocr_eval.metrics import is_cjk

DPI = 150
PAGES_PER_DOC = 5
MAX_DOCS = 16  # per package
CANDIDATES = 3  # pages looked at per page wanted
MIN_LINES = 5
MAX_NUMBER_LINES = 3  # bare numbers: a page number, a footnote mark or two
MAX_UNCOVERED_INK = 0.03
MAX_UNPRINTED = 0.02
MAX_SIDE_BY_SIDE = 0.25
ZH_SHARE = 0.25
MAX_IMAGE_SIDE = 120  # px: larger pictures are figures (as crnn.realprint judges them)
INK_LEVEL = realprint.INK_LEVEL
VISIBLE_LEVEL = 224
COLUMNS = ("image", "line_no", "text", "provenance", "notes", "tags")
_NUMBER = re.compile(r"\d{1,4}")


_FONT_TROUBLE = re.compile(r"missing language pack|unknown font|no font", re.IGNORECASE)


def font_warnings(path: Path, page: int) -> list[str]:
    """Poppler's complaints about the fonts of one page (from ``pdftotext``'s error output)."""
    res = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=False, timeout=300)
    return sorted({m.group(0) for m in _FONT_TROUBLE.finditer(res.stderr.decode("utf-8", errors="replace"))})


@dataclass(frozen=True)
class PdfTools:
    """What the builder asks of a PDF; poppler through :mod:`crnn.realprint` unless replaced (tests)."""

    n_pages: Callable[[Path], int] = realprint.pdf_pages
    text: Callable[[Path, int], Page] = realprint.page_text
    render: Callable[[Path, int, int], np.ndarray] = realprint.render_page
    images: Callable[[Path, int], list[tuple[int, int]]] = realprint.page_images
    fonts: Callable[[Path, int], list[tuple[str, bool]]] = realprint.page_fonts
    warnings: Callable[[Path, int], list[str]] = font_warnings


@dataclass
class RealPage:
    """One kept page: where it comes from, its truth lines and tags."""

    package: str
    doc_id: str
    page: int
    n_pages: int
    image: str
    lines: list[str]
    tags: tuple[str, ...]


@dataclass
class BuildLog:
    """What a build looked at: kept pages and the reasons pages were dropped."""

    pages: list[RealPage] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    dropped_pages: list[tuple[str, int, str]] = field(default_factory=list)


def _unmapped(ch: str) -> bool:
    return ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cs")


def line_text(words: Sequence[realprint.Word]) -> str:
    """The truth of one text-layer line: words joined and folded as the real-print lines are.

    Characters the charset lacks are kept as printed (whitespace collapsed).

    Example:
        >>> from crnn.realprint import Word
        >>> line_text([Word(0, 0, 10, 10, "ﬁle"), Word(14, 0, 30, 10, "⟨name⟩")])
        'file ⟨name⟩'
    """
    joined = realprint.join_words(words)
    label, why = realprint.normalize_truth(joined)
    if why is None:
        return label
    expanded = "".join(unicodedata.normalize("NFKC", c) if 0xFB00 <= ord(c) <= 0xFB06 else c for c in joined)
    return " ".join(expanded.split())


def truth_lines(page: Page) -> list[str]:
    """The page's lines in the text layer's order (blocks, then lines), empty ones left out."""
    return [t for t in (line_text(line.words) for line in page.lines) if t]


def _same_row(a: realprint.Line, b: realprint.Line) -> bool:
    """The two lines overlap vertically by over half the smaller one's height."""
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * min(a.height, b.height)


def side_by_side_share(page: Page) -> float:
    """Share of the lines that have another line on their row, not next to them in the text order.

    Example:
        >>> from crnn.realprint import Line, Word
        >>> def ln(x, y, text):
        ...     return Line(x, y, x + 40, y + 10, (Word(x, y, x + 40, y + 10, text),))
        >>> table = Page(600, 800, (ln(10, 0, "key"), ln(10, 12, "key2"), ln(100, 0, "value"), ln(100, 12, "v2")))
        >>> prose = Page(600, 800, (ln(10, 0, "12"), ln(60, 0, "Heading"), ln(10, 12, "text")))
        >>> side_by_side_share(table), side_by_side_share(prose)
        (1.0, 0.0)
    """
    lines = page.lines
    if not lines:
        return 0.0
    shared = sum(1 for i, a in enumerate(lines)
                 if any(abs(i - j) > 1 and _same_row(a, b) for j, b in enumerate(lines)))
    return shared / len(lines)


def detached_numbers(page: Page) -> int:
    """Lines that are a bare number of up to 4 digits and not followed, in the text layer's
    order, by a line on the same row.

    Example:
        >>> from crnn.realprint import Line, Word
        >>> def ln(x, y, text):
        ...     return Line(x, y, x + 10 * len(text), y + 10, (Word(x, y, x + 10 * len(text), y + 10, text),))
        >>> numbered = Page(600, 800, (ln(10, 0, "1"), ln(10, 12, "2"), ln(40, 0, "code"), ln(40, 12, "more")))
        >>> heading = Page(600, 800, (ln(10, 0, "12"), ln(40, 0, "Heading"), ln(40, 12, "text")))
        >>> detached_numbers(numbered), detached_numbers(heading)
        (2, 0)
    """
    lines = page.lines
    out = 0
    for i, line in enumerate(lines):
        if _NUMBER.fullmatch(line_text(line.words)):
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            out += int(nxt is None or not _same_row(line, nxt))
    return out


def text_layer_problem(page: Page, lines: Sequence[str]) -> str | None:
    """Why a page's text layer cannot stand for its print (see the module's list), or None.

    ``lines`` are its :func:`truth_lines`.

    Example:
        >>> text_layer_problem(Page(0, 0, ()), ["A title", "Some text.", "More text", "and more", "12"])
        >>> text_layer_problem(Page(0, 0, ()), ["Intro . . . . . . 3", "b", "c", "d", "e"])
        'leaders'
        >>> text_layer_problem(Page(0, 0, ()), ["x\x88"] * 5), text_layer_problem(Page(0, 0, ()), ["a"])
        ('unmapped-glyph', 'no-text')
    """
    if len(lines) < MIN_LINES:
        return "no-text"
    if any(_unmapped(c) for t in lines for c in t):
        return "unmapped-glyph"
    if any("leaders" in realprint.text_problems(t) for t in lines):
        return "leaders"
    if detached_numbers(page) > MAX_NUMBER_LINES:
        return "numbered-code"
    return None


def uncovered_ink(gray: np.ndarray, page: Page, dpi: int) -> float:
    """Share of the page's ink (gray below ``INK_LEVEL``) outside every text line's box.

    Each box is widened by half its height on all sides (accents, descenders, italics).
    Straight rules (runs of ink over a twentieth of the page's width, across or down: header
    rules, frames of boxes, table rules) are not counted: the engine reads no text there.

    Example:
        >>> from crnn.realprint import Line, Word
        >>> gray = np.full((100, 400), 255, np.uint8); gray[10:20, 10:20] = 0; gray[60:70, 60:70] = 0
        >>> page = Page(400, 100, (Line(10, 10, 20, 20, (Word(10, 10, 20, 20, "ab"),)),))
        >>> round(uncovered_ink(gray, page, 72), 2)
        0.5
    """
    import cv2

    ink = (gray < INK_LEVEL).astype(np.uint8)
    k = max(15, gray.shape[1] // 20)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, k), np.uint8))
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((k, 1), np.uint8))
    ink = (ink > 0) & (rules == 0)
    total = int(ink.sum())
    if not total:
        return 0.0
    covered = np.zeros_like(ink)
    for line in page.lines:
        x0, y0, x1, y1 = realprint.scale_box(line.box, dpi)
        m = (y1 - y0) // 2
        covered[max(0, y0 - m):max(0, y1 + m), max(0, x0 - m):max(0, x1 + m)] = True
    return float((ink & ~covered).sum()) / total


def unprinted_share(gray: np.ndarray, page: Page, dpi: int) -> float:
    """Share of the text layer's characters in words whose box holds (almost) no ink.

    Any mark darker than ``VISIBLE_LEVEL`` counts here (light grey text is printed too).

    Example:
        >>> from crnn.realprint import Line, Word
        >>> gray = np.full((40, 100), 255, np.uint8); gray[10:20, 10:30] = 0
        >>> words = (Word(10, 10, 30, 20, "ab"), Word(40, 10, 80, 20, "cdef"))
        >>> unprinted_share(gray, Page(100, 40, (Line(10, 10, 80, 20, words),)), 72)
        0.6666666666666666
    """
    total = blank = 0
    for line in page.lines:
        for w in line.words:
            x0, y0, x1, y1 = realprint.scale_box((w.x0, w.y0, w.x1, w.y1), dpi)
            box = gray[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
            n = len(w.text)
            total += n
            if box.size == 0 or int((box < VISIBLE_LEVEL).sum()) < max(2, 0.01 * box.size):
                blank += n
    return blank / total if total else 0.0


def column_cuts(page: Page) -> list[float]:
    """The gutters (x in points) between columns of running text; empty for one column.

    A gutter is a vertical strip at least 8 pt wide that at most 5 % of the lines cross (a title
    or a header across the page may), with at least a fifth of the lines wholly on each side;
    the lines of each column must be long (median width over half the column's width), so the
    cells of a table or a column of line numbers make no column.

    Example:
        >>> from crnn.realprint import Line, Word
        >>> def ln(x0, x1, y):
        ...     return Line(x0, y, x1, y + 10, (Word(x0, y, x1, y + 10, "text"),))
        >>> two = Page(600, 800, tuple(ln(x, x + 240, y) for y in range(0, 400, 12) for x in (50, 310)))
        >>> column_cuts(two), column_cuts(Page(600, 800, tuple(ln(50, 550, y) for y in range(0, 400, 12))))
        ([300.0], [])
    """
    lines = [ln for ln in page.lines if sum(len(w.text) for w in ln.words) >= 3]
    if len(lines) < MIN_LINES:
        return []
    left, right = int(min(ln.x0 for ln in lines)), int(np.ceil(max(ln.x1 for ln in lines)))
    cover = np.zeros(right - left + 1, int)
    for ln in lines:
        cover[int(ln.x0) - left:int(np.ceil(ln.x1)) - left] += 1
    open_ = cover <= 0.05 * len(lines)
    cuts: list[float] = []
    x = 0
    while x < len(open_):
        if not open_[x]:
            x += 1
            continue
        end = x
        while end < len(open_) and open_[end]:
            end += 1
        if end - x >= 8 and 0 < x and end < len(open_):
            cuts.append(left + (x + end) / 2)
        x = end
    edges = [float(left), *cuts, float(right)]
    for a, b in zip(edges, edges[1:]):
        group = [ln for ln in lines if a <= ln.x0 and ln.x1 <= b]
        if len(group) < 0.2 * len(lines) or float(np.median([ln.x1 - ln.x0 for ln in group])) <= 0.5 * (b - a):
            return []
    return cuts


def count_columns(page: Page) -> int:
    """Columns of running text: 1 + the page's :func:`column_cuts`."""
    return len(column_cuts(page)) + 1


def column_switches(page: Page, cuts: Sequence[float]) -> int:
    """How often the text layer's order goes from one column to another (lines across a gutter skipped).

    Example:
        >>> from crnn.realprint import Line, Word
        >>> def ln(x, y):
        ...     return Line(x, y, x + 200, y + 10, (Word(x, y, x + 200, y + 10, "text"),))
        >>> by_column = Page(600, 800, tuple(ln(x, y) for x in (50, 310) for y in range(0, 100, 12)))
        >>> by_row = Page(600, 800, tuple(ln(x, y) for y in range(0, 100, 12) for x in (50, 310)))
        >>> column_switches(by_column, [280.0]), column_switches(by_row, [280.0])
        (1, 17)
    """
    edges = [-np.inf, *cuts, np.inf]
    seq = []
    for ln in page.lines:
        col = next((k for k, (a, b) in enumerate(zip(edges, edges[1:])) if a <= ln.x0 and ln.x1 <= b), None)
        if col is not None:
            seq.append(col)
    return sum(1 for a, b in zip(seq, seq[1:]) if a != b)


def page_problem(page: Page, lines: Sequence[str], gray: np.ndarray | None, dpi: int,
                 images: Sequence[tuple[int, int]] = (), fonts: Sequence[tuple[str, bool]] = (),
                 warnings: Sequence[str] = ()) -> str | None:
    """Why a page is dropped (the module's list), or None; ``gray=None`` skips the ink checks.

    Example:
        >>> page_problem(Page(0, 0, ()), ["a line"] * 5, None, 150, warnings=["Missing language pack"])
        'font-not-drawn'
    """
    if any(min(wh) > MAX_IMAGE_SIDE for wh in images):
        return "figure"
    if not all(embedded for _, embedded in fonts):
        return "font-not-embedded"
    if warnings:
        return "font-not-drawn"
    why = text_layer_problem(page, lines)
    if why:
        return why
    cuts = column_cuts(page)
    if not cuts and side_by_side_share(page) > MAX_SIDE_BY_SIDE:
        return "side-by-side"
    if cuts and column_switches(page, cuts) > 2 * len(cuts) + 2:
        return "interleaved-columns"
    if gray is None:
        return None
    if uncovered_ink(gray, page, dpi) > MAX_UNCOVERED_INK:
        return "figure"
    if unprinted_share(gray, page, dpi) > MAX_UNPRINTED:
        return "not-printed"
    return None


def page_lang(lines: Sequence[str]) -> str:
    """``zh`` when at least :data:`ZH_SHARE` of the non-space characters are CJK, else ``en``.

    Example:
        >>> page_lang(["第一章 绪论", "Intro"]), page_lang(["The ctex bundle (中文)", "typesets Chinese."])
        ('zh', 'en')
    """
    chars = [c for t in lines for c in t if not c.isspace()]
    cjk = sum(1 for c in chars if is_cjk(c))
    return "zh" if chars and cjk >= ZH_SHARE * len(chars) else "en"


def page_tags(page: Page, lines: Sequence[str]) -> tuple[str, ...]:
    """``real``, the page's language (:func:`page_lang`) and ``cols=N``.

    Example:
        >>> page_tags(Page(600, 800, ()), ["第一章", "Intro"])
        ('real', 'zh', 'cols=1')
    """
    return ("real", page_lang(lines), f"cols={count_columns(page)}")


def choose_documents(docs: Sequence[tuple[str, str, Path]], max_docs: int) -> list[tuple[str, str, Path]]:
    """The ``dev`` documents of ``find_documents``, at most ``max_docs`` per package (evenly picked, 0: all).

    Example:
        >>> docs = [("p", f"p/d{i}.pdf", Path(f"d{i}.pdf")) for i in range(40)]
        >>> [d[1] for d in choose_documents(docs, 2)]
        ['p/d13.pdf', 'p/d23.pdf']
    """
    dev = sorted(d for d in docs if realprint.split_of(d[1]) == "dev")
    by_pkg: dict[str, list[tuple[str, str, Path]]] = {}
    for d in dev:
        by_pkg.setdefault(d[0], []).append(d)
    return [d for pkg in sorted(by_pkg) for d in realprint.pick_evenly(by_pkg[pkg], max_docs)]


def pick_pages(path: Path, doc_id: str, n_pages: int, k: int, tools: PdfTools, dpi: int,
               log: BuildLog) -> list[tuple[int, list[str], tuple[str, ...], np.ndarray]]:
    """Up to ``k`` usable pages of one document: ``(page, truth lines, tags, gray render)``.

    Candidates are ``CANDIDATES * k`` pages spread through the document (the title page left
    out); the usable ones are picked evenly from them.
    """
    usable = []
    for p in realprint.spread_pages(n_pages, CANDIDATES * k):
        page = tools.text(path, p)
        lines = truth_lines(page)
        why = page_problem(page, lines, None, dpi, tools.images(path, p), tools.fonts(path, p),
                           tools.warnings(path, p))
        gray = None
        if why is None:
            gray = tools.render(path, p, dpi)
            why = page_problem(page, lines, gray, dpi)
        if why:
            log.dropped[why] += 1
            log.dropped_pages.append((doc_id, p, why))
            continue
        usable.append((p, lines, page_tags(page, lines), gray))
    return realprint.pick_evenly(usable, k)


def build_real_pages(pkgs: Path, out: Path, *, dpi: int = DPI, pages_per_doc: int = PAGES_PER_DOC,
                     max_docs: int = MAX_DOCS, tools: PdfTools | None = None,
                     log: Callable[[str], None] | None = None) -> Path:
    """Write ``out/pages/*.png``, ``out/pages.tsv`` and ``out/summary.json``; return the ``pages.tsv`` path.

    Args:
        pkgs: The unpacked packages (``<package>/usr/share/doc/...``).
        out: Output folder (its ``pages/`` is replaced).
        dpi: Render resolution.
        pages_per_doc: Pages kept per document at most.
        max_docs: Documents per package at most (0: all of the dev split).
        tools: The PDF operations (default: poppler).
        log: Called with one line per document.
    """
    import cv2

    poppler = realprint.tool_version() if tools is None else "(tools given)"
    tools = tools or PdfTools()
    docs = choose_documents(realprint.find_documents(pkgs), max_docs)
    versions = realprint.deb_versions(pkgs.parent / "debs")
    if (out / "pages").is_dir():
        shutil.rmtree(out / "pages")
    (out / "pages").mkdir(parents=True)
    built = BuildLog()
    for pkg, doc_id, path in docs:
        try:
            n_pages = tools.n_pages(path)
            picked = pick_pages(path, doc_id, n_pages, pages_per_doc, tools, dpi, built)
        except (RuntimeError, ET.ParseError, subprocess.TimeoutExpired) as err:  # a PDF poppler cannot read
            built.dropped["error"] += 1
            built.dropped_pages.append((doc_id, 0, f"error: {str(err)[:120]}"))
            continue
        for p, lines, tags, gray in picked:
            image = f"pages/{realprint.doc_slug(doc_id)}_p{p:04d}.png"
            cv2.imwrite(str(out / image), gray)
            built.pages.append(RealPage(pkg, doc_id, p, n_pages, image, lines, tags))
        if log:
            log(f"{doc_id}: {len(picked)} of {n_pages} pages")
    rows = []
    for kept in built.pages:
        provenance = f"{kept.package} {versions.get(kept.package, '?')} {kept.doc_id.split('/', 1)[1]}#{kept.page}"
        notes = f"page {kept.page} of {kept.n_pages}; {dpi} dpi; pdftotext reading order"
        rows += [(kept.image, i, text, provenance, notes, ";".join(kept.tags)) for i, text in enumerate(kept.lines, 1)]
    labels = out / "pages.tsv"
    write_tsv(labels, rows, header=COLUMNS)
    summary = {
        "dpi": dpi, "pages_per_doc": pages_per_doc, "max_docs": max_docs, "candidates_per_page": CANDIDATES,
        "poppler": poppler, "packages": versions,
        "documents": len(docs), "pages": len(built.pages), "lines": len(rows),
        "by_tag": dict(sorted(Counter(t for kept in built.pages for t in kept.tags).items())),
        "dropped": dict(built.dropped.most_common()),
        "dropped_pages": [f"{d}#{p}: {why}" for d, p, why in built.dropped_pages],
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return labels
