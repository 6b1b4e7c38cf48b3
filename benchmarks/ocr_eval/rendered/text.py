"""Text of the rendered pages and its wrapping into lines.

Sources (the corpora of :mod:`crnn.corpus`, all from offline packages):

* Chinese: the modern prose of Debian ``fortunes-zh`` (file ``chinese``: the paragraphs, and the short
  entry titles as headings) and its poems (``tang300``, ``song100``: the poems as paragraphs, their
  titles as headings). Paragraphs with Latin letters or spaces are left out, so a Chinese line never
  holds a space.
* English: the prose paragraphs and the section titles of CPython's documentation topics
  (``pydoc_data.topics``); straight double quotes become typographic ones (a ``"`` would need an
  escape in ``pages.tsv``). Words of ``wamerican`` name things in code blocks.

Every string is mapped onto the recogniser's charset (:func:`crnn.charset.normalize_label`) and kept
only if all of it is in the charset and it holds no tab, backslash or straight double quote.

Example:
    >>> units_zh("共有2003年的资料。")
    ['共', '有', '2003', '年', '的', '资', '料', '。']
    >>> typographic_quotes('The "if" statement')
    'The “if” statement'
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crnn.charset import CHAR_TO_CLASS, normalize_label
from crnn.corpus import ENGLISH_WORDS, FORTUNE_DIR

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_BAD = set('\t\n\r\\"')
_HAN = re.compile(r"[\u4e00-\u9fff]")
_EN_PROSE = re.compile(r"^[A-Za-z0-9 ,.;:'()?!“”-]+$")
_UNIT = re.compile(r"[A-Za-z0-9.%]+|.")
# Kinsoku: marks that never open a line, and marks that never close one.
NO_START = set("，。、；：！？）】》」』〕〉”’…—·%,.;:!?)]}")
NO_END = set("（【《「『〔〈“‘([{")
ZH_DIGITS = "〇一二三四五六七八九"


def charset_ok(text: str) -> bool:
    """Whether every character is in the recogniser's charset and none needs an escape in a TSV."""
    return bool(text) and all(c in CHAR_TO_CLASS for c in text) and not (_BAD & set(text))


def typographic_quotes(text: str) -> str:
    """Straight double quotes as “ and ”, alternating (an odd count leaves the last one open)."""
    parts = text.split('"')
    out = parts[0]
    for i, part in enumerate(parts[1:]):
        out += ("“" if i % 2 == 0 else "”") + part
    return out


def zh_number(n: int) -> str:
    """A Chinese numeral up to 99 (``zh_number(12) == '十二'``)."""
    if n < 10:
        return ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else ZH_DIGITS[tens]) + "十" + (ZH_DIGITS[ones] if ones else "")


def units_zh(text: str) -> list[str]:
    """Wrapping units of Chinese text: one character, or a run of ASCII letters and digits."""
    return _UNIT.findall(text)


def _fortune_groups(name: str) -> list[list[list[str]]]:
    """Entries of a fortune file, each a list of blank-line separated groups of stripped lines."""
    path = FORTUNE_DIR / name
    if not path.exists():
        return []
    raw = _ANSI.sub("", path.read_text(encoding="utf-8", errors="ignore"))
    entries = []
    for entry in re.split(r"\n%\n", raw):
        groups, cur = [], []
        for line in entry.splitlines():
            line = line.strip()
            if line.startswith("--"):
                continue
            if not line:
                if cur:
                    groups.append(cur)
                cur = []
            else:
                cur.append(line)
        if cur:
            groups.append(cur)
        if groups:
            entries.append(groups)
    return entries


def _zh_clean(text: str) -> str | None:
    out = normalize_label(text)
    if not charset_ok(out) or " " in out or re.search(r"[A-Za-z]", out) or not _HAN.search(out):
        return None
    return out


def _zh_heading(text: str) -> str | None:
    out = _zh_clean(text.strip("《》"))
    if out and 2 <= len(out) <= 12 and not (set(out) & set("，。；：！？、")):
        return out
    return None


def _zh_corpus() -> tuple[list[str], list[str]]:
    paragraphs, headings = [], []
    for groups in _fortune_groups("chinese"):
        body = groups
        if len(groups) > 1 and len(groups[0]) == 1:
            head = _zh_heading(groups[0][0])
            if head:
                headings.append(head)
                body = groups[1:]
        for group in body:
            para = _zh_clean("".join(group))
            if para and len(para) >= 24:
                paragraphs.append(para)
    for name in ("tang300", "song100"):
        for groups in _fortune_groups(name):
            lines = [ln for g in groups for ln in g]
            if len(lines) < 3:
                continue
            title = re.sub(r"^题目[:：]", "", lines[0])
            head = _zh_heading(title.split("·")[0].split("・")[0])
            if head:
                headings.append(head)
            para = _zh_clean("".join(ln for ln in lines[1:] if not ln.startswith("作者")))
            if para and len(para) >= 20:
                paragraphs.append(para)
    return sorted(set(paragraphs)), sorted(set(headings))


def _en_corpus() -> tuple[list[str], list[str]]:
    from pydoc_data.topics import topics

    paragraphs, headings = [], []
    for text in topics.values():
        for block in re.split(r"\n\s*\n", text):
            lines = block.split("\n")
            if len(lines) == 2 and lines[1] and set(lines[1]) <= set("*=-^~"):
                head = typographic_quotes(" ".join(lines[0].split()))
                if 4 <= len(head) <= 48 and charset_ok(head) and _EN_PROSE.match(head):
                    headings.append(head)
                continue
            if any(ln.startswith(" ") for ln in lines):
                continue
            para = typographic_quotes(" ".join(block.split()))
            if len(para) >= 80 and "::" not in para and _EN_PROSE.match(para) and charset_ok(para):
                paragraphs.append(para)
    return sorted(set(paragraphs)), sorted(set(headings))


def _en_words() -> list[str]:
    words = []
    if ENGLISH_WORDS.exists():
        for w in ENGLISH_WORDS.read_text(encoding="utf-8", errors="ignore").split():
            if w.isascii() and w.isalpha() and w.islower() and 3 <= len(w) <= 9:
                words.append(w)
    return words or ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]


@dataclass(frozen=True)
class Corpus:
    """Paragraphs and headings per language, and English words for names."""

    paragraphs: dict[str, tuple[str, ...]]
    headings: dict[str, tuple[str, ...]]
    words: tuple[str, ...]

    def word(self, rng: random.Random) -> str:
        """A lower-case English word."""
        return rng.choice(self.words)

    def composed(self, rng: random.Random) -> str:
        """An English sentence of random words (only when a page has used up the real paragraphs)."""
        words = [self.word(rng) for _ in range(rng.randint(8, 16))]
        return " ".join(words).capitalize() + "."


@functools.cache
def load_corpus() -> Corpus:
    """Read the corpora once per process."""
    zh_p, zh_h = _zh_corpus()
    en_p, en_h = _en_corpus()
    if not zh_p or not en_p:
        raise FileNotFoundError(f"rendered pages need fortunes-zh under {FORTUNE_DIR} and pydoc_data")
    return Corpus({"zh": tuple(zh_p), "en": tuple(en_p)}, {"zh": tuple(zh_h), "en": tuple(en_h)},
                  tuple(_en_words()))


class TextSource:
    """Per-page supply of paragraphs and headings, without repeats inside the page."""

    def __init__(self, corpus: Corpus, lang: str, rng: random.Random, ok: Callable[[str], bool]):
        self.corpus, self.lang, self.rng, self.ok = corpus, lang, rng, ok
        self._paras = list(corpus.paragraphs[lang])
        self._heads = list(corpus.headings[lang])
        rng.shuffle(self._paras)
        rng.shuffle(self._heads)

    def paragraph(self, max_chars: int | None = None) -> str:
        """The next paragraph the page's fonts can draw, cut at a sentence end near ``max_chars``."""
        while self._paras:
            para = self._paras.pop()
            if self.ok(para):
                return _cut(para, max_chars) if max_chars else para
        return self.corpus.composed(self.rng) if self.lang == "en" else "天下大事，必作于细。"

    def heading(self, max_chars: int = 14) -> str:
        """A heading text of at most ``max_chars`` characters."""
        for _ in range(len(self._heads)):
            head = self._heads.pop()
            self._heads.insert(0, head)
            if len(head) <= max_chars and self.ok(head):
                return head
        return "概述" if self.lang == "zh" else "Overview"


def _cut(text: str, max_chars: int) -> str:
    """``text`` cut after the last sentence end before ``max_chars`` (whole if none)."""
    if len(text) <= max_chars:
        return text
    ends = [m.end() for m in re.finditer(r"[。！？]|[.!?](?= )", text[:max_chars])]
    return text[: ends[-1]].strip() if ends and ends[-1] > max_chars // 3 else text


# -- wrapping ---------------------------------------------------------------------------------------
Measure = Callable[[str], float]


def wrap_units(units: Sequence[str], sep: str, measure: Measure, width: float, first_indent: float = 0.0,
               cjk: bool = False) -> list[list[str]]:
    """Greedy line breaking of ``units`` (words joined by ``sep``, or CJK units) into ``width``.

    CJK lines follow simple kinsoku: a closing mark never opens a line and an opening mark never
    closes one (the unit moves to the next line instead). A unit wider than a line stands alone.

    Example:
        >>> wrap_units("aa bb cc dd".split(), " ", len, 5)
        [['aa', 'bb'], ['cc', 'dd']]
    """
    lines: list[list[str]] = []
    cur: list[str] = []
    avail = width - first_indent
    for u in units:
        if cur and measure(sep.join([*cur, u])) > avail:
            carry: list[str] = []
            if cjk:
                while len(cur) > 2 and ((carry or [u])[0] in NO_START or cur[-1] in NO_END):
                    carry.insert(0, cur.pop())
            lines.append(cur)
            cur, avail = carry, width
        cur.append(u)
    if cur:
        lines.append(cur)
    return lines
