"""The page kinds: what each one puts where, in the true reading order.

Each builder fills a :class:`~ocr_eval.rendered.layout.Page` through a
:class:`~ocr_eval.rendered.layout.Builder`: spanning titles and headings before the columns they
head, columns left to right and each top to bottom, captions after their figure; the running header
is placed first and the footer last (:func:`layout_page`).

Example:
    >>> roman(14)
    'xiv'
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from crnn import codetext
from ocr_eval.rendered.layout import (
    PAGE_H,
    PAGE_W,
    PT,
    Builder,
    Draft,
    Face,
    Line,
    Page,
    Piece,
    Rect,
    Row,
    ink_box,
    line_rows,
    pick_face,
    wrap,
)
from ocr_eval.rendered.text import Corpus, TextSource, charset_ok, zh_number

KINDS = ("cols1", "cols2", "cols3", "cols4", "figure", "toc", "code")
INK = (22, 22, 22)


def roman(n: int) -> str:
    """Lower-case Roman numeral."""
    out = ""
    for value, sym in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + sym, n - value
    return out


@dataclass
class Style:
    """The faces and spacing of one page."""

    lang: str
    body: Face
    bold: Face
    caption: Face
    mono: Face
    pitch: float
    justify: bool
    indent: float
    para_gap: float
    rng: random.Random
    src: TextSource
    numbers: str = "arabic"  # heading numbers: arabic (1, 1.2), zh (一、, （二）) or none ("")


def make_style(rng: random.Random, corpus: Corpus, lang: str, pt: tuple[float, float] = (10, 12)) -> Style:
    size = rng.uniform(*pt) * PT
    body = pick_face(rng, lang, "body", size)
    bold = pick_face(rng, lang, "bold", size)
    caption = pick_face(rng, lang, "caption", size * 0.9)
    mono = pick_face(rng, lang, "mono", size * 0.88)
    lead = rng.uniform(1.5, 1.75) if lang == "zh" else rng.uniform(1.22, 1.42)
    justify = rng.random() < (0.85 if lang == "zh" else 0.5)
    indent = 2 * body.size if lang == "zh" else (1.5 * body.size if rng.random() < 0.6 else 0.0)
    gap = rng.choice((0.0, 0.3, 0.5)) * size if indent else 0.6 * size
    src = TextSource(corpus, lang, rng, lambda text: all(f.spec.covers(text) for f in (body, bold, caption)))
    numbers = rng.choice(("arabic", "zh", "zh")) if lang == "zh" else rng.choice(("arabic", "arabic", ""))
    return Style(lang, body, bold, caption, mono, round(size * lead), justify, indent, gap, rng, src, numbers)


# -- text rows --------------------------------------------------------------------------------------
def numbered(st: Style, level: int, n: tuple[int, ...], text: str) -> str:
    """A heading with its number in the page's style (Chinese or English)."""
    if not st.numbers:
        return text
    if st.lang == "zh" and st.numbers == "zh":
        return f"{zh_number(n[0])}、{text}" if level == 1 else f"（{zh_number(n[-1])}）{text}"
    return f"{'.'.join(map(str, n))} {text}"


def heading_row(st: Style, text: str, width: float, size: float, *, face: Face | None = None,
                align: str = "left", before: float | None = None) -> Row:
    face = (face or st.bold).at(size)
    pitch = round(face.size * 1.35)
    drafts = wrap(text, face, width, "heading", align=align, fill=INK)
    return Row(pitch * len(drafts), drafts, pitch, st.pitch * 0.7 if before is None else before, keep=2)


def para_rows(st: Style, width: float, max_chars: int | None = None) -> Iterator[Row]:
    """The rows of one paragraph and the gap after it."""
    drafts = wrap(st.src.paragraph(max_chars), st.body, width, "body", indent=st.indent, justify=st.justify,
                  fill=INK)
    yield from line_rows(drafts, st.pitch)
    yield Row(st.para_gap, gap=True)


def sections(st: Style, width: float, head_size: float, paras: tuple[int, int] = (2, 4),
             first_heading: bool = True, numbers: bool = True) -> Iterator[Row]:
    """Endless sections: a heading (numbered 1, 1.1, ...) then a few paragraphs."""
    major, minor = 0, 0
    first = True
    while True:
        if not first or first_heading:
            if major == 0 or st.rng.random() < 0.4:
                major, minor = major + 1, 0
                level, n = 1, (major,)
            else:
                minor += 1
                level, n = 2, (major, minor)
            text = st.src.heading(12 if st.lang == "zh" else 40)
            text = numbered(st, level, n, text) if numbers else text
            yield heading_row(st, text, width, head_size * (1.0 if level == 1 else 0.9))
        first = False
        for _ in range(st.rng.randint(*paras)):
            yield from para_rows(st, width)


def caption_text(st: Style, n: int) -> str:
    head = st.src.heading(12 if st.lang == "zh" else 40)
    tail = st.src.paragraph(32 if st.lang == "zh" else 110) if st.rng.random() < 0.35 else ""
    tail = tail if len(tail) <= (32 if st.lang == "zh" else 120) else ""
    if st.lang == "zh":
        return f"图{n}：{head}" + (f"。{tail}" if tail else "")
    return f"{st.rng.choice(('Figure', 'Fig.'))} {n}{st.rng.choice(('.', ':'))} {head}" + (f". {tail}" if tail else "")


def figure_row(st: Style, col_width: float, height: float, fig_width: float = 0.0, n: int = 1) -> Row:
    fw = fig_width or col_width
    face = st.caption
    pitch = round(face.size * 1.35)
    drafts = wrap(caption_text(st, n), face, fw, "caption", align="center" if fig_width else "left", fill=INK)
    return Row(height + 0.5 * st.pitch + pitch * len(drafts) + 0.6 * st.pitch, drafts, pitch, before=0.5 * st.pitch,
               figure=height, fig_width=fig_width, after=0.6 * st.pitch)


def code_lines(st: Style, n: int, width: float) -> list[tuple[int, str]]:
    """``(indent in spaces, text)`` lines of a shell session or a config file, fitting ``width``."""
    rng, out = st.rng, []

    def word(r: random.Random) -> str:
        return st.src.corpus.word(r)

    shell = rng.random() < 0.55
    if not shell:
        out.append((0, f"[{word(rng)}]"))
    while len(out) < n:
        r = rng.random()
        if shell:
            if r < 0.15:
                comment = st.src.heading(10) if st.lang == "zh" else " ".join(word(rng) for _ in range(rng.randint(2, 4)))
                text = f"# {comment}"
            elif r < 0.3:
                text = f"$ cd {codetext.path(rng, word)}"
            elif r < 0.45:
                text = f"$ pip install --upgrade {word(rng)}=={rng.randint(0, 9)}.{rng.randint(0, 20)}"
            elif r < 0.6:
                text = f"$ export {codetext.ident(rng, word).upper()}=/opt/{word(rng)}"
            elif r < 0.75:
                text = f"$ python3 -m {word(rng)} {codetext.option(rng, word)}"
            elif r < 0.85:
                text = f"$ grep -rn {word(rng)} {codetext.path(rng, word)}"
            else:
                text = f"$ {rng.choice(('ls -la', 'cat', 'tail -n 20', 'chmod 644'))} {codetext.path(rng, word)}"
            indent = 0
        else:
            key = codetext.ident(rng, word)
            value = rng.choice((str(rng.randint(1, 9999)), "true", "false", word(rng), codetext.path(rng, word),
                                f"{rng.randint(1, 60)}s", codetext.url(rng, word)))
            text = rng.choice((f"{key} = {value}", f"{key}={value}", f"{key}: {value}"))
            if rng.random() < 0.15:
                comment = st.src.heading(8) if st.lang == "zh" else word(rng)
                text = f"# {comment}"
            indent = 4 if rng.random() < 0.2 else 0
        text = " ".join(text.split())
        if charset_ok(text) and st.mono.spec.covers(text) and st.mono.width(" " * indent + text) <= width:
            out.append((indent, text))
    return out


def code_row(st: Style, width: float) -> Row:
    pad = round(0.7 * st.body.size)
    pitch = round(st.mono.size * 1.4)
    lines = code_lines(st, st.rng.randint(3, 8), width - 2 * pad)
    space = st.mono.width(" ")
    drafts = [Draft([t], st.mono, "code", indent=i * space, fill=(30, 30, 30)) for i, t in lines]
    shade = (st.rng.randint(236, 246),) * 3
    return Row(2 * pad + pitch * len(drafts) + 0.4 * st.pitch, drafts, pitch, before=0.5 * st.pitch, shade=shade,
               pad=pad, after=0.4 * st.pitch)


# -- page parts -------------------------------------------------------------------------------------
def spanning_text(st: Style, face: Face, min_width: float, max_chars: int, tries: int = 30) -> str:
    """A heading text at least ``min_width`` wide in ``face`` (the widest of ``tries`` draws if none is).

    Titles and headings across columns are drawn wider than a column and its gutter, so that they
    cross a gutter and read as spanning (a short left-aligned one would sit inside the first column).
    """
    best = ""
    for _ in range(tries if min_width else 1):
        text = st.src.heading(max_chars)
        if face.width(text) >= min_width:
            return text
        best = max(best, text, key=face.width)
    return best


def title_block(b: Builder, st: Style, size: float, *, align: str = "center", deck: bool = False,
                min_width: float = 0.0) -> None:
    face = st.bold.at(size)
    text = spanning_text(st, face, min_width, 14 if st.lang == "zh" else 44)
    row = heading_row(st, text, b.width, size, align=align, before=0)
    b.put(row.drafts, row.pitch)
    if deck:
        sub = st.src.paragraph(40 if st.lang == "zh" else 100)
        sub = sub if len(sub) <= (44 if st.lang == "zh" else 110) else st.src.heading(14 if st.lang == "zh" else 44)
        face = st.caption.at(st.body.size * 1.25)
        if face.width(sub) >= min_width:
            b.put(wrap(sub, face, b.width, "heading", align=align, fill=(60, 60, 60)), round(face.size * 1.4))
    b.y += st.pitch * 0.8
    b.page.tag("title")


def columns(b: Builder, n: int, gutter: float) -> list[tuple[int, int]]:
    w = (b.width - (n - 1) * gutter) / n
    return [(round(b.x0 + i * (w + gutter)), round(b.x0 + i * (w + gutter) + w)) for i in range(n)]


def gutter_rules(b: Builder, cols: list[tuple[int, int]], top: float, bottom: float) -> None:
    for (_, a), (c, _) in zip(cols, cols[1:]):
        x = (a + c) // 2
        b.page.rules.append((Rect(x, int(top), x + 1, int(bottom)), (110, 110, 110)))


def hrule(b: Builder, y: float, weight: int = 2) -> None:
    b.page.rules.append((Rect(b.x0, int(y), b.x1, int(y) + weight), (60, 60, 60)))


# -- the kinds --------------------------------------------------------------------------------------
def build_cols1(b: Builder, st: Style) -> None:
    title_block(b, st, st.body.size * st.rng.uniform(1.7, 2.2), align=st.rng.choice(("center", "left")),
                deck=st.rng.random() < 0.4)
    b.flow(sections(st, b.width, st.body.size * 1.3), [(b.x0, b.x1)], b.y, b.bottom)
    b.page.tag("cols=1", "heading")


def build_cols2(b: Builder, st: Style, figure: bool = False) -> None:
    rng = st.rng
    title_block(b, st, st.body.size * rng.uniform(1.7, 2.1), align=rng.choice(("center", "left")))
    cols = columns(b, 2, st.body.size * rng.uniform(1.5, 3.0))
    cw = cols[0][1] - cols[0][0]
    inserts = {}
    if figure:
        if rng.random() < 0.5:  # a figure across both columns, under the title
            row = figure_row(st, b.width, rng.uniform(280, 420), b.width * rng.uniform(0.6, 0.9))
            b.y = b.place_row(replace_before(row), b.x0, b.width, b.y, 0) + st.pitch
        else:
            inserts = {rng.randrange(2): (rng.randint(0, 12), figure_row(st, cw, rng.uniform(200, 300)))}
    top = b.y
    band = (b.bottom - top) * rng.uniform(0.35, 0.55)
    low = b.flow(sections(st, cw, st.body.size * 1.15, first_heading=False, numbers=False), cols, top, b.bottom,
                 band, inserts)
    size = st.body.size * 1.4
    text = spanning_text(st, st.bold.at(size), cw * 0.6, 12 if st.lang == "zh" else 40)
    head = heading_row(st, numbered(st, 1, (2,), text), b.width, size, align="center", before=0)
    b.y = low + st.pitch * 0.8
    b.put(head.drafts, head.pitch)
    b.y += st.pitch * 0.4
    b.flow(sections(st, cw, st.body.size * 1.15, first_heading=False, numbers=False), cols, b.y, b.bottom)
    b.page.tag("cols=2", "heading")


def replace_before(row: Row) -> Row:
    return replace(row, before=0.0)


def _story(b: Builder, st: Style, cols: list[tuple[int, int]], head_size: float, rules: bool,
           band: float | None, inserts: dict | None = None) -> float:
    title_block(b, st, head_size, align="left", deck=st.rng.random() < 0.5, min_width=1.15 * (cols[1][1] - cols[0][0]))
    hrule(b, b.y - st.pitch * 0.5, 1)
    cw = cols[0][1] - cols[0][0]
    top = b.y
    rows = sections(st, cw, st.body.size * 1.1, paras=(2, 5), first_heading=False, numbers=False)
    low = b.flow(rows, cols, top, b.bottom, band, inserts)
    if rules:
        gutter_rules(b, cols, top, low)
    return low


def build_cols3(b: Builder, st: Style) -> None:
    rng = st.rng
    cols = columns(b, 3, st.body.size * rng.uniform(1.0, 1.5))
    rules = rng.random() < 0.5
    if rng.random() < 0.5:
        low = _story(b, st, cols, st.body.size * rng.uniform(2.0, 2.6), rules, (b.bottom - b.y) * rng.uniform(0.4, 0.55))
        hrule(b, low + st.pitch * 0.5, 2)
        b.y = low + st.pitch * 1.3
        _story(b, st, cols, st.body.size * rng.uniform(1.5, 1.8), rules, None)
    else:
        _story(b, st, cols, st.body.size * rng.uniform(2.0, 2.6), rules, None)
    b.page.tag("cols=3", "heading")


def build_cols4(b: Builder, st: Style) -> None:
    rng = st.rng
    cols = columns(b, 4, st.body.size * rng.uniform(0.9, 1.3))
    cw = cols[0][1] - cols[0][0]
    fig = figure_row(st, cw, rng.uniform(160, 300))
    _story(b, st, cols, st.body.size * rng.uniform(2.2, 2.8), rng.random() < 0.3, None,
           {rng.randrange(4): (rng.randint(0, 20), fig)})
    b.page.tag("cols=4", "heading")


def build_figure(b: Builder, st: Style) -> None:
    rng = st.rng
    if rng.random() < 0.5:
        build_cols2(b, st, figure=True)
        return
    title_block(b, st, st.body.size * rng.uniform(1.6, 2.0), align="left")
    rows = sections(st, b.width, st.body.size * 1.25)
    fig = figure_row(st, b.width, rng.uniform(320, 520), b.width * rng.uniform(0.55, 0.9))
    b.flow(rows, [(b.x0, b.x1)], b.y, b.bottom, None, {0: (rng.randint(3, 14), fig)})
    b.page.tag("cols=1", "heading")


def build_code(b: Builder, st: Style) -> None:
    rng = st.rng
    title_block(b, st, st.body.size * rng.uniform(1.6, 2.0), align="left")

    def rows() -> Iterator[Row]:
        for row in sections(st, b.width, st.body.size * 1.25, paras=(1, 2)):
            yield row
            if row.gap and rng.random() < 0.45:
                yield code_row(st, b.width)

    b.flow(rows(), [(b.x0, b.x1)], b.y, b.bottom)
    b.page.tag("cols=1", "heading")


def build_toc(b: Builder, st: Style) -> None:
    rng, zh = st.rng, st.lang == "zh"
    face = st.body
    title = rng.choice(("目录", "目 录")) if zh else rng.choice(("Contents", "Table of Contents", "CONTENTS"))
    tface = st.bold.at(face.size * 1.9)
    b.put([Draft([title], tface, "heading", align=rng.choice(("center", "left")), fill=INK,
                 truth=title.replace(" ", "") if zh else title)], round(tface.size * 1.6))
    b.y += st.pitch
    pitch = round(face.size * rng.uniform(1.7, 2.1))
    leader = rng.choice(("…", "·", ".")) if zh else rng.choice((".", ". "))
    lead_face = face
    dot_pitch = lead_face.width("…") if leader == "…" else face.size * (0.5 if leader != ". " else 0.8)
    page_w = face.width("888")
    num_w = face.width("第八章" if zh else "8.88") + face.size
    chapter, page_no = 0, rng.randint(1, 9)
    sec_style = rng.random() < 0.5
    front = rng.random() < 0.5
    while b.y + pitch <= b.bottom:
        chapter_row = chapter == 0 or rng.random() < 0.3
        if front:  # an unnumbered entry first: preface, foreword
            num, text = "", rng.choice(("前言", "序言", "内容提要")) if zh else rng.choice(("Preface", "Foreword"))
            f, indent, dots, front = st.bold.at(face.size * 1.05), 0.0, True, False
            pn = str(page_no) if zh else roman(page_no)
        elif chapter_row:
            chapter, sec = chapter + 1, 0
            num = f"第{zh_number(chapter)}章" if zh else str(chapter)
            f, indent, dots = st.bold.at(face.size * 1.05), 0.0, rng.random() < 0.5
            page_no += rng.randint(1, 4)
            b.y += pitch * 0.3
            text, pn = st.src.heading(12 if zh else 34), str(page_no)
        else:
            sec += 1
            num = (f"第{zh_number(sec)}节" if sec_style else f"{chapter}.{sec}") if zh else f"{chapter}.{sec}"
            f, indent, dots = face, face.size * 1.5, True
            page_no += rng.randint(1, 6)
            text, pn = st.src.heading(12 if zh else 34), str(page_no)
        if b.y + pitch > b.bottom:
            break
        base = b.baseline(b.y, pitch, f)
        x_num = b.x0 + indent
        x_title = x_num + num_w if num else x_num
        pieces = [Piece(x_num, base, num, f, INK)] if num else []
        pieces.append(Piece(x_title, base, text, f, INK))
        pieces.append(Piece(b.x1 - f.width(pn), base, pn, f, INK))
        if dots:
            start, end = x_title + f.width(text) + face.size * 0.6, b.x1 - page_w - face.size * 0.5
            k = int(start // dot_pitch) + 1
            while (k + 1) * dot_pitch <= end:
                pieces.append(Piece(k * dot_pitch, base, leader.strip(), lead_face, INK))
                k += 1
        b.page.lines.append(Line(" ".join(p for p in (num, text, pn) if p), "toc", 0, pieces, ink_box(pieces)))
        b.y += pitch
    b.page.tag("toc")


BUILDERS = {"cols1": build_cols1, "cols2": build_cols2, "cols3": build_cols3, "cols4": build_cols4,
            "figure": build_figure, "toc": build_toc, "code": build_code}


# -- header, footer, the page -----------------------------------------------------------------------
def _page_number(rng: random.Random, lang: str, n: int) -> str:
    if lang == "zh":
        return rng.choice((str(n), f"— {n} —", f"第{n}页", f"- {n} -"))
    return rng.choice((str(n), f"— {n} —", f"Page {n}", f"- {n} -"))


def layout_page(kind: str, lang: str, rng: random.Random, corpus: Corpus, *, header: bool, footer: bool) -> Page:
    """Lay out one upright page of ``kind`` in ``lang`` with its truth lines in reading order."""
    page = Page(lang)
    page.tag(lang)
    pt = (9.6, 10.4) if kind == "cols4" else (10, 11.5) if kind == "cols3" else (10, 12)
    st = make_style(rng, corpus, lang, pt)
    ml, mr = rng.randint(100, 135), rng.randint(100, 135)
    top, bottom = rng.randint(120, 160), rng.randint(120, 160)
    b = Builder(page, ml, PAGE_W - mr, top, PAGE_H - bottom)
    small = st.body.at(st.body.size * 0.85)
    spitch = round(small.size * 1.4)
    page_no = rng.randint(2, 240)
    if header:
        doc = st.src.heading(14 if lang == "zh" else 40)
        left = [Draft([doc], small, "header", fill=(70, 70, 70))]
        if rng.random() < 0.6:
            right = st.src.heading(10 if lang == "zh" else 30)
            right = f"第{zh_number(rng.randint(1, 12))}章 {right}" if lang == "zh" and rng.random() < 0.5 else right
        else:
            right = str(page_no)
        b.put(left, spitch, top=top - 62)
        b.put([Draft([right], small, "header", align="right", fill=(70, 70, 70))], spitch, top=top - 62)
        page.rules.append((Rect(ml, top - 62 + spitch + 4, PAGE_W - mr, top - 62 + spitch + 5), (90, 90, 90)))
        page.tag("header")
    BUILDERS[kind](b, st)
    if footer:
        y = PAGE_H - bottom + 38
        num = _page_number(rng, lang, page_no) if kind != "toc" or lang == "zh" else roman(rng.randint(2, 12))
        if rng.random() < 0.7:
            b.put([Draft([num], small, "footer", align="center", fill=(70, 70, 70))], spitch, top=y)
        else:
            doc = st.src.heading(14 if lang == "zh" else 40)
            b.put([Draft([doc], small, "footer", fill=(70, 70, 70))], spitch, top=y)
            b.put([Draft([num], small, "footer", align="right", fill=(70, 70, 70))], spitch, top=y)
        page.tag("footer")
    page.lines = [ln for ln in page.lines if ln.text]
    roles = {ln.role for ln in page.lines}
    if page.figures:
        page.tag("figure")
    for role in ("caption", "code"):
        if role in roles:
            page.tag(role)
    if any(r.height > r.width for r, _ in page.rules):
        page.tag("rule")
    return page

