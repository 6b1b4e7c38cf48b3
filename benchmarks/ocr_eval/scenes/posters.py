"""Posters and notices: big outlined titles, text in coloured boxes, text over pictures, dashed frames.

* ``poster`` (promotion): a vivid gradient with blurred shapes, or a photo-like picture under a
  darkened band; a huge title in two colours with an outline and a drop shadow; a subtitle in a
  pill (white on colour, or colour on white); a white panel with coloured lines; prices with a
  small ``￥`` and a small ``起`` beside big digits (one line) under their small label; bullet
  pills (white text on colour); a small footer;
* ``boxes`` (notice): a header bar with white text, blocks of coloured heading and body lines in
  dashed frames or tinted boxes, each heading with a rule just under it, some body lines with a
  word in another colour, a small ruled table whose cell text sits close to the rules.

Reading order: top to bottom; pills and table cells of one row left to right.

Example:
    >>> import random, numpy as np
    >>> from ocr_eval.scenes.texts import SceneText
    >>> card = boxes(SceneText("bench", random.Random(5)), random.Random(5), np.random.default_rng(5))
    >>> card.canvas.h < 2000 and len(card.canvas.lines) >= 5
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
    luminance,
    pale,
    shrink,
    vivid,
    zh_face,
)
from ocr_eval.scenes.texts import SceneText
from ocr_eval.scenes.textures import blotches, gradient, paper, photo


def _title(c: Canvas, t: SceneText, rng: random.Random, y: float, size: float) -> None:
    """A two-colour outlined title with a drop shadow, centred."""
    face = zh_face(rng, "bold", size)
    text = t.zh(3, 6, fits(face, c.w * 0.92))
    k = rng.randint(1, len(text) - 1)
    c1 = hsv(rng.uniform(0.1, 0.17), 0.85, 1.0)  # yellow-gold
    c2 = WHITE if rng.random() < 0.6 else hsv(rng.random(), 0.7, 1.0)
    stroke = max(2, int(size * 0.035))
    edge = hsv(rng.random(), 0.9, 0.3)
    runs = [Run(text[:k], face, c1, stroke=stroke, stroke_fill=edge), Run(text[k:], face, c2, stroke=stroke,
                                                                          stroke_fill=edge)]
    c.write(c.w / 2, y, runs, truth=text, align="center", shadow=(size * 0.05, size * 0.06, (20, 10, 30)))


def poster(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A promotional poster (see the module docstring)."""
    w = rng.randint(680, 900)
    h = int(w * rng.uniform(1.25, 1.4))
    tags = ["white-on-colour", "multicolour", "colour-boxes"]
    if rng.random() < 0.35:  # text over a photo-like picture
        ground = photo(nrng, w, h).astype(np.float32) * rng.uniform(0.55, 0.8)
        tags.append("textured")
    else:
        ground = gradient(nrng, w, h, vivid(rng), vivid(rng), radial=rng.random() < 0.4).astype(np.float32)
        ground = blotches(nrng, ground.astype(np.uint8), int(nrng.integers(4, 10)), 0.4, w / 25).astype(np.float32)
    c = Canvas.from_array(ground.astype(np.uint8))
    _title(c, t, rng, h * 0.15, w * rng.uniform(0.15, 0.2))
    # subtitle in a pill
    sub = zh_face(rng, "bold", w * 0.055)
    pill = vivid(rng, (0.5, 0.75))
    white_pill = rng.random() < 0.4
    text = t.draw(lambda r: t.make_zh(r, 2, 4) + r.choice((" ", "")) + t.make_zh(r, 2, 4), fits(sub, w * 0.75))
    tw = sub.width(text)
    top = h * 0.2
    c.rect((w / 2 - tw / 2 - sub.size * 0.7, top, w / 2 + tw / 2 + sub.size * 0.7, top + sub.size * 1.6),
           fill=WHITE if white_pill else pill, radius=sub.size * 0.8)
    c.write(w / 2, baseline_in(sub, top, sub.size * 1.6), [Run(text, sub, pill if white_pill else WHITE)],
            align="center")
    # white panel with coloured lines, a small line in a pill
    px0, px1, py0 = w * 0.08, w * 0.92, h * 0.31
    py1 = py0 + h * 0.42
    c.rect((px0, py0, px1, py1), fill=(252, 250, 252), radius=w * 0.03)
    accent = hsv(rng.random(), 0.85, 0.55)
    line_face = zh_face(rng, "bold", w * 0.05)
    y = py0 + line_face.size * 1.4
    text = t.draw(lambda r: t.make_zh(r, 2, 5) + " " + t.make_zh(r, 2, 5), fits(line_face, px1 - px0 - 40))
    c.write(w / 2, y, [Run(text, line_face, accent)], align="center")
    small = zh_face(rng, "body", w * 0.028)
    note = t.draw(lambda r: f"{r.randint(-40, 99)}°C{t.make_zh(r, 3, 7)}", fits(small, w * 0.6))
    nw = small.width(note)
    ny = y + small.size * 0.9
    c.rect((w / 2 - nw / 2 - 12, ny, w / 2 + nw / 2 + 12, ny + small.size * 1.6), fill=accent, radius=small.size * 0.8)
    c.write(w / 2, baseline_in(small, ny, small.size * 1.6), [Run(note, small, WHITE)], align="center")
    # prices: a label above, then a small sign, big digits, a small suffix on one baseline
    digits = en_face(rng, "bold", w * rng.uniform(0.1, 0.13))
    tiny = zh_face(rng, "body", w * 0.03)
    base = py0 + (py1 - py0) * 0.72
    for x, scale in ((w * 0.22, 0.5), (w * 0.5, 1.0), (w * 0.78, 0.5)):
        if scale < 1.0 and rng.random() < 0.3:
            continue
        c.write(x, base - digits.size * (0.85 if scale == 1 else 0.5),
                [Run(t.pick("promo_label", fits(tiny, w * 0.2)), tiny, (110, 110, 120))], align="center")
        big = digits.at(digits.size * scale)
        value = t.number(lambda r: f"{r.uniform(1, 99):.1f}")
        sign_face = zh_face(rng, "bold", big.size * 0.4)
        suffix = rng.choice(("起", "", "元"))
        runs = [Run("￥", sign_face, accent), Run(value, big, accent)] + ([Run(suffix, sign_face, accent)] if suffix else [])
        truth = "￥" + value + suffix
        if not t.accepts(truth):
            runs, truth = runs[1:2], value
            if not t.accepts(truth):
                continue
        c.write(x, base + big.size * 0.35, runs, truth=truth, align="center")
    # bullet pills, two per row
    pill_face = zh_face(rng, "bold", w * 0.045)
    colour = vivid(rng, (0.4, 0.7))
    y = py1 + h * 0.05
    for _ in range(2):
        for col in range(2):
            x0 = w * (0.08 + col * 0.44)
            x1 = x0 + w * 0.4
            c.rect((x0, y, x1, y + pill_face.size * 1.7), fill=colour, radius=pill_face.size * 0.85)
            d = pill_face.size * 0.9
            c.ellipse((x0 + 10, y + pill_face.size * 0.4, x0 + 10 + d, y + pill_face.size * 0.4 + d), fill=WHITE)
            label = t.zh(2, 4, fits(pill_face, x1 - x0 - d - 40))
            c.write(x0 + d + 24, baseline_in(pill_face, y, pill_face.size * 1.7), [Run(label, pill_face, WHITE)])
        y += pill_face.size * 2.2
    foot = zh_face(rng, "body", w * 0.026)
    text = t.draw(lambda r: f"活动时间:{t.make_date(r, 'dot')}-{t.make_date(r, 'dot')}", fits(foot, w * 0.9))
    ink = WHITE if luminance(tuple(int(v) for v in ground[int(h * 0.95), w // 2])) < 150 else BLACK
    c.write(w / 2, min(h - foot.size, y + foot.size * 1.2), [Run(text, foot, ink)], align="center")
    return Card(c, tags, rng.choice(("fill", "fill", "object")), "wall", tilt=5.0, perspective=0.06)


def boxes(t: SceneText, rng: random.Random, nrng: np.random.Generator) -> Card:
    """A notice board of framed blocks and a small table (see the module docstring)."""
    w = rng.randint(800, 1000)
    c = Canvas.from_array(paper(nrng, w, 2000, pale(rng), grain=2.0))
    zh = rng.random() < 0.7
    face = (lambda role, size: zh_face(rng, role, size)) if zh else (lambda role, size: en_face(rng, role, size))
    text = (lambda lo, hi, ok: t.zh(lo, hi, ok)) if zh else (lambda lo, hi, ok: t.en(2, 6, ok))
    bar = vivid(rng, (0.45, 0.7))
    head = face("bold", w * 0.05)
    bh = head.size * 1.8
    c.rect((0, 0, w, bh), fill=bar)
    c.write(w * 0.05, baseline_in(head, 0, bh), [Run(t.pick("notice_head", fits(head, w * 0.6)), head, WHITE)])
    m = w * 0.05
    y = bh + w * 0.04
    body = face("body", w * rng.uniform(0.026, 0.032))
    bold = face("bold", body.size * 1.2)
    tags = ["white-on-colour", "multicolour", "colour-boxes"]
    for _ in range(rng.randint(2, 3)):
        colour = hsv(rng.random(), 0.85, 0.5)
        n = rng.randint(1, 3)
        pad = rng.uniform(6, 14)
        box_h = bold.size * 1.5 + n * body.size * 1.6 + 2 * pad
        framed = rng.random() < 0.5
        if framed:
            c.dashed_rect((m, y, w - m, y + box_h), colour, width=2, dash=rng.uniform(6, 12), space=rng.uniform(4, 7))
            tags.append("dashed")
        else:
            c.rect((m, y, w - m, y + box_h), fill=hsv(rng.random(), 0.12, 0.97), radius=8)
        hy = y + pad + bold.size
        hl = c.write(m + pad + 4, hy, [Run(text(2, 8, fits(bold, w * 0.7)), bold, colour)])
        c.line((m + pad, hl.box[3] + rng.uniform(2, 4)), (w - m - pad, hl.box[3] + rng.uniform(2, 4)), colour, 2)
        ly = hy + body.size * 1.6
        for _ in range(n):
            if zh and rng.random() < 0.4:  # a word in another colour inside the line
                a, b, d = (t.make_zh(rng, 2, 6), t.make_zh(rng, 2, 3), t.make_zh(rng, 2, 6))
                whole = a + b + d
                if t.accepts(whole, fits(body, w - 2 * m - 2 * pad)):
                    c.write(m + pad + 4, ly, [Run(a, body, BLACK), Run(b, body, (200, 30, 30)), Run(d, body, BLACK)],
                            truth=whole)
                    ly += body.size * 1.6
                    continue
            c.write(m + pad + 4, ly, [Run(text(4, 16, fits(body, w - 2 * m - 2 * pad)), body, BLACK)])
            ly += body.size * 1.6
        y += box_h + w * 0.035
    if rng.random() < 0.7:  # a small ruled table, its text close to the rules
        cols, rows = rng.randint(2, 3), rng.randint(2, 3)
        cw = (w - 2 * m) / cols
        ch = body.size * 1.55
        rule = (70, 70, 70)
        for r in range(rows + 1):
            c.line((m, y + r * ch), (w - m, y + r * ch), rule, 2)
        for k in range(cols + 1):
            c.line((m + k * cw, y), (m + k * cw, y + rows * ch), rule, 2)
        for r in range(rows):
            for k in range(cols):
                cell = shrink(body, "中" * 6, cw - 12)
                val = (t.number(lambda q: f"{q.randint(1, 99)}.{q.randint(0, 99):02d}") if k else
                       text(2, 6, fits(cell, cw - 12)))
                c.write(m + k * cw + 6, baseline_in(cell, y + r * ch, ch), [Run(val, cell, BLACK)])
        tags.append("rules")
        y += rows * ch + w * 0.04
    foot = face("body", body.size * 0.8)
    tel = t.number(lambda q: f"{q.choice(('咨询电话', 'Tel', '电话'))}:{q.randint(100, 999)}-{q.randint(1000000, 9999999)}")
    if foot.spec.covers(tel):
        c.write(w - m, y + foot.size, [Run(tel, foot, (90, 90, 90))], align="right")
    c.crop(int(y + foot.size * 2.2))
    return Card(c, sorted(set(tags)), "object", rng.choice(("wall", "table")), tilt=6.0, perspective=0.07)
