"""Which way up the text is: every 180° and 90° decision of the engine, in one module.

* A line read with little confidence is also read turned 180°, and the turned reading is
  kept when it is clearly more confident (:func:`lines_to_turn`, :func:`turned_wins`).
* A page is upside down when a sample of its lines (:func:`page_sample`) reads better turned
  180° than as found, line after line (:func:`page_upside_down`): evidence over many lines,
  for a clean page turned over reads confidently both ways. Then, and when most of its lines
  came out turned anyway (:func:`mostly_turned`), the recogniser reads its other lines turned
  too, and the engine reverses its reading order.
* A page whose lines run down it (:func:`lines_run_down`), or that read weakly as many lines,
  is also read turned 90° each way (:func:`try_sideways`), and a clearly better reading is kept
  (:func:`sideways_wins`).

The recogniser (:class:`~ocr_engine.recognition.Recognizer`) and the engine
(:class:`~ocr_engine.engine.OcrEngine`) do the turning and reading; the rules are here.

Example:
    >>> from ocr_engine.recognition import LineResult
    >>> page = [LineResult("ab", 0.9, (), True), LineResult("cd", 0.8, (), True), LineResult("ef", 0.7, ())]
    >>> mostly_turned(page), lines_to_turn(page)
    (True, [])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocr_engine.detection import TextBox
    from ocr_engine.recognition import LineResult
    from ocr_engine.schema import OcrResult

# --- 180°: lines, and pages upside down -------------------------------------------------------

# Lines read with less confidence than this are also read turned 180° (0: never) ...
ROTATE_BELOW = 0.65
# ... and the turned reading must be this much more confident to be kept: a weak model's two
# guesses at a line are both noise.
ROTATE_MARGIN = 0.1
# Once the page is known to be upside down, a line's turned reading needs only be more confident.
PAGE_TURNED_MARGIN = 0.0


def found_text(reading: LineResult, at_least: int = 1) -> bool:
    """Whether a reading found text: ``at_least`` letters, digits or hanzi. Readings of only
    punctuation and marks (what noise and dot clusters read as, either way up) are no evidence
    of which way up a page is.

    Example:
        >>> from ocr_engine.recognition import LineResult
        >>> found_text(LineResult("。-”", 0.5, ())), found_text(LineResult("a-", 0.5, ()))
        (False, True)
    """
    return sum(ch.isalnum() for ch in reading.text) >= at_least


def lines_to_turn(readings: Sequence[LineResult], below: float = ROTATE_BELOW) -> list[int]:
    """Indices of the readings confident below ``below``: worth reading again turned 180°."""
    return [i for i, r in enumerate(readings) if r.confidence < below]


def turned_wins(turned: LineResult, reading: LineResult, margin: float = ROTATE_MARGIN) -> bool:
    """Whether a line's turned reading replaces ``reading``: it found text, ``margin`` more confidently."""
    return bool(turned.text) and turned.confidence > reading.confidence + margin


def mostly_turned(readings: Iterable[LineResult]) -> bool:
    """Whether the page is upside down: at least two, and more than half, of the readings that
    found text of two characters or more (:func:`found_text`) were read turned 180°.

    One rule for both of its uses. The recogniser asks it of every line read on the page (then
    it reads the page's other lines turned too); the engine asks it of the lines it keeps (then
    their reading order runs bottom-up). The engine once counted "more than half" alone; for it
    the two agree, since a single line turned of a single line kept has no order to reverse.

    Example:
        >>> from ocr_engine.recognition import LineResult
        >>> mostly_turned([LineResult("a", 0.9, (), True)])  # one line proves nothing
        False
    """
    read = [r for r in readings if found_text(r, 2)]
    turned = sum(r.rotated_180 for r in read)
    return turned >= 2 and 2 * turned > len(read)


# A page's orientation is decided on up to this many of its longest lines (at least PAGE_MIN_LINES).
PAGE_SAMPLE = 8
PAGE_MIN_LINES = 3
# The turned readings must win on this share of the sample, by this much confidence on average.
PAGE_WIN_SHARE = 0.7
PAGE_MIN_GAIN = 0.03
# A sample read this confidently on average (a clean page the right way up reads at 0.99) is
# not read turned: the wrong readings of a page upside down come out at 0.7-0.85.
PAGE_SURE = 0.93


def page_sample(readings: Sequence[LineResult], size: int = PAGE_SAMPLE) -> list[int]:
    """Indices of the readings to decide the page's orientation on: the ``size`` with the most
    characters among those read upright (``[]`` for fewer than :data:`PAGE_MIN_LINES`).

    Example:
        >>> from ocr_engine.recognition import LineResult
        >>> page_sample([LineResult("abc", 0.9, ()), LineResult("a", 0.9, ()), LineResult("ab", 0.9, ())], 2)
        [0, 2]
    """
    upright = [i for i, r in enumerate(readings) if found_text(r) and not r.rotated_180]
    if len(upright) < PAGE_MIN_LINES:
        return []
    return sorted(sorted(upright, key=lambda i: -len(readings[i].text))[:size])


def page_is_sure(readings: Sequence[LineResult], sample: Sequence[int]) -> bool:
    """Whether the sampled readings are confident enough (:data:`PAGE_SURE` on average) that
    the page need not be read turned to tell its orientation.

    Example:
        >>> from ocr_engine.recognition import LineResult
        >>> page_is_sure([LineResult("x", 0.99, ()), LineResult("y", 0.97, ())], [0, 1])
        True
    """
    return bool(sample) and sum(readings[i].confidence for i in sample) / len(sample) >= PAGE_SURE


def page_upside_down(upright: Sequence[LineResult], turned: Sequence[LineResult]) -> bool:
    """Whether a page is upside down: the same lines read turned 180° (``turned``) beat their
    readings as found (``upright``) on :data:`PAGE_WIN_SHARE` of them, and by
    :data:`PAGE_MIN_GAIN` confidence on average.

    Example:
        >>> from ocr_engine.recognition import LineResult
        >>> found = [LineResult("x", c, ()) for c in (0.8, 0.75, 0.82)]
        >>> page_upside_down(found, [LineResult("y", c, (), True) for c in (0.97, 0.99, 0.7)])
        False
        >>> page_upside_down(found, [LineResult("y", c, (), True) for c in (0.97, 0.99, 0.9)])
        True
    """
    pairs = [(u, t) for u, t in zip(upright, turned) if found_text(u) or found_text(t)]
    if len(pairs) < PAGE_MIN_LINES:
        return False
    wins = sum(1 for u, t in pairs if t.text and t.confidence > u.confidence)
    gain = sum(t.confidence - u.confidence for u, t in pairs) / len(pairs)
    return wins >= PAGE_WIN_SHARE * len(pairs) and gain >= PAGE_MIN_GAIN


def upright_lines(readings: Sequence[LineResult]) -> list[int]:
    """Indices of the readings not turned: on a page found upside down, they are read turned too."""
    return [i for i, r in enumerate(readings) if not r.rotated_180]


# --- 90°: pages on their side -----------------------------------------------------------------

# Pages read with less confidence (mean over their characters) are also read turned 90° each
# way, when their lines run down the page (0: never).
SIDEWAYS_BELOW = 0.75
# A page turned 90° must read this many times better (confidence x characters) to be kept.
SIDEWAYS_GAIN = 1.5
# A weak reading of at least this many lines is also tried turned (see try_sideways).
SIDEWAYS_MIN_LINES = 5
# A weak reading that left at least this share of the page's area in boxes it could not read
# is also tried turned (see try_sideways).
SIDEWAYS_UNREAD = 0.15
# Lines run down a page when at least this share of the found boxes' area is in tall boxes.
TALL_SHARE = 0.5


def page_score(result: OcrResult) -> float:
    """How much confident text a reading found: the sum of confidence x characters."""
    return sum(line.confidence * len(line.text) for line in result.lines)


def page_confidence(result: OcrResult) -> float:
    """Mean line confidence weighted by characters (0 for no lines)."""
    chars = sum(len(line.text) for line in result.lines)
    return page_score(result) / chars if chars else 0.0


def lines_run_down(boxes: Sequence[TextBox], deskew_found_so: bool, max_lines: int | None = None) -> bool:
    """Whether the lines found run down the page, so that it may lie on its side.

    They do when the deskew found so, or when at least :data:`TALL_SHARE` of the boxes' area
    is in boxes taller than wide; never when the detector found as many boxes as it returns at
    most (``max_lines``): texture or noise (hundreds of dot clusters), which turning does not
    make text.
    """
    if max_lines is not None and len(boxes) >= max_lines:
        return False
    areas = [(b.width * b.height, b.height > b.width) for b in boxes]
    tall = sum(a for a, t in areas if t) / max(sum(a for a, _ in areas), 1e-9)
    return deskew_found_so or tall >= TALL_SHARE


def unread_share(boxes: Sequence[TextBox], kept: Sequence[bool], page_area: float) -> float:
    """Share of the page's area in the found boxes whose readings were not kept.

    Example:
        >>> from ocr_engine.detection import TextBox
        >>> boxes = [TextBox.from_rect(0, 0, 50, 20), TextBox.from_rect(0, 30, 50, 10)]
        >>> unread_share(boxes, [False, True], 100 * 100)
        0.1
    """
    area = sum(b.width * b.height for b, k in zip(boxes, kept) if not k)
    return float(area / page_area) if page_area > 0 else 0.0


def is_texture(boxes: Sequence[TextBox], max_lines: int | None) -> bool:
    """Whether the detector found as many boxes as it returns at most (``max_lines``): texture
    or noise (hundreds of dot clusters), not lines."""
    return max_lines is not None and len(boxes) >= max_lines


def try_sideways(result: OcrResult, *, lines_down: bool, vertical: bool, whole_image: bool,
                 below: float = SIDEWAYS_BELOW, texture: bool = False, unread: float = 0.0) -> bool:
    """Whether a page read upright is worth reading turned 90° each way.

    A page whose lines run down it (``lines_down``), however confidently it read: a typeset
    page on its side may read as a few stray pieces, confidently; and a page that read weakly
    (:func:`page_confidence` below ``below``) as :data:`SIDEWAYS_MIN_LINES` lines or more of two
    letters, digits or hanzi at least (a page on its side, scanned or photographed, whose lines
    came out as rows of pieces; single marks are what dot clusters read as), or that left
    :data:`SIDEWAYS_UNREAD` of the page's area or more in boxes it could not read (``unread``,
    :func:`unread_share`: a dense page on its side whose lines the finder merged into blocks),
    unless
    the detector found texture (``texture``: noise or dots are not helped by turning). Never
    for text set to run vertically, nor for an image that is one line (``whole_image``);
    :func:`sideways_wins` decides which reading is kept; ``below`` 0 turns the rule off.
    """
    if below <= 0 or vertical or whole_image:
        return False
    pieces = sum(found_text(line, 2) for line in result.lines)
    weak = (page_confidence(result) < below and not texture
            and (pieces >= SIDEWAYS_MIN_LINES or unread >= SIDEWAYS_UNREAD))
    return lines_down or weak


def sideways_wins(turned: OcrResult, upright: OcrResult, best: OcrResult) -> bool:
    """Whether a reading of the page turned 90° replaces ``best`` (the best one so far): it found
    :data:`SIDEWAYS_GAIN` times the upright reading's score, more than ``best``'s, and reads
    more confidently than upright."""
    return (page_score(turned) > max(SIDEWAYS_GAIN * page_score(upright), page_score(best))
            and page_confidence(turned) > page_confidence(upright))
