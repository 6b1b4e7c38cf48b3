"""The 180° and 90° rules of ocr_engine.orientation, on made-up readings."""

from __future__ import annotations

import itertools

import pytest

from ocr_engine import orientation as o
from ocr_engine.detection import TextBox
from ocr_engine.recognition import LineResult
from ocr_engine.schema import Line, OcrResult


def read(text: str, conf: float = 0.9, turned: bool = False) -> LineResult:
    return LineResult(text, conf, (), turned)


def page(*lines: tuple[str, float]) -> OcrResult:
    return OcrResult(width=100, height=100, lines=[Line(t, c, [[0, 0], [1, 0], [1, 1], [0, 1]]) for t, c in lines])


def test_weak_lines_are_read_turned_and_the_turned_reading_must_win_clearly() -> None:
    readings = [read("ab", 0.9), read("cd", 0.5), read("", 0.2)]
    assert o.lines_to_turn(readings) == [1, 2] and o.lines_to_turn(readings, below=0.95) == [0, 1, 2]
    assert o.turned_wins(read("dc", 0.65), read("cd", 0.5)) and not o.turned_wins(read("dc", 0.6), read("cd", 0.5))
    assert not o.turned_wins(read("", 0.99), read("cd", 0.5))  # a turned reading must find text
    assert o.turned_wins(read("dc", 0.51), read("cd", 0.5), o.PAGE_TURNED_MARGIN)
    assert (o.ROTATE_BELOW, o.ROTATE_MARGIN, o.PAGE_TURNED_MARGIN) == (0.65, 0.1, 0.0)


@pytest.mark.parametrize(("flags", "turned"), [
    ([True], False),                     # one line proves nothing
    ([True, True], True),
    ([True, False], False),              # half is not most
    ([True, True, False], True),
    ([True, True, False, False], False),
    ([None, True, True, False], True),   # a reading without text does not count
])
def test_a_page_is_upside_down_when_most_of_its_lines_are(flags: list[bool | None], turned: bool) -> None:
    readings = [read("", 0.3) if f is None else read("ab", 0.9, f) for f in flags]
    assert o.mostly_turned(readings) is turned
    assert o.mostly_turned(iter(readings)) is turned  # any iterable
    assert o.upright_lines(readings) == [i for i, f in enumerate(flags) if not f]


@pytest.mark.parametrize("n", range(1, 7))
def test_the_reading_order_rule_is_the_one_the_engine_had(n: int) -> None:
    """The engine reversed its kept lines when more than half were turned; with the rule shared
    with the recogniser (at least two as well) every kept page comes out in the same order."""
    for flags in itertools.product((False, True), repeat=n):
        kept = [read(f"l{i}", 0.9, f) for i, f in enumerate(flags)]
        before = kept[::-1] if sum(flags) * 2 > len(kept) else kept
        after = kept[::-1] if o.mostly_turned(kept) else kept
        assert after == before, flags


def test_lines_run_down_a_page_in_tall_boxes_or_by_the_deskew() -> None:
    tall, wide = TextBox.from_rect(0, 0, 10, 100), TextBox.from_rect(0, 0, 100, 10)
    assert o.lines_run_down([tall, wide], deskew_found_so=False)             # half the area is tall
    assert not o.lines_run_down([tall, wide, wide], deskew_found_so=False)
    assert o.lines_run_down([wide], deskew_found_so=True)
    assert not o.lines_run_down([], deskew_found_so=False)
    assert not o.lines_run_down([tall, tall], deskew_found_so=True, max_lines=2)  # as many as found at most: noise
    assert o.lines_run_down([tall, tall], deskew_found_so=False, max_lines=3)


def test_a_page_whose_lines_run_down_is_tried_turned() -> None:
    weak, strong = page(("abcd", 0.5)), page(("abcd", 0.9))
    assert o.page_score(weak) == 2.0 and o.page_confidence(weak) == 0.5 and o.page_confidence(page()) == 0.0
    assert o.try_sideways(weak, lines_down=True, vertical=False, whole_image=False)
    # a typeset page on its side reads a few stray pieces confidently: its lines still run down
    assert o.try_sideways(strong, lines_down=True, vertical=False, whole_image=False)
    # a weak reading of a line or two across the page (a photo, noise) is not helped by turning,
    # nor one of a texture; a weak reading of many lines is tried
    assert not o.try_sideways(weak, lines_down=False, vertical=False, whole_image=False)
    many = page(*[("abcd", 0.5)] * o.SIDEWAYS_MIN_LINES)
    assert o.try_sideways(many, lines_down=False, vertical=False, whole_image=False)
    assert not o.try_sideways(many, lines_down=False, vertical=False, whole_image=False, texture=True)
    assert not o.try_sideways(weak, lines_down=True, vertical=True, whole_image=False)
    assert not o.try_sideways(weak, lines_down=True, vertical=False, whole_image=True)
    assert not o.try_sideways(weak, lines_down=True, vertical=False, whole_image=False, below=0.0)


def test_a_turned_reading_must_read_clearly_better() -> None:
    upright = page(("abcd", 0.5))                           # score 2
    assert o.sideways_wins(page(("abcdefg", 0.9)), upright, upright)       # 6.3 > 1.5 x 2
    assert not o.sideways_wins(page(("abc", 0.9)), upright, upright)       # 2.7: not 1.5 times
    assert not o.sideways_wins(page(("abcdefghijklmn", 0.45)), upright, upright)  # more text, less sure
    best = page(("abcdefgh", 0.9))                          # the other turn read 7.2
    assert not o.sideways_wins(page(("abcdefg", 0.9)), upright, best)


def _reads(confidences: list[float], turned: bool = False) -> list[LineResult]:
    return [LineResult("a line of text", c, (), turned) for c in confidences]


def test_a_clean_page_turned_over_is_found_from_many_lines_though_its_wrong_readings_look_sure() -> None:
    # upside-down readings at 0.69-0.82 (above the per-line retry threshold) lose to the turned ones
    as_found = _reads([0.82, 0.69, 0.75, 0.8, 0.77, 0.71])
    assert o.lines_to_turn(as_found) == []
    assert o.page_upside_down(as_found, _reads([0.98, 0.97, 0.99, 0.96, 0.6, 0.99], True))
    # an upright page: its turned readings are worse, or only now and then better
    upright = _reads([0.97, 0.95, 0.99, 0.9, 0.96, 0.93])
    assert not o.page_upside_down(upright, _reads([0.5, 0.98, 0.4, 0.3, 0.97, 0.6], True))
    # a few lines are no evidence either way
    assert not o.page_upside_down(as_found[:2], _reads([0.99, 0.99], True))


def test_the_sample_is_the_longest_upright_lines_in_page_order() -> None:
    reads = [LineResult("x" * n, 0.9, (), n == 7) for n in (3, 9, 1, 7, 5, 8)]
    assert o.page_sample(reads, 3) == [1, 4, 5]
    assert o.page_sample(reads[:2], 3) == []  # fewer than PAGE_MIN_LINES upright lines


def test_a_sample_read_surely_is_not_read_turned() -> None:
    sure = _reads([0.99, 0.98, 0.97, 0.99])
    assert o.page_is_sure(sure, [0, 1, 2, 3])
    assert not o.page_is_sure(_reads([0.82, 0.69, 0.75]), [0, 1, 2])
    assert not o.page_is_sure(sure, [])


def test_marks_and_single_characters_that_noise_reads_as_are_no_evidence_of_the_way_up() -> None:
    """Dot clusters on a noise page read as ``r``, ``。-”`` or ``"”`` either way up: such
    readings must not make a page upside down, nor make a weak page worth turning 90°."""
    marks = ["。-”", '"”', "-”", "r", "T"]
    assert not o.mostly_turned([read(t, 0.9, True) for t in marks] + [read("ab", 0.5)])
    assert o.mostly_turned([read("ab", 0.9, True), read("cd", 0.9, True), read("r", 0.9)])
    assert o.page_sample([read(t) for t in marks]) == []
    assert not o.page_upside_down([read(t, 0.3) for t in marks], [read(t, 0.6, True) for t in marks])
    dots = page(*[("r", 0.5), ("。-r", 0.3)] * o.SIDEWAYS_MIN_LINES)
    assert not o.try_sideways(dots, lines_down=False, vertical=False, whole_image=False)
    pieces = page(*[("ab", 0.5)] * o.SIDEWAYS_MIN_LINES)
    assert o.try_sideways(pieces, lines_down=False, vertical=False, whole_image=False)


def test_a_weak_page_that_left_much_of_itself_unread_is_tried_turned() -> None:
    """A dense page on its side whose lines the finder merged into blocks reads as three junk
    lines: too few for the many-lines rule, but most of its area sat in boxes it could not read."""
    few = page(("2", 0.6), ("[me", 0.6), ("8", 0.7))
    assert not o.try_sideways(few, lines_down=False, vertical=False, whole_image=False)
    assert not o.try_sideways(few, lines_down=False, vertical=False, whole_image=False, unread=0.1)
    assert o.try_sideways(few, lines_down=False, vertical=False, whole_image=False, unread=0.9)
    # not when it read confidently (a price tag with a big picture box), nor for texture
    sure = page(("12.80", 0.9), ("apples", 0.9))
    assert not o.try_sideways(sure, lines_down=False, vertical=False, whole_image=False, unread=0.9)
    assert not o.try_sideways(few, lines_down=False, vertical=False, whole_image=False, unread=0.9, texture=True)
    boxes = [TextBox.from_rect(0, 0, 50, 20), TextBox.from_rect(0, 30, 50, 10)]
    assert o.unread_share(boxes, [False, True], 100 * 100) == 0.1 and o.unread_share(boxes, [True, True], 1e4) == 0.0
