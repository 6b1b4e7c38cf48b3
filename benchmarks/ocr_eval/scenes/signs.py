"""Signs in the street or in a station: white text on a coloured plate, English beside or under Chinese.

* road sign: a blue, green or brown plate with an inset white frame line close round the text, the
  road's name big, its English under it, a direction character and letter at each end with an arrow,
  house numbers in small white boxes;
* facility sign: a dark or coloured plate with two to four rows, each an icon (a shape) and
  ``出口(Exit)``-style Chinese with small bracketed English, or the English under it, and an arrow.

Reading order: the road's name, its English, then the left end (character, letter), the right end,
the house numbers left to right; on a facility sign the rows top to bottom.

Example:
    >>> import random, numpy as np
    >>> from ocr_eval.scenes.texts import SceneText
    >>> card = sign(SceneText("bench", random.Random(3)), random.Random(3), np.random.default_rng(3))
    >>> "white-on-colour" in card.tags, card.backdrop
    (True, 'street')
"""

from __future__ import annotations

import random

import numpy as np

from ocr_eval.scenes.canvas import Canvas, Run
from ocr_eval.scenes.parts import WHITE, Card, baseline_in, bracketed, en_face, fits, zh_face
from ocr_eval.scenes.texts import LABELS, SceneText
from ocr_eval.scenes.textures import metal

PLATES = ((22, 70, 160), (0, 112, 72), (118, 62, 24), (30, 30, 34), (0, 96, 170))
EN_DIRECTION = {"东": "E", "西": "W", "南": "S", "北": "N", "东门": "E", "西门": "W", "南门": "S", "北门": "N"}


def sign(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A road sign or a facility sign (even odds)."""
    return road_sign(t, rng, nrng) if rng.random() < 0.5 else facility_sign(t, rng, nrng)


def _arrow(c: Canvas, x: float, y: float, size: float, left: bool, colour: tuple[int, int, int]) -> None:
    """A filled arrow pointing left or right, its tip at ``x``."""
    d = 1 if left else -1
    c.polygon([(x, y), (x + d * size * 0.5, y - size * 0.35), (x + d * size * 0.5, y - size * 0.12),
               (x + d * size, y - size * 0.12), (x + d * size, y + size * 0.12), (x + d * size * 0.5, y + size * 0.12),
               (x + d * size * 0.5, y + size * 0.35)], fill=colour)


def road_sign(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A road name plate (see the module docstring)."""
    w = rng.randint(700, 980)
    h = int(w * rng.uniform(0.42, 0.52))
    plate = rng.choice(PLATES[:3])
    c = Canvas.from_array(metal(nrng, w, h, plate))
    inset = rng.uniform(8, 16)
    c.rect((inset, inset, w - inset, h - inset), outline=WHITE, width=rng.randint(3, 6), radius=rng.uniform(6, 18))
    big = zh_face(rng, "bold", h * 0.3)
    latin = en_face(rng, rng.choice(("bold", "body")), h * 0.11)
    road = t.draw(lambda r: t.make_name(r, 2, 3) + r.choice(LABELS["road_suffix"]), fits(big, w * 0.55))
    y = h * 0.52
    c.write(w / 2, y, [Run(road, big, WHITE)], align="center")
    en = t.draw(lambda r: f"{t.make_word(r)} {r.choice(LABELS['road_en'])}", fits(latin, w * 0.55))
    c.write(w / 2, h * 0.74, [Run(en, latin, WHITE)], align="center")
    side = zh_face(rng, "bold", h * 0.16)
    letter = en_face(rng, "bold", h * 0.1)
    ends = [d for d in ("东", "西", "南", "北") if t.accepts(d, side.spec.covers)]
    rng.shuffle(ends)
    for left, zh_dir in zip((True, False), ends):
        x = w * (0.1 if left else 0.9)
        c.write(x, h * 0.45, [Run(zh_dir, side, WHITE)], align="center")
        letter_text = EN_DIRECTION[zh_dir]
        if t.accepts(letter_text):
            c.write(x, h * 0.62, [Run(letter_text, letter, WHITE)], align="center")
        _arrow(c, x - h * 0.1 if left else x + h * 0.1, h * 0.78, h * 0.2, left, WHITE)
    tags = ["white-on-colour", "frame"]
    if rng.random() < 0.6:  # house numbers in white boxes under the plate's text
        num = en_face(rng, "bold", h * 0.075)
        for x in (w * 0.3, w * 0.7):
            n = t.number(lambda r: str(r.randint(1, 999)))
            bw = num.width(n) + num.size * 0.8
            c.rect((x - bw / 2, h * 0.8, x + bw / 2, h * 0.8 + num.size * 1.3), fill=WHITE, radius=4)
            c.write(x, baseline_in(num, h * 0.8, num.size * 1.3), [Run(n, num, plate)], align="center")
    return Card(c, tags, "object", "street", tilt=7.0, perspective=0.1)


def facility_sign(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A station or building sign: its name on top, then two to four rows (see the module docstring)."""
    rows = rng.randint(2, 4)
    w = rng.randint(760, 1000)
    row_h = rng.uniform(110, 150)
    h = int(row_h * (rows + 1) + 40)
    plate = rng.choice(PLATES[3:] + PLATES[:2])
    c = Canvas.from_array(metal(nrng, w, h, plate))
    zface = zh_face(rng, "bold", row_h * 0.42)
    eface = en_face(rng, "body", row_h * 0.22)
    accent = rng.choice(((250, 200, 40), (60, 200, 90), WHITE))
    name = t.name(2, 4, suffix="站", ok=fits(zface, w * 0.7))
    c.write(w / 2, 20 + row_h * 0.55, [Run(name, zface, WHITE)], align="center")
    c.write(w / 2, 20 + row_h * 0.86, [Run(t.word(ok=fits(eface, w * 0.7)), eface, WHITE)], align="center")
    free = [i for i, zh in enumerate(LABELS["facility"]) if t.accepts(zh)]
    rng.shuffle(free)
    for k, i in enumerate(free[:rows]):
        top = 20 + (k + 1) * row_h
        c.line((30, top), (w - 30, top), (200, 200, 200), 2)
        icon = row_h * 0.5
        c.rect((40, top + row_h * 0.25, 40 + icon, top + row_h * 0.25 + icon), fill=accent, radius=icon * 0.2)
        c.ellipse((40 + icon * 0.3, top + row_h * 0.32, 40 + icon * 0.7, top + row_h * 0.32 + icon * 0.4), fill=plate)
        x = 40 + icon * 1.5
        zh, en = LABELS["facility"][i], LABELS["facility_en"][i]
        runs, truth = bracketed(zh, en, zface, eface, WHITE)
        if rng.random() < 0.55 and t.accepts(truth, fits(zface, w * 0.7)):  # small bracketed English beside
            c.write(x, baseline_in(zface, top, row_h), runs, truth=truth)
        elif t.accepts(en):  # the English under the Chinese
            c.write(x, top + row_h * 0.55, [Run(zh, zface, WHITE)])
            c.write(x, top + row_h * 0.86, [Run(en, eface, WHITE)])
        else:
            c.write(x, baseline_in(zface, top, row_h), [Run(zh, zface, WHITE)])
        _arrow(c, w - 40 - row_h * 0.6, top + row_h / 2, row_h * 0.55, rng.random() < 0.5, accent)
    return Card(c, ["white-on-colour", "bracket"], "object", rng.choice(("street", "wall", "dark")), tilt=6.0,
                perspective=0.1)
