"""Printed objects photographed on a surface: a train ticket, a till receipt, a price tag.

Each builder draws the upright object and writes its lines in reading order: rows top to
bottom, each row left to right. Parts of a row set apart by a gap wider than about twice
their text height (a receipt's name, count and amount) are separate lines.

* ``ticket``: a train ticket on guilloche security print: letter-spaced station names (the
  truth has no spaces: ``北京南站``), the train number over an arrow, small English under the
  stations, a red serial number, a dashed frame round the bottom note, a QR square;
* ``receipt``: a narrow thermal receipt, faded unevenly: dashed rules close under header rows,
  item rows in three columns, totals, a barcode and its digits;
* ``price_tag``: one or two shelf tags: a coloured header bar with white text, the product, a
  big price with a small ``￥`` (one line), the unit under it, a struck-through old price, a barcode.

Example:
    >>> import random, numpy as np
    >>> from ocr_eval.scenes.texts import SceneText
    >>> card = ticket(SceneText("bench", random.Random(2)), random.Random(2), np.random.default_rng(2))
    >>> "spaced" in card.tags and len(card.canvas.lines) >= 12
    True
"""

from __future__ import annotations

import random

import numpy as np

from ocr_eval.scenes.canvas import Canvas, Run
from ocr_eval.scenes.parts import (
    BLACK,
    WHITE,
    Card,
    baseline_in,
    en_face,
    fits,
    hsv,
    shrink,
    zh_face,
)
from ocr_eval.scenes.texts import LABELS, SceneText
from ocr_eval.scenes.textures import guilloche, noise_field, paper

RED = (196, 34, 38)


def ticket(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A Chinese train ticket (see the module docstring)."""
    w = rng.randint(900, 1150)
    h = int(w * rng.uniform(0.6, 0.66))
    blue = rng.random() < 0.6
    tone, print_ink = ((206, 226, 240), (150, 186, 216)) if blue else ((246, 224, 222), (226, 170, 168))
    c = Canvas.from_array(guilloche(nrng, w, h, tone, print_ink))
    u = h / 10
    m = w * 0.06
    ink = BLACK if rng.random() < 0.7 else (40, 40, 70)
    bold, body = zh_face(rng, "bold", u), zh_face(rng, "body", u * 0.55)
    mono = en_face(rng, "mono", u * 0.55)
    latin = en_face(rng, "body", u * 0.42)
    # serial number and gate
    serial = t.number(lambda r: f"{r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{r.randint(0, 999999):06d}",
                      fits(mono, w * 0.4))
    c.write(m, u * 1.2, [Run(serial, mono, RED)])
    gate = t.draw(lambda r: f"{r.choice(LABELS['gate'])}:{r.randint(1, 30)}{r.choice('AB')}", fits(body, w * 0.3))
    c.write(w - m, u * 1.2, [Run(gate, body, ink)], align="right")
    # stations, letter-spaced, and the train number over an arrow
    big = bold.at(u * rng.uniform(0.85, 1.05))
    track = big.size * rng.uniform(0.3, 0.9)
    room = w * 0.34
    ok = lambda s: big.spec.covers(s) and big.width(s) + track * (len(s) - 1) <= room  # noqa: E731
    st1 = t.draw(lambda r: t.make_name(r, 2, 3) + "站", ok)
    st2 = t.draw(lambda r: t.make_name(r, 2, 4) + "站", ok)
    y2 = u * 3.0
    c.write(m, y2, [Run(st1, big, ink, tracking=track)])
    train = t.number(lambda r: f"{r.choice('GDKTZC')}{r.randint(1, 9999)}")
    tface = en_face(rng, "bold", u * 0.8)
    c.write(w / 2, y2 - u * 0.35, [Run(train, tface, ink)], align="center")
    ax = w / 2
    c.line((ax - w * 0.08, y2 + u * 0.05), (ax + w * 0.08, y2 + u * 0.05), ink, 3)
    c.polygon([(ax + w * 0.08, y2 + u * 0.05), (ax + w * 0.06, y2 - u * 0.12), (ax + w * 0.06, y2 + u * 0.22)], ink)
    c.write(w - m, y2, [Run(st2, big, ink, tracking=track)], align="right")
    # small English under the stations
    e1, e2 = t.word(ok=fits(latin, room)), t.word(ok=fits(latin, room))
    c.write(m + u * 0.2, y2 + u * 0.9, [Run(e1, latin, ink)])
    c.write(w - m - u * 0.2, y2 + u * 0.9, [Run(e2, latin, ink)], align="right")
    # date and seat, price and class
    row = body.at(u * 0.62)
    when = t.draw(lambda r: f"{t.make_date(r)} {r.randint(5, 22):02d}:{r.choice(range(0, 60, 5)):02d}开",
                  fits(row, w * 0.55))
    seat = t.draw(lambda r: f"{r.randint(1, 16):02d}车{r.randint(1, 20):02d}{r.choice('ABCDF')}号", fits(row, w * 0.3))
    c.write(m, u * 5.1, [Run(when, row, ink)])
    c.write(w * 0.7, u * 5.1, [Run(seat, row, ink)])
    fare = t.price(20, 1500, suffix="元", ok=fits(row, w * 0.4))
    klass = t.pick("seat_class", ok=fits(row, w * 0.3))
    c.write(m, u * 6.1, [Run(fare, row, ink)])
    c.write(w * 0.7, u * 6.1, [Run(klass, row, ink)])
    note = t.pick("ticket_note", ok=fits(body, w * 0.5))
    c.write(m, u * 7.0, [Run(note, body, ink)])
    # passenger id and name
    pid = t.number(lambda r: f"{r.randint(110000, 659999)}{r.randint(1960, 2010)}****{r.randint(0, 9999):04d}",
                   fits(mono, w * 0.5))
    c.write(m, u * 7.9, [Run(pid, mono, ink)])
    name = t.name(2, 3, ok=fits(body, w * 0.2))
    c.write(m + mono.width(pid) + u * 1.2, u * 7.9, [Run(name, body, ink)])
    # the bottom note in a dashed frame, the QR square
    small = body.at(u * 0.42)
    bottom = t.pick("ticket_bottom", ok=fits(small, w * 0.5))
    line = c.write(m + u * 0.3, u * 9.05, [Run(bottom, small, ink)])
    pad = rng.uniform(3, 8)
    x0, y0, x1, y1 = line.box
    c.dashed_rect((x0 - pad, y0 - pad, x1 + pad, y1 + pad), ink, width=2, dash=rng.uniform(5, 10), space=4)
    q = u * 2.4
    c.qr((w - m - q, u * 6.9, w - m, u * 6.9 + q), nrng, ink)
    return Card(c, ["spaced", "dashed", "textured"], "object", rng.choice(("table", "table", "dark")), tilt=8.0)


def receipt(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A till receipt on thermal paper (see the module docstring)."""
    w = rng.randint(440, 560)
    c = Canvas.from_array(paper(nrng, w, 1900, (244, 243, 236), grain=3.0))
    ink = (int(rng.uniform(40, 90)),) * 3
    size = rng.uniform(19, 25)
    role = rng.choice(("mono", "body"))
    body = zh_face(rng, role, size)
    bold = zh_face(rng, "bold", size * 1.45)
    m = w * 0.07
    y = m + bold.size
    pitch = size * 1.55
    shop = t.draw(lambda r: t.make_name(r, 2, 4) + r.choice(LABELS["shop_suffix"]), fits(bold, w - 2 * m))
    c.write(w / 2, y, [Run(shop, bold, ink)], align="center")
    y += pitch * 1.3
    small = body.at(size * 0.85)
    tel = t.number(lambda r: f"电话:{r.choice(('0571', '021', '010', '0755', '028', '027'))}-{r.randint(10000000, 89999999)}",
                   fits(small, w - 2 * m))
    c.write(w / 2, y, [Run(tel, small, ink)], align="center")
    y += pitch
    stamp = t.draw(lambda r: f"{t.make_date(r, 'iso')} {r.randint(7, 22):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}",
                   fits(small, w - 2 * m))
    c.write(m, y, [Run(stamp, small, ink)])
    y += pitch * 0.6
    dash = rng.uniform(4, 9)
    c.dashed_line((m, y), (w - m, y), ink, 2, dash, dash * 0.6)
    y += pitch * 0.95
    x_qty, x_amt = w * 0.58, w - m
    heads = [t.pick("receipt_head", fits(body, w * 0.3)), t.pick("qty_head", fits(body, w * 0.2)),
             t.pick("amount_head", fits(body, w * 0.2))]
    c.write(m, y, [Run(heads[0], body, ink)])
    c.write(x_qty, y, [Run(heads[1], body, ink)], align="center")
    c.write(x_amt, y, [Run(heads[2], body, ink)], align="right")
    y += size * 0.5
    c.dashed_line((m, y), (w - m, y), ink, 1, dash, dash * 0.6)  # a rule close under the header row
    y += pitch
    items = rng.randint(3, 6)
    name_room = x_qty - m - body.size * 3
    for _ in range(items):
        c.write(m, y, [Run(t.zh(2, 7, fits(body, name_room)), body, ink)])
        c.write(x_qty, y, [Run(t.number(lambda r: f"x{r.randint(1, 12)}"), body, ink)], align="center")
        c.write(x_amt, y, [Run(t.number(lambda r: f"{r.uniform(1, 300):.2f}"), body, ink)], align="right")
        y += pitch
    c.dashed_line((m, y - pitch * 0.45), (w - m, y - pitch * 0.45), ink, 2, dash, dash * 0.6)
    y += pitch * 0.2
    totals = [x for x in LABELS["receipt_total"] if t.accepts(x, fits(body, w * 0.4))]
    for name in rng.sample(totals, min(len(totals), rng.randint(2, 3))):
        c.write(m, y, [Run(name, body, ink)])
        c.write(x_amt, y, [Run(t.price(5, 900), body, ink)], align="right")
        y += pitch
    y += pitch * 0.3
    c.write(w / 2, y, [Run(t.pick("receipt_thanks", fits(body, w - 2 * m)), body, ink)], align="center")
    y += pitch * 0.6
    bh = size * 2.4
    c.bars((m * 2, y, w - m * 2, y + bh), nrng, ink)
    y += bh + size * 1.2
    digits = t.number(lambda r: "".join(str(r.randint(0, 9)) for _ in range(r.choice((12, 13, 16)))), fits(small, w))
    c.write(w / 2, y, [Run(digits, small, ink)], align="center")
    height = int(y + m * 1.5)
    c.crop(height)
    _fade(c, nrng)
    return Card(c, ["dashed", "faded"], "object", rng.choice(("table", "dark", "table")), tilt=7.0, perspective=0.05)


def _fade(c: Canvas, nrng: np.random.Generator) -> None:
    """Thermal print fading: the ink lightened by a smooth random field."""
    img = np.asarray(c.image).astype(np.float32)
    paper_tone = np.float32([244, 243, 236])
    keep = 0.75 + 0.25 * np.clip(noise_field(nrng, c.w, c.h, 120.0), -1, 1)
    c.set_array(paper_tone - (paper_tone - img) * keep)


def price_tag(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """One or two shelf price tags on a shelf edge (see the module docstring)."""
    n = rng.choice((1, 2, 2))
    tw = rng.randint(430, 520)
    th = int(tw * rng.uniform(0.62, 0.72))
    gap = rng.randint(20, 60)
    w, h = n * tw + (n + 1) * gap, th + 2 * gap
    strip = tuple(int(v) for v in (hsv(rng.random(), 0.15, 0.55)))
    c = Canvas.from_array(paper(nrng, w, h, strip, grain=3))
    for k in range(n):
        x0, y0 = gap + k * (tw + gap), gap
        ground = rng.choice(((250, 222, 60), (252, 252, 248), (250, 240, 200)))
        c.rect((x0, y0, x0 + tw, y0 + th), fill=ground)
        bar = rng.choice((RED, (30, 80, 170), (20, 120, 60)))
        bh = th * 0.2
        c.rect((x0, y0, x0 + tw, y0 + bh), fill=bar)
        head = zh_face(rng, "bold", bh * 0.62)
        c.write(x0 + tw * 0.05, baseline_in(head, y0, bh), [Run(t.pick("tag_head", fits(head, tw * 0.5)), head, WHITE)])
        body = zh_face(rng, "body", th * 0.085)
        pname = zh_face(rng, "bold", th * 0.11)
        name = t.draw(lambda r: t.make_zh(r, 2, 6) + r.choice(("", " 500g", " 1L", " 250ml", " 1kg", " 6枚")),
                      fits(pname, tw * 0.9))
        c.write(x0 + tw * 0.05, y0 + bh + pname.size * 1.25, [Run(name, pname, BLACK)])
        spec = t.draw(lambda r: f"{r.choice(('产地', '规格', '等级'))}:{t.make_name(r, 2, 3)}", fits(body, tw * 0.4))
        c.write(x0 + tw * 0.05, y0 + th * 0.52, [Run(spec, body, BLACK)])
        old = t.price(5, 99, prefix="原价:￥", ok=fits(body, tw * 0.4))
        ol = c.write(x0 + tw * 0.05, y0 + th * 0.66, [Run(old, body, (90, 90, 90))])
        mid = (ol.box[1] + ol.box[3]) / 2
        c.line((ol.box[0] - 2, mid), (ol.box[2] + 2, mid), (90, 90, 90), 2)  # struck through
        big = en_face(rng, "bold", th * rng.uniform(0.28, 0.34))
        cur = big.at(big.size * 0.4)
        price = t.number(lambda r: f"￥{r.uniform(1, 99):.{r.choice((1, 2))}f}")
        colour = RED if ground != (252, 252, 248) or rng.random() < 0.7 else BLACK
        runs = [Run("￥", zh_face(rng, "bold", cur.size), colour), Run(price[1:], big, colour)]
        right = x0 + tw * 0.95
        base = y0 + th * 0.68
        c.write(right, base, runs, align="right")
        unit = t.pick("price_unit", fits(body, tw * 0.3))
        c.write(right, base + body.size * 1.35, [Run(unit, body, BLACK)], align="right")
        bw = tw * 0.42
        c.bars((x0 + tw * 0.05, y0 + th * 0.74, x0 + tw * 0.05 + bw, y0 + th * 0.87), nrng)
        digits = t.number(lambda r: "69" + "".join(str(r.randint(0, 9)) for _ in range(11)))
        dface = shrink(en_face(rng, "mono", th * 0.06), digits, bw)
        c.write(x0 + tw * 0.05, y0 + th * 0.95, [Run(digits, dface, BLACK)])
    return Card(c, ["white-on-colour", "small"], "object", "shelf", tilt=6.0, perspective=0.07)
