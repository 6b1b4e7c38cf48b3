"""Reading order of found boxes: rows, columns of text, and columns of vertical text."""

from __future__ import annotations

import random

from ocr_engine import detection
from ocr_engine.layout import column_order, reading_order


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
