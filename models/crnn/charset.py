"""The recogniser's vocabulary: GB2312 hanzi, ASCII, common full-width punctuation and symbols.

The charset is computed, not stored: Python's ``gb2312`` codec enumerates the 6,763 hanzi of
GB2312 (rows 0xB0-0xF7), to which we add printable ASCII (space included, so English words keep
their spaces) and the full-width punctuation that Chinese text uses, then the symbols of labels,
receipts and documents (:data:`SYMBOLS`). Class 0 of the model is the CTC blank; class ``i >= 1``
is ``CHARSET[i - 1]``. New characters are only ever appended, so a model trained on an earlier
charset (a prefix of this one) keeps its classes (see ``crnn.train.load_model``).

Example:
    >>> from crnn.charset import build_charset
    >>> chars = build_charset()
    >>> len(chars), chars[0], chars[6896]
    (6931, ' ', '齄')
"""

from __future__ import annotations

import unicodedata

# Full-width / CJK punctuation and symbols that Chinese text uses and NFKC does not fold to ASCII
# (or that we want to keep distinct in output): the model emits these as themselves.
CJK_PUNCTUATION = "，。：；！？（）【】《》“”‘’、—…￥·「」『』〈〉〔〕～—％＋－＝＃＆＊／＠"
# Appended after the hanzi with model 0.4.0: the zero of Chinese dates, units, currencies, marks,
# bullets and arrows of labels and receipts, and the Greek letters of ingredient lists and units.
SYMBOLS = "〇×÷±°℃№※→←↑↓√‰£€©®™•●■□▲△◆◇★☆αβγμΩ"
# Characters read as another one of the charset (NFKC keeps them apart).
FOLD = {"¥": "￥", "∙": "•", "・": "·"}


def gb2312_hanzi() -> list[str]:
    """All 6,763 GB2312 hanzi in code order (level 1: 3,755, then level 2: 3,008)."""
    chars: list[str] = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            if row == 0xD7 and cell > 0xF9:  # the five unused cells at the end of level 1
                continue
            chars.append(bytes([row, cell]).decode("gb2312"))
    return chars


def build_charset() -> list[str]:
    """The ordered charset: ASCII printable (space first), CJK punctuation, GB2312 hanzi, symbols."""
    ascii_chars = [chr(c) for c in range(0x20, 0x7F)]
    seen: set[str] = set()
    out: list[str] = []
    for ch in ascii_chars + list(CJK_PUNCTUATION) + gb2312_hanzi() + list(SYMBOLS):
        if ch not in seen:
            seen.add(ch)
            out.append(ch)
    return out


CHARSET: list[str] = build_charset()
CHAR_TO_CLASS: dict[str, int] = {ch: i + 1 for i, ch in enumerate(CHARSET)}
NUM_CLASSES = len(CHARSET) + 1  # + CTC blank at index 0


def normalize_label(text: str) -> str:
    """Map a raw corpus string onto the charset: fold compatibility forms, drop what is missing.

    Full-width ASCII letters and digits are folded to ASCII (NFKC) because the charset holds one
    form of each; the full-width punctuation in ``CJK_PUNCTUATION`` is kept as is.
    """
    out = [c for c in map(fold_char, text) if c is not None]
    return " ".join("".join(out).split())


def fold_char(ch: str) -> str | None:
    """One character in the charset's form (itself, or folded), a space for tab-like spaces,
    or ``None`` when the charset has no form of it."""
    ch = FOLD.get(ch, ch)
    if ch not in CHAR_TO_CLASS:
        folded = unicodedata.normalize("NFKC", ch)
        ch = folded if len(folded) == 1 else ch
    if ch in CHAR_TO_CLASS:
        return ch
    if ch in "\t\u3000\u00a0":
        return " "
    return None


def encode(text: str) -> list[int]:
    """Class indices of ``text`` (every char must be in the charset)."""
    return [CHAR_TO_CLASS[ch] for ch in text]


def decode_greedy(indices: list[int]) -> str:
    """Collapse repeats and drop blanks of a best-path class sequence.

    Example:
        >>> decode_greedy([0, 34, 34, 0, 34, 0, 1])
        'AA '
    """
    out = []
    prev = 0
    for idx in indices:
        if idx != prev and idx != 0:
            out.append(CHARSET[idx - 1])
        prev = idx
    return "".join(out)
