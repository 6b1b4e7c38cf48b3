"""Clean-up of a line's reading: the characters CTC gives that the text does not have.

Example:
    >>> sorted(stray_spaces(" （ 成品包材） a b "))
    [0, 2, 12]
    >>> sorted(split_glyph_repeats("回落落到", [10, 24, 27, 40], 20))
    [2]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")

# Two equal wide (CJK) characters whose centres are closer than this many crop heights are
# one glyph read twice (a real pair such as 谢谢 stands about a glyph width, ~0.7 crop heights, apart).
SPLIT_GLYPH = 0.4


def _full_width(ch: str, category: str) -> bool:
    """Whether ``ch`` is of Unicode ``category`` (``Ps``: opening, ``Pe``: closing) and full-width."""
    return unicodedata.category(ch) == category and unicodedata.east_asian_width(ch) in ("F", "W")


def stray_spaces(text: str) -> set[int]:
    """Positions of the spaces a reading should not have.

    Spaces at either end (blank margins beside the text can read as one), and spaces just
    inside full-width brackets, whose glyphs carry their own blank half (``（ 成品包材）``).
    Spaces outside brackets stay: mixed text often has them (``（成品） ODM``).

    Example:
        >>> sorted(stray_spaces(" （ 成品包材） a b "))
        [0, 2, 12]
    """
    stray: set[int] = set()
    for run in _SPACES.finditer(text):
        a, b = run.span()
        if a == 0 or b == len(text) or _full_width(text[a - 1], "Ps") or _full_width(text[b], "Pe"):
            stray.update(range(a, b))
    return stray


def split_glyph_repeats(text: str, xs: Sequence[float], height: float) -> set[int]:
    """Positions of characters that repeat the wide character before them within one glyph.

    CTC can emit a wide character twice, once at each side of its glyph (``回落落到``); the
    two readings stand a fraction of a glyph apart, where a real doubled character (``谢谢``)
    stands a whole glyph further.

    Example:
        >>> sorted(split_glyph_repeats("回落落到谢谢", [10, 24, 27, 40, 55, 70], 20))
        [2]
    """
    return {i for i in range(1, len(text))
            if text[i] == text[i - 1] and text[i].isalpha() and unicodedata.east_asian_width(text[i]) == "W"
            and abs(xs[i] - xs[i - 1]) < SPLIT_GLYPH * height}


def dropped_characters(text: str, xs: Sequence[float], height: float) -> set[int]:
    """Every position :func:`stray_spaces` and :func:`split_glyph_repeats` drop (``height``: the
    crop's; 0 keeps the repeats)."""
    return stray_spaces(text) | split_glyph_repeats(text, xs, height)
