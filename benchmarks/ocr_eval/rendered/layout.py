"""Layout primitives of the rendered pages: faces, truth lines with their boxes, and column flow.

A :class:`Page` is what the drawing step needs (text pieces, shaded boxes, rules, figure boxes) and,
in :attr:`Page.lines`, the truth: one :class:`Line` per printed line, in the true reading order
(the order the page builders place them). Boxes are ink boxes in upright page pixels.

Example:
    >>> Rect(110, 300, 598, 325).width
    488
"""

from __future__ import annotations

import functools
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from crnn.fonts import CODE_FONTS, FONT_ROOT, TRAINING_FONTS, FontSpec, load_fonts
from ocr_eval.rendered.text import units_zh, wrap_units

PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
PT = 150 / 72  # pixels per point

# Faces by role and language (names as in crnn.fonts); a page draws from these.
FACES = {
    ("zh", "body"): ("NotoSerifCJK-Regular", "NotoSansCJK-Regular", "uming", "wqy-zenhei", "LXGWWenKai-Regular",
                     "wqy-microhei"),
    ("zh", "bold"): ("NotoSansCJK-Bold", "NotoSerifCJK-Bold", "LXGWWenKai-Bold"),
    ("zh", "caption"): ("LXGWWenKai-Regular", "ukai", "NotoSansCJK-Regular", "LXGWWenKai-Light"),
    ("zh", "mono"): ("NotoSansMonoCJK-Regular", "LXGWWenKaiMono-Regular", "wqy-microhei-mono"),
    ("en", "body"): ("DejaVuSerif", "LiberationSerif-Regular", "NotoSerif-Regular", "LiberationSans-Regular",
                     "NotoSans-Regular", "DejaVuSans"),
    ("en", "bold"): ("DejaVuSans-Bold", "LiberationSans-Bold", "LiberationSerif-Bold", "NotoSans-Bold"),
    ("en", "caption"): ("LiberationSerif-Italic", "NotoSerif-Italic", "DejaVuSerif-Italic", "LiberationSans-Italic",
                        "NotoSans-Italic"),
    ("en", "mono"): ("DejaVuSansMono", "LiberationMono-Regular", "NotoSansMonoCJK-Regular"),
}


@functools.cache
def font_spec(name: str) -> FontSpec | None:
    """The installed face of that name (crnn.fonts lists), with its coverage; ``None`` if missing."""
    for spec in (*TRAINING_FONTS, *CODE_FONTS):
        rel, index, *given = spec
        if (given[0] if given else Path(rel).stem) == name:
            found = load_fonts((spec,), str(FONT_ROOT), required=False)
            return found[0] if found else None
    return None


@functools.cache
def _pil_font(path: str, index: int, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size=size, index=index)


@dataclass(frozen=True)
class Face:
    """A font face at a pixel size."""

    spec: FontSpec
    size: int

    @property
    def font(self):
        return _pil_font(self.spec.path, self.spec.index, self.size)

    def width(self, text: str) -> float:
        return self.font.getlength(text)

    @property
    def cjk(self) -> bool:
        return self.spec.cjk

    def at(self, size: int) -> Face:
        return Face(self.spec, max(8, int(round(size))))


def pick_face(rng: random.Random, lang: str, role: str, size: float) -> Face:
    """A random installed face of the role (a font of another role if none is installed)."""
    names = list(FACES[(lang, role)])
    rng.shuffle(names)
    for name in [*names, *FACES[(lang, "body")]]:
        spec = font_spec(name)
        if spec is not None:
            return Face(spec, int(round(size)))
    raise FileNotFoundError(f"no {lang} fonts installed under {FONT_ROOT}")


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box ``[x0, x1) x [y0, y1)`` in page pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Piece:
    """A string drawn with its left baseline point at ``(x, y)``."""

    x: float
    y: float
    text: str
    face: Face
    fill: tuple[int, int, int]


@dataclass
class Line:
    """One truth line: its text, role (``body``, ``heading``, ``toc``, ``code``...), column (0: spans)."""

    text: str
    role: str
    col: int
    pieces: list[Piece]
    box: Rect


@dataclass
class Page:
    """Everything on one upright page."""

    lang: str
    lines: list[Line] = field(default_factory=list)
    shades: list[tuple[Rect, tuple[int, int, int]]] = field(default_factory=list)
    rules: list[tuple[Rect, tuple[int, int, int]]] = field(default_factory=list)
    figures: list[Rect] = field(default_factory=list)
    columns: list[list[tuple[int, int]]] = field(default_factory=list)  # x ranges of each column band
    tags: list[str] = field(default_factory=list)

    def tag(self, *names: str) -> None:
        for name in names:
            if name not in self.tags:
                self.tags.append(name)


def ink_box(pieces: list[Piece]) -> Rect:
    """Union of the pieces' ink boxes."""
    boxes = []
    for p in pieces:
        l, t, r, b = p.face.font.getbbox(p.text, anchor="ls")
        boxes.append((p.x + l, p.y + t, p.x + r, p.y + b))
    return Rect(int(min(b[0] for b in boxes)), int(min(b[1] for b in boxes)),
                int(round(max(b[2] for b in boxes))), int(round(max(b[3] for b in boxes))))


@dataclass
class Draft:
    """A wrapped line not yet placed: its units, face and how to set it."""

    units: list[str]
    face: Face
    role: str
    indent: float = 0.0
    justify: bool = False
    align: str = "left"  # left, center, right
    fill: tuple[int, int, int] = (20, 20, 20)
    truth: str | None = None  # the truth when it is not the printed units (a letter-spaced title)

    @property
    def sep(self) -> str:
        return "" if self.face.cjk and self.role != "code" else " "

    @property
    def text(self) -> str:
        return self.truth if self.truth is not None else " ".join(self.sep.join(self.units).split())


def wrap(text: str, face: Face, width: float, role: str, *, indent: float = 0.0, justify: bool = False,
         align: str = "left", fill: tuple[int, int, int] = (20, 20, 20)) -> list[Draft]:
    """Break ``text`` into drafts of ``width`` pixels; Chinese per character, English per word."""
    cjk = face.cjk and any("\u4e00" <= c <= "\u9fff" for c in text)
    units = units_zh(text) if cjk else text.split()
    sep = "" if cjk else " "
    lines = wrap_units(units, sep, face.width, width, indent, cjk=cjk)
    out = []
    for i, units_i in enumerate(lines):
        last = i == len(lines) - 1
        out.append(Draft(units_i, face, role, indent if i == 0 else 0.0, justify and not last, align, fill))
    return out


def set_line(d: Draft, x0: float, width: float, baseline: float, col: int) -> Line:
    """Place a draft in ``[x0, x0 + width)`` on ``baseline``: aligned, or justified when asked."""
    face, avail = d.face, width - d.indent
    sep = d.sep
    natural = face.width(sep.join(d.units))
    pieces: list[Piece] = []
    if d.justify and len(d.units) > 1 and natural < avail:
        widths = [face.width(u) for u in d.units]
        extra = (avail - sum(widths)) / (len(d.units) - 1)
        if extra <= (1.6 if sep else 0.6) * face.size:
            x = x0 + d.indent
            for u, w in zip(d.units, widths):
                pieces.append(Piece(x, baseline, u, face, d.fill))
                x += w + extra
    if not pieces:
        shift = {"left": 0.0, "center": (avail - natural) / 2, "right": avail - natural}[d.align]
        pieces = [Piece(x0 + d.indent + max(0.0, shift), baseline, sep.join(d.units), face, d.fill)]
    return Line(d.text, d.role, col, pieces, ink_box(pieces))


@dataclass
class Row:
    """One step of a column flow: a line, a gap, or a block kept together (heading, figure, code)."""

    height: float
    drafts: list[Draft] = field(default_factory=list)
    pitch: float = 0.0
    before: float = 0.0  # space above the first line (headings, blocks)
    keep: int = 0  # body lines that must follow in the same column
    figure: float = 0.0  # height of a figure above the drafts (its caption)
    after: float = 0.0  # space below the row
    fig_width: float = 0.0  # its width (0: the column's); figure and caption are centred
    shade: tuple[int, int, int] | None = None  # code blocks: box colour
    pad: float = 0.0  # code blocks: inner padding
    gap: bool = False


class Builder:
    """Places rows and lines on a page; ``y`` is the top of the next free slot."""

    def __init__(self, page: Page, x0: int, x1: int, y0: int, y1: int):
        self.page, self.x0, self.x1, self.y, self.bottom = page, x0, x1, float(y0), float(y1)

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @staticmethod
    def baseline(top: float, pitch: float, face: Face) -> float:
        ascent, descent = face.font.getmetrics()
        return top + (pitch - ascent - descent) / 2 + ascent

    def put(self, drafts: list[Draft], pitch: float, x0: float | None = None, width: float | None = None,
            col: int = 0, top: float | None = None) -> float:
        """Set drafts one per slot from ``top`` (default: ``self.y``); return the y below them."""
        y = self.y if top is None else top
        x0 = self.x0 if x0 is None else x0
        width = self.width if width is None else width
        for d in drafts:
            self.page.lines.append(set_line(d, x0, width, self.baseline(y, pitch, d.face), col))
            y += pitch
        if top is None:
            self.y = y
        return y

    def place_row(self, row: Row, x0: float, width: float, y: float, col: int) -> float:
        """Draw one row at ``y`` in a column; return the y below it."""
        y += row.before
        if row.figure:
            if row.fig_width and row.fig_width < width:
                x0, width = x0 + (width - row.fig_width) / 2, row.fig_width
            self.page.figures.append(Rect(int(x0), int(y), int(x0 + width), int(y + row.figure)))
            y += row.figure + 0.5 * row.pitch
        if row.shade is not None:
            h = row.pad * 2 + row.pitch * len(row.drafts)
            self.page.shades.append((Rect(int(x0), int(y), int(x0 + width), int(y + h)), row.shade))
            y = self.put(row.drafts, row.pitch, x0 + row.pad, width - 2 * row.pad, col, y + row.pad) + row.pad
            return y + row.after
        return self.put(row.drafts, row.pitch, x0, width, col, y) + row.after

    def flow(self, rows: Iterator[Row], cols: list[tuple[int, int]], top: float, bottom: float,
             band_height: float | None = None, inserts: dict[int, tuple[int, Row]] | None = None) -> float:
        """Fill the columns with rows, column by column; return the lowest y used.

        With ``band_height`` a column ends once it is that tall (a band above another band);
        otherwise at ``bottom``. A row that does not fit starts the next column; a column never starts
        with a gap; the flow stops when the last column is full. ``inserts[c] = (n, row)`` places
        ``row`` (a figure) in column ``c`` (0-based) after its first ``n`` rows.
        """
        self.page.columns.append(list(cols))
        limit = bottom if band_height is None else min(bottom, top + band_height)
        inserts = dict(inserts or {})
        queue: deque[Row] = deque()
        ci, y, lowest, placed, boundary = 0, top, top, 0, True
        while ci < len(cols):
            if ci in inserts and placed >= inserts[ci][0] and boundary:
                queue.appendleft(inserts.pop(ci)[1])
            row = queue.popleft() if queue else next(rows, None)
            if row is None:
                break
            if row.gap:
                y = y + row.height if y > top else y
                boundary = True
                continue
            need = row.before + row.height + row.keep * row.pitch
            if y + need > limit + 0.5 and (y > top or y + row.height > bottom):
                if ci in inserts and ci + 1 < len(cols):  # a figure not placed yet: the next column
                    inserts.setdefault(ci + 1, (0, inserts.pop(ci)[1]))
                ci, y, placed, boundary = ci + 1, top, 0, True
                queue.appendleft(row)
                continue
            boundary = False
            if y == top and row.before:
                row = replace(row, before=0.0)
            x0, x1 = cols[ci]
            y = self.place_row(row, x0, x1 - x0, y, ci + 1)
            placed += 1
            lowest = max(lowest, y)
        return lowest


def line_rows(drafts: list[Draft], pitch: float) -> list[Row]:
    """One row per line."""
    return [Row(pitch, [d], pitch) for d in drafts]
