"""Drawing a scene's object upright (a ticket, a sign, a poster) and recording each text line's ink box.

A :class:`Canvas` is an RGB image with drawing calls. :meth:`Canvas.write` draws one line from
:class:`Run` pieces (each its own face, colour, outline and letter spacing) and records it, in
the order written, as a :class:`TruthLine` with its ink box: measured on the glyphs' rasters, so
it is tight (the box of what is painted, outline included, drop shadow not). Lines are written
in reading order; shapes (boxes, frames, rules, pictures) carry no text.

Example:
    >>> from ocr_eval.rendered.layout import font_spec, Face
    >>> face = Face(font_spec("DejaVuSans"), 30)
    >>> c = Canvas.blank(300, 80, (255, 255, 255))
    >>> line = c.write(10, 50, [Run("Exit", face, (0, 0, 0))])
    >>> line.text, 10 <= line.box[0] < line.box[2] <= 80, 18 <= line.box[1] < line.box[3] <= 51
    ('Exit', True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from ocr_eval.rendered.layout import Face

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Run:
    """A piece of a line: its text, face and paint.

    ``tracking``: extra pixels after each character (letter-spaced words); ``stroke``: an
    outline of that many pixels in ``stroke_fill``.
    """

    text: str
    face: Face
    fill: RGB
    tracking: float = 0.0
    stroke: int = 0
    stroke_fill: RGB | None = None


@dataclass
class TruthLine:
    """One printed line on the upright canvas: its truth text and ink box; ``vertical`` for a column."""

    text: str
    box: Box
    vertical: bool = False


def _glyphs(run: Run) -> list[str]:
    """The units drawn one at a time: the whole text, or each character when letter-spaced."""
    return list(run.text) if run.tracking else [run.text]


def advance(run: Run) -> float:
    """The run's advance width (letter spacing included, none after the last character)."""
    font = run.face.font
    units = _glyphs(run)
    return sum(font.getlength(u) for u in units) + run.tracking * (len(units) - 1)


def ink(face: Face, text: str, x: float, y: float, anchor: str = "ls", stroke: int = 0) -> Box | None:
    """The ink box of ``text`` drawn at ``(x, y)`` with ``anchor``, from its raster (``None``: no ink)."""
    start = (math.modf(x)[0], math.modf(y)[0])
    mask, (ox, oy) = face.font.getmask2(text, mode="L", anchor=anchor, stroke_width=stroke, start=start)
    bbox = mask.getbbox(False) if mask.size[0] and mask.size[1] else None
    if not bbox:
        return None
    x0, y0, x1, y1 = bbox
    # as ImageDraw.text places it: the whole-pixel part of the point plus the raster's offset
    return (int(x) + ox + x0, int(y) + oy + y0, int(x) + ox + x1, int(y) + oy + y1)


def union(boxes: list[Box | None]) -> Box | None:
    """The box around all given boxes (``None`` when there are none)."""
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return (min(b[0] for b in real), min(b[1] for b in real), max(b[2] for b in real), max(b[3] for b in real))


@dataclass
class Canvas:
    """An upright RGB drawing surface and the truth lines written on it, in reading order."""

    image: Image.Image
    lines: list[TruthLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.draw = ImageDraw.Draw(self.image)

    @classmethod
    def blank(cls, w: int, h: int, colour: RGB) -> Canvas:
        """A plain canvas."""
        return cls(Image.new("RGB", (int(w), int(h)), colour))

    @classmethod
    def from_array(cls, rgb: np.ndarray) -> Canvas:
        """A canvas over an RGB ``uint8`` array (a texture)."""
        return cls(Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB"))

    @property
    def w(self) -> int:
        return self.image.width

    @property
    def h(self) -> int:
        return self.image.height

    def array(self) -> np.ndarray:
        """The canvas as an RGB array."""
        return np.asarray(self.image).copy()

    def set_array(self, rgb: np.ndarray) -> None:
        """Replace the picture (same size or a crop from the top left: the truth boxes stay valid)."""
        self.image = Image.fromarray(np.ascontiguousarray(np.clip(rgb, 0, 255), dtype=np.uint8), "RGB")
        self.draw = ImageDraw.Draw(self.image)

    def crop(self, height: int) -> None:
        """Keep the top ``height`` rows (a receipt cut off the roll)."""
        self.set_array(self.array()[: int(height)])

    # -- text ----------------------------------------------------------------------------------------
    def measure(self, runs: list[Run], gap: float = 0.0) -> float:
        """The width of ``runs`` set one after another, ``gap`` pixels between two runs."""
        return sum(advance(r) for r in runs) + gap * (len(runs) - 1)

    def write(self, x: float, baseline: float, runs: list[Run], *, truth: str | None = None, align: str = "left",
              gap: float = 0.0, shadow: tuple[float, float, RGB] | None = None, record: bool = True) -> TruthLine:
        """Draw ``runs`` on ``baseline`` and record the line (its text: ``truth``, else the runs' texts joined).

        ``align``: ``x`` is the line's left end, ``center`` or right end. ``shadow``: ``(dx, dy, colour)``
        of a drop shadow drawn first (not part of the ink box). ``record=False`` draws without a truth
        line (a decoration such as a watermark).
        """
        width = self.measure(runs, gap)
        x0 = {"left": x, "center": x - width / 2, "right": x - width}[align]
        boxes: list[Box | None] = []
        passes = [True, False] if shadow else [False]
        for is_shadow in passes:
            cx = x0
            for run in runs:
                for unit in _glyphs(run):
                    if is_shadow:
                        dx, dy, colour = shadow  # type: ignore[misc]
                        self.draw.text((cx + dx, baseline + dy), unit, font=run.face.font, fill=colour, anchor="ls",
                                       stroke_width=run.stroke, stroke_fill=colour)
                    else:
                        self.draw.text((cx, baseline), unit, font=run.face.font, fill=run.fill, anchor="ls",
                                       stroke_width=run.stroke, stroke_fill=run.stroke_fill or run.fill)
                        boxes.append(ink(run.face, unit, cx, baseline, stroke=run.stroke))
                    cx += run.face.font.getlength(unit) + run.tracking
                cx += gap - run.tracking
        box = union(boxes) or (x0, baseline - 1, x0 + 1, baseline)
        text = truth if truth is not None else "".join(r.text for r in runs)
        line = TruthLine(" ".join(text.split()), box)
        if record:
            self.lines.append(line)
        return line

    def column(self, cx: float, top: float, text: str, face: Face, fill: RGB, *, pitch: float | None = None,
               stroke: int = 0, stroke_fill: RGB | None = None) -> TruthLine:
        """Draw ``text`` as a vertical column, one upright character per cell from ``top``; record it."""
        pitch = pitch or face.size * 1.1
        boxes = []
        for i, ch in enumerate(text):
            cy = top + pitch * (i + 0.5)
            self.draw.text((cx, cy), ch, font=face.font, fill=fill, anchor="mm", stroke_width=stroke,
                           stroke_fill=stroke_fill or fill)
            boxes.append(ink(face, ch, cx, cy, anchor="mm", stroke=stroke))
        line = TruthLine(text, union(boxes) or (cx, top, cx + 1, top + 1), vertical=True)
        self.lines.append(line)
        return line

    # -- shapes --------------------------------------------------------------------------------------
    def rect(self, box: Box, fill: RGB | None = None, outline: RGB | None = None, width: int = 1,
             radius: float = 0) -> None:
        """A filled and/or outlined box, corners rounded by ``radius``."""
        xy = [float(box[0]), float(box[1]), float(box[2]), float(box[3])]
        if radius:
            self.draw.rounded_rectangle(xy, radius=radius, fill=fill, outline=outline, width=width)
        else:
            self.draw.rectangle(xy, fill=fill, outline=outline, width=width)

    def dashed_line(self, p0: tuple[float, float], p1: tuple[float, float], colour: RGB, width: int = 2,
                    dash: float = 8, space: float = 5) -> None:
        """A dashed straight line from ``p0`` to ``p1``."""
        length = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
        if length < 1:
            return
        ux, uy = (p1[0] - p0[0]) / length, (p1[1] - p0[1]) / length
        s = 0.0
        while s < length:
            e = min(length, s + dash)
            self.draw.line([(p0[0] + ux * s, p0[1] + uy * s), (p0[0] + ux * e, p0[1] + uy * e)], fill=colour,
                           width=width)
            s = e + space
        return

    def dashed_rect(self, box: Box, colour: RGB, width: int = 2, dash: float = 8, space: float = 5) -> None:
        """A dashed frame around ``box``."""
        x0, y0, x1, y1 = box
        for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            self.dashed_line(a, b, colour, width, dash, space)

    def line(self, p0: tuple[float, float], p1: tuple[float, float], colour: RGB, width: int = 1) -> None:
        """A solid straight line (a rule)."""
        self.draw.line([p0, p1], fill=colour, width=width)

    def ellipse(self, box: Box, fill: RGB | None = None, outline: RGB | None = None, width: int = 1) -> None:
        """A filled and/or outlined ellipse in ``box``."""
        self.draw.ellipse([float(v) for v in box], fill=fill, outline=outline, width=width)

    def polygon(self, points: list[tuple[float, float]], fill: RGB | None = None, outline: RGB | None = None) -> None:
        """A filled and/or outlined polygon."""
        self.draw.polygon(points, fill=fill, outline=outline)

    def paste(self, rgb: np.ndarray, x: int, y: int, mask: np.ndarray | None = None) -> None:
        """Paste an RGB array with its top left at ``(x, y)`` (through an 8-bit ``mask`` if given)."""
        im = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
        self.image.paste(im, (int(x), int(y)), None if mask is None else Image.fromarray(mask.astype(np.uint8), "L"))

    def bars(self, box: Box, rng: np.random.Generator, colour: RGB = (20, 20, 20)) -> None:
        """A barcode-like run of bars filling ``box`` (no text)."""
        x0, y0, x1, y1 = box
        x = x0
        while x < x1 - 2:
            w = float(rng.choice((1.0, 1.0, 2.0, 3.0))) * max(1.0, (x1 - x0) / 190)
            if rng.random() < 0.55:
                left, right = int(x), int(min(x1, x + w) - 1)
                self.draw.rectangle([left, int(y0), max(left, right), int(max(y0, y1))], fill=colour)
            x += w
        return

    def qr(self, box: Box, rng: np.random.Generator, colour: RGB = (20, 20, 20)) -> None:
        """A QR-like square of cells with three finder squares (no text)."""
        x0, y0, x1, _ = box
        n = 25
        cell = (x1 - x0) / n
        grid = rng.random((n, n)) < 0.5
        for fy, fx in ((0, 0), (0, n - 7), (n - 7, 0)):
            grid[fy:fy + 7, fx:fx + 7] = False
            grid[fy, fx:fx + 7] = grid[fy + 6, fx:fx + 7] = True
            grid[fy:fy + 7, fx] = grid[fy:fy + 7, fx + 6] = True
            grid[fy + 2:fy + 5, fx + 2:fx + 5] = True
        for (i, j) in zip(*np.nonzero(grid)):
            self.draw.rectangle([x0 + j * cell, y0 + i * cell, x0 + (j + 1) * cell - 1, y0 + (i + 1) * cell - 1],
                                fill=colour)
