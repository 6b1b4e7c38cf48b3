"""A photo of an open book's page: paragraphs of the corpus, a running head, a spine shadow.

The page is cream paper with a running head (the book's title and the page number, two lines)
over paragraphs of one language, left aligned: Chinese indented two characters, English not.
Each printed line ends where its text is in the scene's split (:func:`break_lines`), so the
right margin is ragged by a character or a word. The spine side darkens in a soft band; the
page lies on a table, shot at an angle.

Example:
    >>> break_lines(list("abcdefgh"), "", lambda s: 10.0 * len(s), 45, accept=lambda s: s != "abcd")
    [['a', 'b', 'c'], ['d', 'e', 'f', 'g'], ['h']]
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from ocr_eval.rendered.text import NO_START, load_corpus, units_zh
from ocr_eval.scenes.canvas import Canvas, Run
from ocr_eval.scenes.parts import Card, en_face, fits, zh_face
from ocr_eval.scenes.texts import SceneText
from ocr_eval.scenes.textures import paper


def break_lines(units: list[str], sep: str, measure: Callable[[str], float], width: float,
                accept: Callable[[str], bool], first_indent: float = 0.0) -> list[list[str]]:
    """Greedy line breaking where each line is the longest fit that ``accept`` takes (or one unit).

    A closing mark (``，。）``) never opens a line when a break elsewhere is accepted; one may hang
    past ``width`` at the end of a line.
    """
    lines, i, avail = [], 0, width - first_indent
    while i < len(units):
        n = 1
        while i + n < len(units) and measure(sep.join(units[i:i + n + 1])) <= avail:
            n += 1
        if i + n < len(units) and units[i + n] in NO_START:
            n += 1  # a closing mark hangs in the margin rather than open the next line
        fits = [k for k in range(n, 0, -1) if accept(sep.join(units[i:i + k]))]
        kinsoku = [k for k in fits if i + k == len(units) or units[i + k] not in NO_START]
        k = (kinsoku or fits or [n])[0]
        lines.append(units[i:i + k])
        i, avail = i + k, width
    return lines


def book_photo(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """An open book's page photographed on a table (see the module docstring)."""
    zh = rng.random() < 0.55
    w = rng.randint(720, 880)
    h = int(w * rng.uniform(1.3, 1.42))
    c = Canvas.from_array(paper(nrng, w, h, rng.choice(((246, 240, 226), (250, 247, 238), (240, 236, 224))), 3.0))
    size = rng.uniform(22, 28)
    face = zh_face(rng, "body", size) if zh else en_face(rng, "body", size)
    small = face.at(size * 0.8)
    m, top = w * rng.uniform(0.09, 0.12), h * 0.07
    ink = (30, 28, 26)
    head_y = top
    corpus = load_corpus().headings["zh" if zh else "en"]
    title = t.draw(lambda r: r.choice(corpus), fits(small, w * 0.55))
    page_no = t.number(lambda r: str(r.randint(3, 399)))
    left_page = rng.random() < 0.5
    if left_page:
        c.write(m, head_y, [Run(page_no, small, ink)])
        c.write(w - m, head_y, [Run(title, small, ink)], align="right")
    else:
        c.write(m, head_y, [Run(title, small, ink)])
        c.write(w - m, head_y, [Run(page_no, small, ink)], align="right")
    c.line((m, head_y + small.size * 0.5), (w - m, head_y + small.size * 0.5), (120, 116, 110), 1)
    pitch = size * (rng.uniform(1.6, 1.8) if zh else rng.uniform(1.3, 1.45))
    y = head_y + pitch * 1.8
    width = w - 2 * m
    count = 2
    paragraphs = list(load_corpus().paragraphs["zh" if zh else "en"])
    accept = lambda s: t.accepts(s, face.spec.covers)  # noqa: E731
    while y < h - top and count < 26:
        para = rng.choice(paragraphs)
        if not (face.spec.covers(para)):
            continue
        units = units_zh(para) if zh else para.split()
        sep = "" if zh else " "
        indent = 2 * size if zh else 0.0
        for k, line in enumerate(break_lines(units, sep, face.width, width, accept, indent)):
            text = sep.join(line)
            if y > h - top or count >= 26:
                break
            if not accept(text):  # a single unit the split does not take: leave the rest of the paragraph
                break
            c.write(m + (indent if k == 0 else 0.0), y, [Run(text, face, ink)])
            y += pitch
            count += 1
        y += pitch * rng.uniform(0.0, 0.4)
    _spine(c, nrng, left_page)
    return Card(c, [], "object", "table", tilt=7.0, perspective=0.09)


def _spine(c: Canvas, nrng: np.random.Generator, left_page: bool) -> None:
    """Darken the page towards its spine (the right edge of a left page, the left edge of a right page)."""
    img = c.array().astype(np.float32)
    x = np.linspace(0.0, 1.0, c.w, dtype=np.float32)
    d = (1.0 - x) if not left_page else x
    band = nrng.uniform(0.08, 0.2)
    shade = 1.0 - nrng.uniform(0.25, 0.5) * np.clip((d - (1 - band)) / band, 0, 1) ** 2
    c.set_array(img * shade[None, :, None])
