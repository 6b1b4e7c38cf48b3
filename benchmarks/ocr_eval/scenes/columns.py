"""Vertical Chinese: couplets by a door, a poem scroll, a shop's hanging sign.

Columns read top to bottom and right to left; a horizontal line above them (a couplet's banner, a
scroll's title) comes first, a horizontal line below them last. Column text holds no punctuation
and no Latin letters or digits (characters stand upright, one per cell). A column's truth box is
an upright box, its points TL, TR, BR, BL with the top edge first.

* couplet: two red paper strips (gold or black characters, 5-9 each) beside a door, a banner of four
  characters above, on a wall;
* scroll: pale paper with ink-wash blotches, 2-5 columns of poem lines (5 or 7 characters), a bigger
  title column on the right, a red seal (no text), sometimes a small horizontal date line;
* shop sign: a banner board of 3-5 gold characters across the top, one or two hanging boards of
  one column of 3-6 big gold characters each, a horizontal phone number line under them.

Example:
    >>> import random, numpy as np
    >>> from ocr_eval.scenes.texts import SceneText
    >>> card = vertical_ad(SceneText("bench", random.Random(1)), random.Random(1), np.random.default_rng(1))
    >>> any(line.vertical for line in card.canvas.lines)
    True
"""

from __future__ import annotations

import random

import numpy as np

from ocr_eval.scenes.canvas import Canvas, Run
from ocr_eval.scenes.parts import BLACK, Card, fits, hsv, zh_face
from ocr_eval.scenes.texts import SceneText
from ocr_eval.scenes.textures import backdrop, blotches, metal, paper


def vertical_ad(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A couplet, a poem scroll or a shop sign (one in three each)."""
    return rng.choice((couplet, scroll, shop_sign))(t, rng, nrng)


def _han_only(face):
    return lambda s: face.spec.covers(s) and all("\u4e00" <= ch <= "\u9fff" for ch in s)


def couplet(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """Two red strips and a banner beside a door (see the module docstring)."""
    n = rng.randint(5, 9)
    cell = rng.uniform(70, 95)
    strip_w, strip_h = cell * 1.35, cell * (n + 1.2)
    gap = rng.uniform(2.2, 3.4) * strip_w
    w = int(2 * strip_w + gap + 2 * cell)
    h = int(strip_h + cell * 2.6)
    c = Canvas.from_array(backdrop(nrng, w, h, "wall"))
    red = (int(rng.uniform(170, 210)), 22, 28)
    ink = (236, 196, 70) if rng.random() < 0.6 else BLACK
    face = zh_face(rng, rng.choice(("bold", "caption", "body")), cell * 0.8)
    x_left = cell
    x_right = w - cell - strip_w
    top = cell * 2.2
    door = (x_left + strip_w + cell * 0.4, top, x_right - cell * 0.4, h)
    c.rect(door, fill=(int(rng.uniform(60, 110)), 35, 25))
    # banner above
    bw, bh = cell * 4.6, cell * 1.25
    c.rect((w / 2 - bw / 2, cell * 0.5, w / 2 + bw / 2, cell * 0.5 + bh), fill=red)
    banner = t.zh(4, 4, _han_only(face))
    c.write(w / 2, cell * 0.5 + bh * 0.5 + face.size * 0.36, [Run(banner, face.at(cell * 0.85), ink)], align="center")
    for x in (x_right, x_left):  # the right strip reads first
        c.rect((x, top, x + strip_w, top + strip_h), fill=red)
        line = t.zh(n, n, _han_only(face))
        c.column(x + strip_w / 2, top + cell * 0.6, line, face, ink, pitch=cell)
    return Card(c, ["vertical", "white-on-colour"], "fill", "wall", tilt=5.0, perspective=0.08)


def scroll(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A poem scroll (see the module docstring)."""
    k = rng.choice((5, 7))
    cols = rng.randint(2, 5)
    cell = rng.uniform(48, 66)
    pitch_x = cell * rng.uniform(1.35, 1.7)
    w = int(pitch_x * (cols + 1) + cell * 3)
    h = int(cell * (k + 1) * 1.05 + cell * 3.5)
    ground = paper(nrng, w, h, (238, 232, 214), 3.0)
    ground = blotches(nrng, ground, int(nrng.integers(2, 6)), alpha=0.18, blur=w / 12)
    c = Canvas.from_array(ground)
    face = zh_face(rng, rng.choice(("caption", "body", "bold")), cell * 0.8)
    ink = (28, 26, 24)
    x = w - cell * 1.5
    title = t.zh(2, 5, _han_only(face))
    big = face.at(cell * 1.0)
    c.column(x, cell * 1.2, title, big, ink, pitch=cell * 1.1)
    x -= pitch_x * 1.2
    for _ in range(cols):
        c.column(x, cell * 1.6, t.zh(k, k, _han_only(face)), face, ink, pitch=cell * 1.05)
        x -= pitch_x
    seal = cell * 1.1
    sx, sy = x + pitch_x * 0.2, h - cell * 1.8 - seal
    c.rect((sx, sy, sx + seal, sy + seal), fill=(190, 30, 30), radius=4)
    c.rect((sx + seal * 0.15, sy + seal * 0.15, sx + seal * 0.85, sy + seal * 0.85), outline=(240, 220, 210), width=3)
    if rng.random() < 0.5:
        small = zh_face(rng, "body", cell * 0.42)
        c.write(w - cell, h - cell * 0.7, [Run(t.date(ok=fits(small, w * 0.6)), small, ink)], align="right")
    return Card(c, ["vertical", "textured"], rng.choice(("object", "fill")), "wall", tilt=4.0, perspective=0.06)


def shop_sign(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A shop front: a banner board on top, one or two hanging boards of one column each (see the module docstring)."""
    n = rng.randint(3, 6)
    boards = rng.choice((1, 2, 2))
    cell = rng.uniform(90, 120)
    bw, bh = cell * 1.6, cell * (n + 0.9)
    w, h = int(bw * boards + cell * (3.5 + 2.5 * (boards - 1))), int(bh + cell * 4.0)
    c = Canvas.from_array(backdrop(nrng, w, h, rng.choice(("wall", "street"))))
    wood = tuple(int(v) for v in hsv(rng.uniform(0.05, 0.09), 0.6, rng.uniform(0.25, 0.4)))
    gold = (226, 184, 80)
    # the banner board across the top
    c.paste(metal(nrng, int(w - cell), int(cell * 1.3), wood), int(cell * 0.5), int(cell * 0.3))
    head = zh_face(rng, "bold", cell * 0.75)
    c.write(w / 2, cell * 0.3 + cell * 0.95, [Run(t.zh(3, 5, fits(head, w - cell * 2)), head, gold)], align="center")
    # the hanging boards, the right one read first
    face = zh_face(rng, "bold", cell * 0.82)
    y0 = cell * 2.0
    centres = [w / 2] if boards == 1 else [w / 2 + bw * 0.5 + cell * 1.25, w / 2 - bw * 0.5 - cell * 1.25]
    for cx in centres:
        x0 = cx - bw / 2
        c.line((x0 + bw * 0.2, cell * 1.6), (x0 + bw * 0.2, y0), (60, 60, 60), 3)
        c.line((x0 + bw * 0.8, cell * 1.6), (x0 + bw * 0.8, y0), (60, 60, 60), 3)
        c.paste(metal(nrng, int(bw), int(bh), wood), int(x0), int(y0))
        c.rect((x0 + 8, y0 + 8, x0 + bw - 8, y0 + bh - 8), outline=gold, width=3)
        c.column(cx, y0 + cell * 0.45, t.zh(n, n, _han_only(face)), face, gold, pitch=cell)
    small = zh_face(rng, "body", cell * 0.3)
    tel = t.number(lambda r: f"电话:{r.randint(130, 189)}{r.randint(10000000, 99999999)}")
    c.write(w / 2, y0 + bh + cell * 0.8, [Run(tel, small, BLACK)], align="center")
    return Card(c, ["vertical", "white-on-colour"], "fill", "street", tilt=4.0, perspective=0.08)
