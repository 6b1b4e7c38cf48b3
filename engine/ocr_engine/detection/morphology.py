"""A fast OpenCV text-line detector (no model).

Steps: polarity-free stroke mask (morphological gradient + Otsu), character
height estimate from connected components, horizontal closing to merge
characters, splitting of blobs that hold several lines, geometric merging of
pieces on the same row, padding; the boxes come out in the reading order of
:mod:`ocr_engine.layout`.

Example:
    >>> import cv2, numpy as np
    >>> img = np.full((120, 400), 255, np.uint8)
    >>> _ = cv2.putText(img, "first line", (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, 0, 2)
    >>> _ = cv2.putText(img, "second line", (10, 95), cv2.FONT_HERSHEY_SIMPLEX, 1, 0, 2)
    >>> len(MorphologyDetector().detect(img))
    2
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr_engine.detection.base import TextBox, TextDetector
from ocr_engine.detection.strokes import Strokes, select
from ocr_engine.detection.vertical import find_columns, looks_vertical
from ocr_engine.geometry import Rect, bounding, span_distance, span_overlap, union
from ocr_engine.layout import Gutter, column_order, crosses, find_gutters, reading_order
from ocr_engine.layout.leaders import count_leader_dots, is_dot, join_leaders
from ocr_engine.layout.pictures import find_pictures, inside_pictures
from ocr_engine.preprocess import text_mask


def _merge_rows(rects: list[Rect], gap_ratio: float, overlap_ratio: float = 0.6,
                gutters: list[Gutter] | None = None, column_gap_ratio: float | None = None,
                heading_h: float = float("inf")) -> list[Rect]:
    """Merge boxes on the same row whose horizontal gap is small relative to their height,
    never across one of the ``gutters`` between columns; beside a gutter (rows it runs along:
    a column of a multi-column page, often narrow and justified, with wide word spaces) the
    gap may be up to ``column_gap_ratio`` times the height. Pieces both at least ``heading_h``
    tall (a heading across the columns, whose word space may fall on a gutter) may join across.

    Each box (left to right) merges into the first kept box it matches; passes repeat until
    nothing changes. The match test runs at once (numpy) on the kept boxes whose vertical
    span meets the box's, so noise pages with thousands of pieces stay well under a second.
    """
    boxes = [list(r) for r in rects]
    changed = True
    while changed:
        changed = False
        boxes.sort(key=lambda b: b[0])
        out = np.zeros((len(boxes), 4), np.int64)
        n = 0
        for b in boxes:
            bx, by, bw, bh = b
            # Both tests below need the vertical spans to meet (overlap >= 0): narrow down to
            # those boxes first (in index order, so the first match is the same).
            near = np.flatnonzero((out[:n, 1] <= by + bh) & (out[:n, 1] + out[:n, 3] >= by)) if n else None
            if near is not None and near.size:
                ox, oy, ow, oh = out[near].T
                overlap = span_overlap(oy, oy + oh, by, by + bh)
                hmin, hmax = np.minimum(oh, bh), np.maximum(oh, bh)
                gap = bx - (ox + ow)
                ratio = gap_ratio
                if gutters and column_gap_ratio:
                    in_band = np.zeros(len(near), bool)
                    for g in gutters:
                        in_band |= (np.maximum(oy, by) >= g.y0) & (np.minimum(oy + oh, by + bh) <= g.y1)
                    ratio = np.where(in_band, column_gap_ratio, gap_ratio)
                similar = (hmax <= 2.2 * hmin) & (gap <= ratio * hmax)
                # punctuation, accents: a small piece centred in the other's vertical span
                o_small = oh < bh
                small_y, small_h = np.where(o_small, oy, by), np.where(o_small, oh, bh)
                small_w = np.where(o_small, ow, bw)
                big_y, big_h = np.where(o_small, by, oy), np.where(o_small, bh, oh)
                centre = small_y + small_h / 2
                # (a mark, not a run of text: a text line beside a picture stays a line)
                small_inside = ((0.2 * big_h <= small_h) & (small_h <= 0.45 * big_h) & (small_w <= 2 * small_h)
                                & (big_y <= centre) & (centre <= big_y + big_h) & (gap <= 0.8 * hmax))
                join = ((overlap >= overlap_ratio * hmin) & similar) | small_inside
                if gutters:
                    join &= ~crosses(gutters, np.minimum(ox, bx), np.maximum(ox + ow, bx + bw),
                                     np.minimum(oy, by), np.maximum(oy + oh, by + bh)) | (hmin >= heading_h)
                hits = near[join]
                if hits.size:
                    out[hits[0]] = union(tuple(int(v) for v in out[hits[0]]), (bx, by, bw, bh))
                    changed = True
                    continue
            out[n] = b
            n += 1
        boxes = out[:n].tolist()
    return [tuple(b) for b in boxes]  # type: ignore[misc]


def _spanning_rows(rects: list[Rect], overlap_ratio: float = 0.5) -> np.ndarray:
    """Which boxes reach across two others that lie one above the other (two text lines).

    Such a box is a picture (or a tall title) beside a paragraph, not part of either line:
    merged into one, it would make a line box as tall as two lines.

    Example:
        >>> _spanning_rows([(0, 0, 20, 40), (30, 0, 90, 18), (30, 22, 90, 18)]).tolist()
        [True, False, False]
    """
    if len(rects) < 3:
        return np.zeros(len(rects), bool)
    r = np.asarray(rects, np.int64)
    y0, y1 = r[:, 1], r[:, 1] + r[:, 3]
    overlap = span_overlap(y0[:, None], y1[:, None], y0[None, :], y1[None, :])
    # [i, j]: i covers most of j, and j is a line (not a quote mark or an accent above a letter)
    line_like = (r[None, :, 3] >= 0.4 * r[:, None, 3]) & (r[None, :, 2] >= r[None, :, 3])
    covers = (overlap >= overlap_ratio * r[None, :, 3]) & line_like
    np.fill_diagonal(covers, False)
    lowest_top = np.where(covers, y0[None, :], -1).max(axis=1)
    highest_bottom = np.where(covers, y1[None, :], np.iinfo(np.int64).max).min(axis=1)
    return (covers.sum(axis=1) >= 2) & (highest_bottom <= lowest_top)


def _split_rows(mask: np.ndarray, rect: Rect, line_h: float) -> list[Rect]:
    """Split a blob that spans several text lines at the valleys of its row profile."""
    x, y, w, h = rect
    if h < 1.7 * line_h or w < 2 * line_h:
        return [rect]
    prof = (mask[y:y + h, x:x + w] > 0).sum(axis=1).astype(np.float64)
    if prof.max() <= 0:
        return [rect]
    k = max(1, int(line_h * 0.15))
    smooth = np.convolve(prof, np.ones(k) / k, mode="same")
    low = smooth <= 0.08 * smooth.max()
    out: list[Rect] = []
    start = None
    for i, is_low in enumerate(np.r_[low, True]):
        if not is_low and start is None:
            start = i
        elif is_low and start is not None:
            if i - start >= 3:
                out.append((x, y + start, w, i - start))
            start = None
    if len(out) < 2:
        return [rect]
    # Tighten each piece horizontally to its own ink.
    tight: list[Rect] = []
    for px, py, pw, ph in out:
        cols = np.flatnonzero((mask[py:py + ph, px:px + pw] > 0).any(axis=0))
        if cols.size:
            tight.append((px + int(cols[0]), py, int(cols[-1] - cols[0] + 1), ph))
    return tight


def _absorb_fragments(rects: list[Rect], char_h: float) -> list[Rect]:
    """Join small pieces just above or below a line into that line.

    Descender tails, accents and dots that the stroke mask cut off from their letters would
    otherwise come back as one-character lines of their own. A piece counts as a fragment
    when it is lower than half a character and narrower than one, lies within a line's
    horizontal span, and its vertical gap to that line is under a third of a character.

    Example:
        >>> _absorb_fragments([(0, 0, 200, 20), (50, 21, 5, 5)], 20.0)
        [(0, 0, 200, 26)]
    """
    if len(rects) < 2:
        return rects
    arr = np.array(rects, np.int64)
    x, y, w, h = arr.T
    small = (h < 0.5 * char_h) & (w < char_h)
    lines = np.flatnonzero(~small & (w >= char_h))
    if not small.any() or lines.size == 0:
        return rects
    out = arr.copy()
    drop = np.zeros(len(rects), bool)
    lx, ly, lw, lh = arr[lines].T
    for i in np.flatnonzero(small):
        inside = (lx <= x[i]) & (x[i] + w[i] <= lx + lw)
        gap = span_distance(y[i], y[i] + h[i], ly, ly + lh)  # < 0: they overlap
        near = inside & (gap <= char_h / 3) & (lh >= 2 * h[i])
        if not near.any():
            continue
        j = lines[np.flatnonzero(near)[np.argmin(gap[near])]]
        y0 = min(out[j, 1], y[i])
        y1 = max(out[j, 1] + out[j, 3], y[i] + h[i])
        out[j, 1], out[j, 3] = y0, y1 - y0
        drop[i] = True
    return [tuple(int(v) for v in r) for r, d in zip(out, drop) if not d]  # type: ignore[misc]


def _despeckled_mask(gray: np.ndarray, min_contrast: int, max_speckle: float) -> tuple[np.ndarray, bool]:
    """The stroke mask of ``gray``, or of its 3x3 median when specks make up most of it.

    Isolated dots of one or two pixels (salt-and-pepper noise) vanish under a 3x3 median,
    while text strokes mostly survive it (rendered text keeps over 60 % of its mask, real
    photos and scans over 80 %). A page whose mask loses more than ``max_speckle`` is
    searched in the filtered image, so its noise does not turn into hundreds of lines.

    Returns:
        The mask, and whether it is the filtered one.

    Example:
        >>> salt = np.where(np.random.default_rng(0).random((200, 300)) < 0.02, 255, 0).astype(np.uint8)
        >>> mask, filtered = _despeckled_mask(salt, 24, 0.75)
        >>> int(mask.max()), filtered
        (0, True)
    """
    mask = text_mask(gray, min_contrast)
    total = cv2.countNonZero(mask)
    if total == 0:
        return mask, False
    filtered = text_mask(cv2.medianBlur(gray, 3), min_contrast)
    if cv2.countNonZero(filtered) < (1.0 - max_speckle) * total:
        return filtered, True
    return mask, False


def _single_row(rects: list[Rect], image_h: int) -> list[Rect]:
    """A line-shaped image whose pieces all sit on one row is one line, whatever the gaps."""
    if len(rects) < 2:
        return rects
    whole = bounding(rects)
    hmax = max(r[3] for r in rects)
    if image_h > 2.5 * hmax or whole[3] > 1.5 * hmax:
        return rects
    return [whole]


# Pieces this many times as tall as the body's (and HEADING_LETTERS letter heights) are
# headings: they may join across a gutter (a heading over the columns whose word space falls
# on one).
HEADING = 1.25
HEADING_LETTERS = 1.3
# Pages where at least this share of the pieces are the dots of leaders (a table of contents)
# take the height of their letters, not of all their pieces, as the character height.
MOSTLY_DOTS = 0.3


def _heading_h(pieces: list[Rect], letter_h: float) -> float:
    """The height from which row pieces are headings: :data:`HEADING` times the body's (the
    median piece), and at least :data:`HEADING_LETTERS` letter heights.

    Example:
        >>> _heading_h([(0, 0, 50, 20), (0, 30, 50, 22), (0, 60, 80, 20)], 12.0)
        25.0
    """
    if not pieces:
        return float("inf")
    return max(HEADING * float(np.median([p[3] for p in pieces])), HEADING_LETTERS * letter_h)


@dataclass
class _Found:
    """What one search of a page found: line rectangles, whether its strokes look hollow (see
    ``hollow_fill``), its :class:`Strokes` (None where the mask searched was the despeckled
    one), the gutters between its columns, and the dotted leaders inside its lines."""

    rects: list[Rect]
    hollow: bool = False
    strokes: Strokes | None = None
    gutters: list[Gutter] = field(default_factory=list)
    leaders: dict[Rect, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class MorphologyDetector(TextDetector):
    """OpenCV line detector for documents, screenshots, receipts and single-line crops.

    Args:
        max_side: The page is downscaled to this longest side for detection.
        min_contrast: Minimum stroke contrast (gray levels) to count as text.
        merge_gap: Pieces on one row closer than this times their height merge.
        column_merge_gap: The same, in the rows of a column beside a gutter (justified narrow
            columns space their words widely; the gutter keeps the columns apart).
        pad_x: Horizontal padding of each box, times its height.
        pad_y: Vertical padding of each box, times its height.
        min_height: Smallest line height kept, in pixels of the original image.
        max_pieces: More candidate pieces than this (noise, texture) keeps only the
            largest ones, which bounds the time spent on one image.
        max_density: Pages whose stroke mask covers more than this fraction are
            noise or texture: no lines.
        max_lines: At most this many lines (the first in reading order) are returned.
        max_speckle: When a 3x3 median filter removes more than this fraction of the
            stroke mask, the page is salt-and-pepper noise (dots of 1-2 pixels) and lines
            are searched in the filtered image (see :func:`_despeckled_mask`).
        hollow_fill: When the stroke-mask pieces fill less than this of their boxes (mean
            weighted by area: the mask shows only the outlines of big, bold glyphs, which then
            fall apart), the page is searched again at half the scale, at most
            ``max_halvings`` times, while its pieces stay over ``min_halving_height`` pixels
            tall (mean weighted by area).
        max_halvings: See ``hollow_fill``.
        min_halving_height: See ``hollow_fill``.
        direction: ``horizontal``, ``vertical`` (columns, read right to left) or ``auto``
            (columns when they explain the page better than lines, see
            :func:`~ocr_engine.detection.vertical.looks_vertical`).
    """

    max_side: int = 1600
    min_contrast: int = 24
    merge_gap: float = 1.8
    column_merge_gap: float = 3.5
    pad_x: float = 0.25
    pad_y: float = 0.2
    min_height: int = 6
    max_pieces: int = 1500
    max_density: float = 0.4
    max_lines: int = 400
    max_speckle: float = 0.75
    hollow_fill: float = 0.25
    max_halvings: int = 3
    min_halving_height: int = 24
    direction: str = "auto"
    name: str = "opencv"

    def _rects(self, gray: np.ndarray) -> _Found:
        """The lines of ``gray``, and what was found on the way (:class:`_Found`)."""
        mask, filtered = _despeckled_mask(gray, self.min_contrast, self.max_speckle)
        H, W = gray.shape
        if H > 160 and cv2.countNonZero(mask) > self.max_density * H * W:
            return _Found([])  # strokes everywhere: noise or texture, not text
        found = Strokes.of(mask)
        stats = found.stats
        strokes = None if filtered else found
        if len(stats) < 2:
            return _Found([], False, strokes)
        hs = stats[1:, cv2.CC_STAT_HEIGHT]
        ws = stats[1:, cv2.CC_STAT_WIDTH]
        areas = stats[1:, cv2.CC_STAT_AREA]
        fill = areas / np.maximum(hs * ws, 1)
        # Specks, page-sized frames, and large sparse webs (texture, graphics, table rules).
        big_sparse = (hs * ws > 0.01 * H * W) & (fill < 0.12) & (hs > 0.2 * H)
        pieces = (hs >= 4) & (areas >= 6) & ~((hs > 0.9 * H) & (ws > 0.9 * W))
        if not pieces.any():
            return _Found([], False, strokes)
        # Weighted by area, so that the big pieces count, not the many small holes inside them.
        weight = areas[pieces] / float(areas[pieces].sum())
        hollow = (float(weight @ hs[pieces]) > self.min_halving_height
                  and float(weight @ fill[pieces]) < self.hollow_fill)
        keep = pieces & ~big_sparse
        if not keep.any():
            return _Found([], hollow, strokes)
        # The height of a letter: the median of the pieces of letter size (not of the dots of
        # a dotted leader, of punctuation or of the dots over i and j), for gutters and leaders;
        # and that of a character, the median of all pieces, unless dots make up most of them
        # (a table of contents with dotted leaders).
        order = np.argsort(hs[keep])
        ink_share = np.cumsum(areas[keep][order]) / float(areas[keep].sum())
        typical = float(hs[keep][order][np.searchsorted(ink_share, 0.5)])  # half the ink is in taller pieces
        letters = keep & (hs >= 0.4 * typical)
        letter_h = float(np.median(hs[letters]))
        dots = np.flatnonzero(is_dot(ws, hs, letter_h) & (areas >= 2) & (hs >= 2)) + 1
        dot_boxes = stats[dots, :4].astype(np.float64)
        leader_dots = count_leader_dots(dot_boxes, letter_h)
        char_h = letter_h if leader_dots >= MOSTLY_DOTS * keep.sum() else float(np.median(hs[keep]))
        # Hollow outlines around text (buttons, boxes, table cells) are not text.
        keep &= ~((fill < 0.15) & (hs > 1.5 * char_h) & (ws > 3 * char_h))
        if not keep.any():
            return _Found([], hollow, strokes)
        # Columns of text and the gutters between them (rules down a gutter, and the pieces of a
        # rule broken up by a scan, are part of it).
        rule = ((hs > 8 * ws) & (hs > 2.5 * letter_h)) | ((ws <= 0.25 * letter_h) & (hs >= 1.5 * letter_h))
        # (dots and specks left out: scan noise in a gutter is no text)
        speck = (hs < 0.3 * letter_h) & (ws < 0.3 * letter_h)
        gutters = find_gutters(stats[1:, :4][keep & ~rule & ~speck].tolist(), 1.3 * letter_h, (H, W))
        # Typical-size components are merged into lines by a horizontal closing; much
        # taller ones (big titles, pictures) stay single pieces for the geometric merge,
        # so a picture next to a paragraph does not swallow its lines.
        big = keep & (hs > 2.5 * char_h)
        mask = select(found, np.r_[False, keep & ~big])
        kw = max(3, int(round(1.2 * char_h)))
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kw, 1)))
        for g in gutters:  # a narrow gutter must not be closed over
            mid = int(g.x)
            closed[g.y0:g.y1, max(0, mid - 1):mid + 2] = 0
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        rects: list[Rect] = []
        for cnt in contours:
            x, y, w, h = cv2.boundingRect(cnt)
            rects.extend(_split_rows(mask, (x, y, w, h), char_h))
        for i in np.flatnonzero(big):
            x, y, w, h = (int(v) for v in stats[i + 1, :4])
            rects.append((x, y, w, h))
        mask = select(found, np.r_[False, keep])
        good = []
        for x, y, w, h in rects:
            if h < 4 or w < 3:
                continue
            if w > 8 * h and h < 0.35 * char_h:  # rules and underlines
                continue
            if h > 8 * w and h > 2.5 * char_h:  # column separators, table rules
                continue
            if h > 4 * char_h and w < 2 * h and H > 3 * h:  # big squarish blob: a picture
                continue
            if cv2.countNonZero(mask[y:y + h, x:x + w]) < 0.08 * w * h:
                continue
            good.append((x, y, w, h))
        # Photos among the text are not read (their edges would come out as junk lines).
        pictures = find_pictures(gray, letter_h)
        if pictures:
            good = [g for g, inside in zip(good, inside_pictures(good, pictures)) if not inside]
        if len(good) > self.max_pieces:
            # Noise or texture, not a page of text: keep the largest pieces (in their
            # order) so the time spent on one image stays bounded.
            order = sorted(range(len(good)), key=lambda i: -good[i][2] * good[i][3])
            good = [good[i] for i in sorted(order[:self.max_pieces])]
        apart = _spanning_rows(good) if len(good) <= self.max_pieces // 3 else np.zeros(len(good), bool)
        merged = _merge_rows([g for g, a in zip(good, apart) if not a], self.merge_gap, gutters=gutters,
                             column_gap_ratio=self.column_merge_gap, heading_h=_heading_h(good, letter_h))
        rects = _absorb_fragments(merged + [g for g, a in zip(good, apart) if a], char_h)
        leaders: dict[Rect, list[tuple[int, int]]] = {}
        if leader_dots:
            rects, leaders = join_leaders(rects, dot_boxes.tolist(), letter_h)
        return _Found(rects, hollow, strokes, gutters, leaders)

    def detect(self, gray: np.ndarray) -> list[TextBox]:
        """Find text lines in a 2-D ``uint8`` image; boxes in its coordinates, reading order."""
        H, W = gray.shape[:2]
        scale = min(1.0, self.max_side / max(H, W))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        found = self._rects(small)
        for _ in range(self.max_halvings):
            if not found.hollow:
                break
            # Big, bold glyphs whose strokes show only as outlines: look again at half size.
            scale *= 0.5
            size = (max(1, round(W * scale)), max(1, round(H * scale)))
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
            found = self._rects(small)
        rects = [r for r in found.rects if r[3] / scale >= self.min_height]
        columns = self._columns(small, rects, found.strokes)
        if columns:
            return self._boxes(column_order(columns), scale, W, H, vertical=True)
        if not rects and H <= 160 and W >= 1.5 * H:
            # A line-shaped image with no confident strokes: read it as one line.
            return [TextBox.from_rect(0, 0, W, H, score=0.5)]
        rects = _single_row(rects, small.shape[0])
        return self._boxes(reading_order(rects, found.gutters), scale, W, H, vertical=False, leaders=found.leaders)

    def _columns(self, small: np.ndarray, rows: list[Rect], strokes: Strokes | None) -> list[Rect]:
        """Columns of vertical text in ``small``, or ``[]`` when the page reads horizontally.

        ``strokes``: ``small``'s, when the line finder has them already.
        """
        if self.direction == "horizontal":
            return []
        if self.direction == "auto" and (small.shape[0] < 2 * small.shape[1] and len(rows) < 2):
            return []  # one line or nothing, on a page that is not column-shaped
        if strokes is None:
            strokes = Strokes.of(text_mask(small, self.min_contrast))
        columns = find_columns(small, self.min_contrast, strokes)
        if self.direction == "auto" and not looks_vertical(small, rows, columns, self.min_contrast, strokes.mask):
            return []
        return columns

    def _boxes(self, rects: list[Rect], scale: float, W: int, H: int, vertical: bool,
               leaders: dict[Rect, list[tuple[int, int]]] | None = None) -> list[TextBox]:
        """Padded boxes in the original image (``pad_y`` across the text, ``pad_x`` along it),
        each with its ``leaders`` (spans of ``x`` in ``rects``' scale) as blanks."""
        boxes = []
        for x, y, w, h in rects[: self.max_lines]:
            x0, y0, x1, y1 = x / scale, y / scale, (x + w) / scale, (y + h) / scale
            size = (x1 - x0) if vertical else (y1 - y0)  # the text's height: a column's width
            # (a column is its ink's width already; more would take in the rules beside it)
            along, across = self.pad_x * size, (0.05 if vertical else self.pad_y) * size
            px, py = (across, along) if vertical else (along, across)
            x0, x1 = max(0.0, x0 - px), min(float(W), x1 + px)
            y0, y1 = max(0.0, y0 - py), min(float(H), y1 + py)
            bx0, bw = round(x0), max(1, round(x1 - x0))
            blanks = tuple(((a / scale - bx0) / bw, (b / scale - bx0) / bw)
                           for a, b in (leaders or {}).get((x, y, w, h), []))
            boxes.append(TextBox.from_rect(bx0, round(y0), bw, round(y1 - y0), vertical=vertical, blanks=blanks))
        return boxes
