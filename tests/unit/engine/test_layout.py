"""The layout stage: reading order of found boxes (rows, columns of text, columns of vertical
text), the gutters between columns, the dotted leaders of contents pages, paragraph blocks and
the pictures among the text."""

from __future__ import annotations

import random

import cv2
import numpy as np

from ocr_engine import detection
from ocr_engine.layout import Gutter, column_order, find_gutters, reading_order
from ocr_engine.layout.blocks import group_blocks
from ocr_engine.layout.leaders import join_leaders, leader_spans
from ocr_engine.layout.pictures import find_pictures, inside_pictures


def test_reading_order_rows_then_columns() -> None:
    rects = [(300, 52, 80, 20), (10, 50, 100, 24), (10, 100, 50, 20), (200, 5, 30, 20)]
    assert reading_order(rects) == [(200, 5, 30, 20), (10, 50, 100, 24), (300, 52, 80, 20), (10, 100, 50, 20)]


def test_reading_order_two_columns_under_a_title() -> None:
    title = [(40, 10, 700, 40)]
    left = [(40, 100 + 40 * i, 300, 24) for i in range(5)]
    right = [(420, 100 + 40 * i, 320, 24) for i in range(5)]
    shuffled = [*right[::-1], *left, *title]
    assert reading_order(shuffled) == [*title, *left, *right]


def test_reading_order_receipt_items_and_prices_stay_in_rows() -> None:
    items = [(20, 50 + 40 * i, 260, 24) for i in range(6)]
    prices = [(520, 50 + 40 * i, 70, 24) for i in range(6)]
    order = reading_order([*prices, *items])
    assert order == [r for pair in zip(items, prices) for r in pair]


def test_reading_order_of_nothing_and_of_any_shuffle() -> None:
    assert reading_order([]) == []
    page = [(40, 10, 700, 40), *[(40 + 380 * c, 100 + 40 * i, 300, 24) for c in range(2) for i in range(4)]]
    rng = random.Random(0)
    for _ in range(20):
        shuffled = page[:]
        rng.shuffle(shuffled)
        assert reading_order(shuffled) == page


def test_columns_read_right_to_left_each_stack_top_to_bottom() -> None:
    right_top, right_bottom, left = (200, 0, 20, 90), (202, 100, 18, 60), (100, 0, 20, 150)
    assert column_order([left, right_bottom, right_top]) == [right_top, right_bottom, left]
    assert column_order([]) == []


def test_the_detection_package_still_exports_reading_order() -> None:
    assert detection.reading_order is reading_order


# ---------------------------------------------------------------- gutters and leaders
def _column(x0: int, lines: int, width: int = 300, pitch: int = 34, top: int = 100) -> list[tuple[int, int, int, int]]:
    """Character boxes of a justified column: 24 px letters, word spaces every 5 letters."""
    boxes = []
    for r in range(lines):
        x = x0
        while x + 20 <= x0 + width:
            boxes.append((x, top + pitch * r, 18, 24))
            x += 22 if (x - x0) // 22 % 5 != 4 else 30
    return boxes


def test_a_gutter_is_found_between_two_columns_and_not_inside_one() -> None:
    left, right = _column(100, 12), _column(100 + 300 + 26, 12)  # a gutter of about one em
    gutters = find_gutters(left + right, 30.0, (700, 900))
    assert len(gutters) == 1
    g = gutters[0]
    assert 396 <= g.x0 < g.x < g.x1 <= 436 and g.y0 <= 110 and g.y1 >= 470
    assert find_gutters(left, 30.0, (700, 900)) == []  # word spaces never line up into one


def test_no_gutter_beside_short_items_or_in_a_few_lines() -> None:
    items = _column(100, 12, width=300)
    prices = [(470, 100 + 34 * r, 60, 24) for r in range(12)]  # a narrow column of numbers
    assert find_gutters(items + prices, 30.0, (700, 900)) == []
    few = _column(100, 3) + _column(426, 3)  # three lines side by side: no evidence of columns
    assert find_gutters(few, 30.0, (700, 900)) == []


def test_aligned_word_spaces_of_alike_lines_are_no_gutter() -> None:
    # every line the same: its spaces line up down the page, but are no wider than a space
    line = [(100 + 22 * i + (8 if i >= 5 else 0), 0, 18, 24) for i in range(12)]
    page = [(x, 100 + 34 * r, w, h) for r in range(12) for x, _, w, h in line]
    assert find_gutters(page, 30.0, (700, 900)) == []


def test_reading_order_uses_gutters_under_a_spanning_heading() -> None:
    # two columns 26 px apart (too narrow for the plain XY cut) under a heading across both
    heading = (100, 40, 600, 30)
    left = [(100, 100 + 34 * i, 300, 24) for i in range(10)]
    right = [(426, 100 + 34 * i, 300, 24) for i in range(10)]
    gutters = [Gutter(400, 96, 426, 440)]
    assert reading_order([*right, *left, heading], gutters) == [heading, *left, *right]


def test_dotted_leaders_join_an_entry_to_its_page_number_and_are_blanked() -> None:
    dots = [(230 + 12 * i, 114, 3, 3) for i in range(30)]
    entries, leaders = join_leaders([(100, 100, 120, 20), (600, 100, 24, 20)], dots, 18.0)
    assert entries == [(100, 100, 524, 20)]
    (a, b), = leaders[entries[0]]
    assert 220 <= a <= 230 and 578 <= b <= 600
    # a Chinese ellipsis (two em of dots) inside a line is text, not a leader
    ellipsis = np.array([(150 + 6 * i, 114, 3, 3) for i in range(6)], float)
    assert leader_spans((100, 100, 300, 20), ellipsis, 18.0) == []
    # a row of small letters, evenly spaced, is not a leader either
    letters = np.array([(150 + 8 * i, 108, 7, 7) for i in range(20)], float)
    assert leader_spans((100, 100, 400, 20), letters, 18.0) == []


def test_a_blank_span_of_a_box_is_painted_over_before_reading() -> None:
    img = np.zeros((20, 100), np.uint8)
    img[:, 80:] = 255
    crop = detection.crop_box(img, detection.TextBox.from_rect(0, 0, 100, 20, blanks=((0.2, 0.5),)))
    assert crop[:, 20:50].min() == 255 and crop[:, :20].max() == 0 and crop[:, 50:80].max() == 0


# ---------------------------------------------------------------- paragraph blocks
def test_blocks_break_at_paragraph_space_headings_indents_and_columns() -> None:
    heading = (0, 0, 300, 34)
    para1 = [(0, 50 + 28 * i, 400, 20) for i in range(3)]
    para2 = [(0, 150, 400, 20), (0, 178, 180, 20)]  # after a blank line
    indented = [(30, 206, 370, 20), (0, 234, 400, 20)]  # a short line, then an indent: still one paragraph
    column2 = [(460, 50 + 28 * i, 400, 20) for i in range(3)]
    lines = [heading, *para1, *para2, *indented, *column2]
    assert group_blocks(lines) == [[0], [1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]


def test_blocks_keep_a_row_of_a_form_together_and_every_line_once() -> None:
    rows = [r for i in range(4) for r in ((0, 30 * i, 120, 20), (300, 30 * i, 80, 20))]
    assert group_blocks(rows) == [list(range(8))]
    assert group_blocks([]) == []


# ---------------------------------------------------------------- pictures
def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.normal(128, 40, (h // 4, w // 4)).clip(0, 255).astype(np.uint8)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def test_a_photo_on_a_page_is_found_and_its_pieces_dropped() -> None:
    page = np.full((800, 600), 250, np.uint8)
    for r in range(10):
        cv2.putText(page, "some words of text", (40, 40 + 30 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 20, 2)
    page[400:700, 100:500] = _photo(300, 400)
    (x, y, w, h), = find_pictures(page, 18.0)
    assert abs(x - 100) <= 20 and abs(y - 400) <= 20 and abs(w - 400) <= 40 and abs(h - 300) <= 40
    assert inside_pictures([(40, 40, 200, 20), (200, 500, 60, 20)], [(x, y, w, h)]).tolist() == [False, True]


def test_no_pictures_in_a_photo_nor_under_flat_shading() -> None:
    assert find_pictures(_photo(600, 800), 18.0) == []  # a scene photo: its text lies on the picture
    page = np.full((800, 600), 250, np.uint8)
    page[300:600, 50:550] = 215  # a grey box behind code
    for r in range(8):
        cv2.putText(page, "x = f(y)  # code", (70, 330 + 32 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 20, 2)
    assert find_pictures(page, 18.0) == []
