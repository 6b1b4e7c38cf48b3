"""Labels: a woven care label with small print, and a product label beside its bottle.

* care label (``small``): a narrow woven strip, light or dark, 12-17 px text: the brand, size and
  article fields, the fibre content in Chinese and in English, care symbols (shapes, no text),
  the care instructions in English, the standards and ``Made in China``;
* product label (``bracket``): a pale card: a coloured title, a coloured subtitle, notes in
  brackets, ``【品名】：value`` fields whose long values wrap onto a second line, and a bottle
  picture (no text) on the right.

Example:
    >>> import random, numpy as np
    >>> from ocr_eval.scenes.texts import SceneText
    >>> card = label(SceneText("bench", random.Random(4)), random.Random(4), np.random.default_rng(4))
    >>> 6 <= len(card.canvas.lines) <= 30
    True
"""

from __future__ import annotations

import random

import numpy as np

from ocr_eval.rendered.text import units_zh, wrap_units
from ocr_eval.scenes.canvas import Canvas, Run
from ocr_eval.scenes.parts import BLACK, Card, en_face, fits, hsv, vivid, zh_face
from ocr_eval.scenes.texts import LABELS, SceneText
from ocr_eval.scenes.textures import fabric, gradient, paper


def label(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A care label or a product label (even odds)."""
    return care_label(t, rng, nrng) if rng.random() < 0.5 else product_label(t, rng, nrng)


def _symbols(c: Canvas, x: float, y: float, size: float, ink: tuple[int, int, int], rng: random.Random) -> None:
    """A row of care symbols: tub, triangle, square with circle, iron, circle; some crossed out."""
    for k in range(5):
        x0, x1, y0, y1 = x + k * size * 1.4, x + k * size * 1.4 + size, y, y + size
        shape = k if rng.random() < 0.8 else rng.randrange(5)
        if shape == 0:
            c.polygon([(x0, y0 + size * 0.3), (x1, y0 + size * 0.3), (x1 - size * 0.15, y1), (x0 + size * 0.15, y1)],
                      outline=ink)
        elif shape == 1:
            c.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], outline=ink)
        elif shape == 2:
            c.rect((x0, y0, x1, y1), outline=ink, width=2)
            c.ellipse((x0 + size * 0.15, y0 + size * 0.15, x1 - size * 0.15, y1 - size * 0.15), outline=ink, width=2)
        elif shape == 3:
            c.polygon([(x0 + size * 0.3, y0 + size * 0.3), (x1, y0 + size * 0.3), (x1, y1), (x0, y1)], outline=ink)
        else:
            c.ellipse((x0, y0, x1, y1), outline=ink, width=2)
        if rng.random() < 0.35:
            c.line((x0, y0), (x1, y1), ink, 2)
            c.line((x1, y0), (x0, y1), ink, 2)


def care_label(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A woven care label (see the module docstring)."""
    w = rng.randint(330, 430)
    dark = rng.random() < 0.35
    tone = (34, 34, 38) if dark else rng.choice(((242, 241, 236), (236, 230, 214), (246, 246, 246)))
    c = Canvas.from_array(fabric(nrng, w, 1400, tone))
    ink = (236, 236, 230) if dark else (40, 40, 44)
    size = rng.uniform(12.5, 16.5)
    body, latin = zh_face(rng, "body", size), en_face(rng, rng.choice(("body", "bold")), size)
    m = w * 0.1
    pitch = size * rng.uniform(1.45, 1.75)
    y = m + size * 1.6
    brand = en_face(rng, "bold", size * 1.8)
    c.write(w / 2, y, [Run(t.words(1, 2, fits(brand, w - 2 * m)), brand, ink)], align="center")
    y += pitch * 1.6
    room = w - 2 * m

    def field(make) -> None:  # a field line; one whose few variants are all in the other split is left out
        nonlocal y
        text = t.maybe(make, fits(body, room))
        if text:
            c.write(m, y, [Run(text, body, ink)])
            y += pitch

    field(lambda r: f"号型:{r.choice((155, 160, 165, 170, 175, 180, 185))}/{r.choice((80, 84, 88, 92, 96, 100))}"
                    f"{r.choice('ABY')}")
    field(lambda r: f"货号:{r.choice('ABCDEFGHKMNPRSTWXYZ')}{r.randint(1000, 99999)}-{r.randint(1, 99):02d}")
    field(lambda r: f"等级:{r.choice(('合格品', '一等品', '优等品'))}")
    for _ in range(rng.randint(1, 3)):
        field(lambda r: f"{r.choice(('面料', '里料', '成分', '填充物'))}:{r.choice((100, 95, 80, 65, 60, 55, 35))}%"
                        f"{r.choice(LABELS['fibre'])}")
    for _ in range(rng.randint(1, 2)):
        c.write(m, y, [Run(t.draw(lambda r: f"{r.choice((100, 95, 80, 65, 60))}% {r.choice(LABELS['fibre_en'])}",
                                  fits(latin, room)), latin, ink)])
        y += pitch
    y += pitch * 0.3
    _symbols(c, m, y - size * 0.8, size * 1.6, ink, rng)
    y += size * 1.6 + pitch * 0.8
    for _ in range(rng.randint(2, 3)):
        c.write(m, y, [Run(t.pick("care_en", fits(latin, room)), latin, ink)])
        y += pitch
    field(lambda r: f"执行标准:GB/T {r.choice((2664, 2660, 8878, 22849, 22853, 14272))}-{r.randint(2009, 2021)}")
    field(lambda r: f"安全类别:GB 18401 {r.choice('ABC')}类")
    field(lambda r: f"检验:{r.choice(('合格', '01', '02', '03', '05', '07', '09', '11'))}")
    c.write(w / 2, y + pitch * 0.2, [Run(t.pick("made_in", fits(latin, room)), latin, ink)], align="center")
    c.crop(int(y + pitch * 1.2))
    return Card(c, ["small", "white-on-colour"] if dark else ["small"], "object", rng.choice(("table", "dark", "wall")),
                tilt=9.0, perspective=0.06)


def _bottle(c: Canvas, box: tuple[float, float, float, float], nrng: np.random.Generator, rng: random.Random) -> None:
    """A bottle with a pump cap (a picture, no text)."""
    x0, y0, x1, y1 = box
    colour = vivid(rng, (0.3, 0.55))
    w, h = int(x1 - x0), int(y1 - y0)
    body = gradient(nrng, w, int(h * 0.72), tuple(min(255, v + 60) for v in colour), colour)
    mask = np.zeros(body.shape[:2], np.uint8)
    from PIL import Image, ImageDraw

    m = Image.fromarray(mask)
    ImageDraw.Draw(m).rounded_rectangle([0, 0, w - 1, int(h * 0.72) - 1], radius=w * 0.18, fill=255)
    c.paste(body, int(x0), int(y0 + h * 0.28), np.asarray(m))
    cap = (25, 25, 25)
    c.rect((x0 + w * 0.32, y0 + h * 0.14, x1 - w * 0.32, y0 + h * 0.29), fill=cap)
    c.rect((x0 + w * 0.44, y0, x1 - w * 0.44, y0 + h * 0.15), fill=cap)
    c.rect((x0 + w * 0.1, y0, x0 + w * 0.44, y0 + h * 0.03), fill=cap)


def product_label(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A product label beside its bottle (see the module docstring)."""
    w = rng.randint(700, 880)
    c = Canvas.from_array(paper(nrng, w, int(w * 1.6), (252, 252, 250), grain=1.5))
    accent = hsv(rng.random(), 0.8, 0.55)
    m = w * 0.05
    text_w = w * 0.64
    title = zh_face(rng, "bold", w * 0.06)
    y = m + title.size
    c.write(m, y, [Run(t.zh(4, 9, fits(title, text_w + w * 0.25)), title, accent)])
    sub = zh_face(rng, "body", w * 0.04)
    y += sub.size * 1.8
    c.write(m, y, [Run(t.pick("product_head", fits(sub, text_w)), sub, accent)])
    y += sub.size * 1.5
    for _ in range(rng.randint(1, 2)):
        unit = rng.choice(("公斤", "瓶", "箱", "件"))
        note = t.draw(lambda r, u=unit: f"（{r.randint(5, 99)}元/每{u}，{r.choice((100, 500, 1000, 2000))}{u}起订）",
                      fits(sub, text_w + w * 0.2))
        c.write(m, y, [Run(note, sub, accent)])
        y += sub.size * 1.5
    y += sub.size * 0.3
    body = zh_face(rng, "body", w * rng.uniform(0.031, 0.037))
    pitch = body.size * 1.7
    fields = list(LABELS["product_field"])
    rng.shuffle(fields)
    values = {
        "产品编号": lambda r: f"{r.choice('ABCDEFGHKMXY')}{r.choice('ABCDEFGHKMXY')}-{r.choice('ABCX')}-{r.randint(1000, 9999)}",
        "净含量": lambda r: f"{r.choice((100, 150, 220, 250, 300, 500, 750))}{r.choice(('ml', 'g', 'mL'))}",
        "保质期": lambda r: f"{r.choice((12, 18, 24, 36))}个月",
        "生产日期": lambda r: t.make_date(r, "dot"),
        "主要成分": lambda r: "、".join(t.make_zh(r, 2, 5) for _ in range(r.randint(2, 4))),
    }
    for name in fields[: rng.randint(6, 9)]:
        make = values.get(name, lambda r: t.make_zh(r, 4, 16))
        head = f"【{name}】："
        for _ in range(40):  # a value whose line(s) are all in the split; a long one wraps onto a second line
            wrapped = wrap_units(units_zh(make(rng)), "", body.width, text_w, body.width(head))
            lines = [head + "".join(wrapped[0]), *("".join(u) for u in wrapped[1:])]
            if len(lines) <= 2 and all(t.accepts(ln, fits(body, text_w)) for ln in lines):
                break
        else:
            continue
        for ln in lines:
            c.write(m, y, [Run(ln, body, BLACK)])
            y += pitch
    h = int(max(y + m, w * 0.85))
    c.crop(h)
    _bottle(c, (w * 0.74, h * 0.2, w * 0.92, h * 0.86), nrng, rng)
    if rng.random() < 0.5:  # a small caption under the bottle
        cap = body.at(body.size * 1.05)
        c.write(w * 0.83, h * 0.93, [Run(t.draw(lambda r: f"（{t.make_zh(r, 2, 4)}）", fits(cap, w * 0.25)), cap,
                                         accent)], align="center")
    return Card(c, ["bracket", "multicolour"], rng.choice(("fill", "object")), rng.choice(("table", "wall")), tilt=5.0,
                perspective=0.05)
