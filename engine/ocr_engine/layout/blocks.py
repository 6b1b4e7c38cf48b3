"""Paragraph blocks: the lines of a page, in reading order, grouped into paragraphs.

:func:`group_blocks` walks the lines in reading order and starts a new block where a reader
sees a new paragraph or region:

* the line is not under the block's last line (another column, a caption beside a figure);
  lines side by side on one row (a form's label and value) stay together;
* it is clearly further below the block's last line than the block's lines are below each
  other (a blank line, the space between paragraphs);
* its text is clearly bigger or smaller (a heading, a footnote);
* it is indented against the block's left edge after a full line (a first-line indent).

Example:
    >>> lines = [(0, 0, 400, 20), (0, 28, 400, 20), (0, 56, 200, 20), (0, 100, 400, 20), (30, 128, 370, 20)]
    >>> group_blocks(lines)
    [[0, 1, 2], [3], [4]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr_engine.geometry import Rect, span_overlap

# A line this many times the block's usual line pitch (top to top) below its last line starts
# a block; in a block of one line, PITCH_LINES of its height.
PITCH_RATIO = 1.3
PITCH_LINES = 1.9
# Text this much taller or shorter than the block's (ratio of line heights) starts a block.
HEIGHT_RATIO = 1.35
# An indent of INDENT_MIN..INDENT_MAX line heights after a line that reached the block's
# right edge (within FULL line heights) starts a paragraph.
INDENT_MIN, INDENT_MAX, FULL = 0.8, 6.0, 1.5


def _same_row(a: Rect, b: Rect) -> bool:
    return float(span_overlap(a[1], a[1] + a[3], b[1], b[1] + b[3])) >= 0.5 * min(a[3], b[3])


def _under(a: Rect, b: Rect) -> bool:
    """Whether ``b`` lies under ``a`` in the same column (their x-spans overlap)."""
    return b[1] >= a[1] + 0.5 * a[3] and float(span_overlap(a[0], a[0] + a[2], b[0], b[0] + b[2])) > 0.3 * min(a[2], b[2])


def group_blocks(rects: Sequence[Rect]) -> list[list[int]]:
    """Group lines (``x, y, w, h``, in reading order, upright) into paragraph blocks.

    Returns:
        Lists of line indexes, in reading order; every line in exactly one.
    """
    blocks: list[list[int]] = []
    for i, r in enumerate(rects):
        if not blocks:
            blocks.append([i])
            continue
        block = blocks[-1]
        last = rects[block[-1]]
        if _same_row(last, r):
            block.append(i)
            continue
        heights = [rects[j][3] for j in block]
        h = float(np.median(heights))
        rows = _rows(rects, block)
        pitches = [b[1] - a[1] for a, b in zip(rows, rows[1:])]
        limit = PITCH_RATIO * float(np.median(pitches)) if pitches else PITCH_LINES * h
        left = min(rects[j][0] for j in block)
        right = max(rects[j][0] + rects[j][2] for j in block)
        last_row = [rects[j] for j in block if _same_row(rects[j], last)]
        new = (not any(_under(q, r) for q in last_row)
               or r[1] - rows[-1][1] > limit
               or not (1 / HEIGHT_RATIO <= r[3] / max(h, 1e-6) <= HEIGHT_RATIO)
               or (INDENT_MIN * h <= r[0] - left <= INDENT_MAX * h
                   and last[0] + last[2] >= right - FULL * h and last[0] - left < INDENT_MIN * h))
        if new:
            blocks.append([i])
        else:
            block.append(i)
    return blocks


def _rows(rects: Sequence[Rect], block: list[int]) -> list[Rect]:
    """The block's lines, one per row (the first of each row), top to bottom."""
    rows: list[Rect] = []
    for j in block:
        if not rows or not _same_row(rows[-1], rects[j]):
            rows.append(rects[j])
    return rows
