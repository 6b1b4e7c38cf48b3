"""Text sources for synthetic lines, all from offline registry packages.

* jieba's ``dict.txt`` (PyPI ``jieba``, MIT): ~349k Chinese words with frequencies.
* Debian ``fortunes-zh``: classical poems (tang300, song100) and modern sayings (chinese).
* Debian ``wamerican``: an English word list (``/usr/share/dict/american-english``).
* Generated patterns: numbers, dates, times, prices, phone numbers, product codes, e-mails,
  URLs, percentages, units.
* Code and monospace text (:mod:`crnn.codetext`): TeX, shell, paths, config, C, Python, e-mail,
  URLs, options; with the code examples and the English word frequencies of CPython's
  documentation topics (``pydoc_data.topics``, PSF licence).

Every sampled string is mapped onto the charset with :func:`crnn.charset.normalize_label`.

Example:
    >>> import random
    >>> from crnn.corpus import Corpus
    >>> corpus = Corpus.load()                       # doctest: +SKIP
    >>> corpus.sample(random.Random(0))              # doctest: +SKIP
    '以及的实验室'
"""

from __future__ import annotations

import bisect
import collections
import itertools
import random
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from crnn.charset import CHARSET, gb2312_hanzi, normalize_label
from crnn.codetext import code_line

FORTUNE_DIR = Path("/usr/share/games/fortunes")
FORTUNE_FILES = ("chinese", "tang300", "song100")
ENGLISH_WORDS = Path("/usr/share/dict/american-english")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Line kinds and their sampling weights (percent). Until model 0.5.0: 30, 14, 20, 16, 10, 10 and
# no code; code lines took 9 % from the others in proportion.
CODE_SHARE = 9.0
KIND_WEIGHTS = {
    "zh_words": 30 * (1 - CODE_SHARE / 100),
    "zh_text": 14 * (1 - CODE_SHARE / 100),
    "en_words": 20 * (1 - CODE_SHARE / 100),
    "mixed": 16 * (1 - CODE_SHARE / 100),
    "pattern": 10 * (1 - CODE_SHARE / 100),
    "random_chars": 10 * (1 - CODE_SHARE / 100),
    "code": CODE_SHARE,
}

PUNCT_ZH = "，。：；！？、（）【】《》“”—…·"
PUNCT_EN = ".,:;!?-()/'\"&%#@+*=$"
# English words: a share drawn by frequency from real prose (function words, ``will``, ``follows``),
# and, of the word-list draws, a share from the words with a doubled letter (CTC must put a blank
# between the two: model 0.5.0 read ``will`` as ``wil`` in print).
EN_PROSE_SHARE = 0.3
EN_DOUBLED_SHARE = 0.15
_DOUBLED = re.compile(r"([a-z])\1", re.IGNORECASE)
# Paired marks of Chinese typography: titles and tags (【】), book titles (《》), quotes, asides.
BRACKETS_ZH = (("【", "】"), ("《", "》"), ("（", "）"), ("“", "”"), ("「", "」"), ("〔", "〕"))
BRACKETED_SHARE = 0.12


def _jieba_dict() -> Path:
    import jieba

    return Path(jieba.__file__).parent / "dict.txt"


@dataclass
class Corpus:
    """Sampler of label strings. Load once, then call :meth:`sample` with a seeded RNG."""

    zh_words: list[str]
    zh_cum_weights: list[float]
    zh_text: list[str]
    en_words: list[str]
    hanzi: list[str]
    en_doubled: list[str] = field(default_factory=list)
    en_common: list[str] = field(default_factory=list)
    en_common_cum: list[float] = field(default_factory=list)
    code_snippets: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> Corpus:
        """Read the installed corpora (see ``models/install_assets.sh``)."""
        words, weights = [], []
        with open(_jieba_dict(), encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2:
                    continue
                word = normalize_label(parts[0])
                if not word or word != parts[0]:
                    continue
                words.append(word)
                weights.append(float(parts[1]) ** 0.5)  # flatten the Zipf curve a little
        cum = list(itertools.accumulate(weights))

        text: list[str] = []
        for name in FORTUNE_FILES:
            path = FORTUNE_DIR / name
            if not path.exists():
                continue
            raw = _ANSI.sub("", path.read_text(encoding="utf-8", errors="ignore"))
            for line in raw.splitlines():
                line = normalize_label(line.strip().lstrip("-").strip())
                if len(line) >= 4 and any("\u4e00" <= ch <= "\u9fff" for ch in line):
                    text.append(line)
        if not text:
            raise FileNotFoundError(f"no fortunes-zh texts under {FORTUNE_DIR}")

        en = []
        if ENGLISH_WORDS.exists():
            for w in ENGLISH_WORDS.read_text(encoding="utf-8", errors="ignore").split():
                if w.isascii() and w.isalpha() and "'" not in w:
                    en.append(w)
        if not en:
            raise FileNotFoundError(f"English word list missing: {ENGLISH_WORDS}")
        doubled = [w for w in en if _DOUBLED.search(w)]
        common, counts, snippets = python_docs_text(set(w.lower() for w in en))
        return cls(words, cum, text, en, gb2312_hanzi(), doubled, common,
                   list(itertools.accumulate(c**0.75 for c in counts)), snippets)

    # -- samplers -------------------------------------------------------------------------------
    def _zh_word(self, rng: random.Random) -> str:
        x = rng.random() * self.zh_cum_weights[-1]
        return self.zh_words[bisect.bisect_left(self.zh_cum_weights, x)]

    def _zh_words(self, rng: random.Random, max_chars: int) -> str:
        target = rng.randint(2, max_chars)
        out = ""
        while len(out) < target:
            out += self._zh_word(rng)
            if rng.random() < 0.08:
                out += rng.choice(PUNCT_ZH) if rng.random() < 0.9 else "——"
        out = out[: max_chars + 2]
        if rng.random() < BRACKETED_SHARE:
            out = self._bracketed(rng, out)
        return out

    @staticmethod
    def _bracketed(rng: random.Random, text: str) -> str:
        """Encloses a phrase of ``text`` in a pair of Chinese marks, most often the first one.

        Example:
            >>> Corpus._bracketed(random.Random(2), "新品上市限时优惠")
            '【新品上市限时】优惠'
        """
        left, right = rng.choice(BRACKETS_ZH)
        start = 0 if rng.random() < 0.6 else rng.randrange(len(text))
        end = rng.randint(start + 1, max(start + 1, min(len(text), start + 8)))
        return f"{text[:start]}{left}{text[start:end]}{right}{text[end:]}"

    def _zh_text(self, rng: random.Random, max_chars: int) -> str:
        line = rng.choice(self.zh_text)
        n = rng.randint(2, max_chars)
        start = rng.randint(0, max(0, len(line) - n))
        return line[start : start + n]

    def _en_word(self, rng: random.Random) -> str:
        u = rng.random()
        if u < EN_PROSE_SHARE and self.en_common:
            w = self.en_common[bisect.bisect_left(self.en_common_cum, rng.random() * self.en_common_cum[-1])]
        elif u < EN_PROSE_SHARE + EN_DOUBLED_SHARE and self.en_doubled:
            w = rng.choice(self.en_doubled)
        else:
            w = rng.choice(self.en_words)
        r = rng.random()
        if r < 0.25:
            return w.upper()
        if r < 0.55:
            return w.capitalize()
        return w.lower()

    def _en_words(self, rng: random.Random, max_chars: int) -> str:
        n = rng.choice([1, 1, 2, 2, 3, 4, 5, 6])
        words = []
        for _ in range(n):
            w = self._en_word(rng)
            if rng.random() < 0.05:  # possessive or contraction, with a typeset or a typed apostrophe
                w += rng.choice("’’'") + rng.choice(("s", "s", "ll", "re", "t", "ve", "d"))
            if rng.random() < 0.1:
                w += rng.choice(".,:;!?")
            if rng.random() < 0.08:
                left, right = rng.choice((("(", ")"), ('"', '"'), ("'", "'"), ("“", "”"), ("“", "”"), ("‘", "’"), ("[", "]")))
                w = left + w + right
            if rng.random() < 0.03:  # dashes: TeX's typed -- and ---, the em dash, a hyphenated compound
                w += rng.choice((" --", " ---", "—", " —", "-" + self._en_word(rng).lower()))
            words.append(w)
        line = " ".join(words)
        line = line[:max_chars].strip()
        if rng.random() < 0.03 and line[-1:].isalpha():  # a word broken at the line end
            line += "-"
        return line

    def _number(self, rng: random.Random) -> str:
        return str(rng.choice([rng.randint(0, 99), rng.randint(0, 9999), rng.randint(0, 10**7)]))

    def _pattern(self, rng: random.Random) -> str:
        kind = rng.randrange(15)
        if kind >= 12:
            return self._symbols(rng, kind - 12)
        if kind == 0:  # date
            y, m, d = rng.randint(1950, 2035), rng.randint(1, 12), rng.randint(1, 28)
            return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{d:02d}.{m:02d}.{y}"])
        if kind == 1:  # time
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}" + rng.choice(["", f":{rng.randint(0, 59):02d}"])
        if kind == 2:  # price
            v = rng.choice([f"{rng.randint(1, 999)}", f"{rng.randint(0, 9999)}.{rng.randint(0, 99):02d}"])
            return rng.choice([f"￥{v}", f"¥{v}", f"${v}", f"{v}元", f"RMB {v}", f"{v} USD", f"€{v}", f"£{v}", f"{v} €"])
        if kind == 3:  # phone
            return rng.choice([
                f"1{rng.randint(30, 99)}{rng.randint(0, 99999999):08d}",
                f"0{rng.randint(10, 999)}-{rng.randint(1000000, 99999999)}",
                f"+86 1{rng.randint(30, 99)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}",
                f"({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
            ])
        if kind == 4:  # product code
            parts = ["".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 4))]
            return rng.choice(["-", "", "/", "_", "."]).join(parts)
        if kind == 5:  # e-mail
            return f"{self._en_word(rng).lower()}{rng.randint(0, 999)}@{self._en_word(rng).lower()}.{rng.choice(['com', 'cn', 'org', 'net'])}"
        if kind == 6:  # url
            return f"{rng.choice(['www.', 'https://', 'http://'])}{self._en_word(rng).lower()}.{rng.choice(['com', 'cn', 'com.cn', 'org'])}"
        if kind == 7:  # percentage / decimal
            return f"{rng.randint(0, 100)}.{rng.randint(0, 9)}%" if rng.random() < 0.5 else f"{rng.uniform(-999, 999):.{rng.randint(1, 3)}f}"
        if kind == 8:  # quantity with unit
            unit = rng.choice(["kg", "g", "ml", "L", "cm", "mm", "km", "个", "件", "公斤", "米", "瓶", "元/公斤", "pcs", "mAh", "GB"])
            return f"{rng.randint(1, 9999)}{rng.choice(['', ' '])}{unit}"
        if kind == 9:  # label: value
            return f"{self._zh_words(rng, 4)}{rng.choice(['：', ':'])}{self._number(rng)}"
        if kind == 10:  # numbered item
            return f"{rng.randint(1, 30)}{rng.choice(['.', '、', ')', '．'])}{self._zh_words(rng, 8)}"
        return " ".join(self._number(rng) for _ in range(rng.randint(1, 4)))

    def _symbols(self, rng: random.Random, kind: int) -> str:
        """Text with the symbols of labels and receipts (``crnn.charset.SYMBOLS``)."""
        n = rng.randint(1, 999)
        if kind == 0:  # measures
            unit = rng.choice(["cm", "mm", "m", "kg", "g", "ml", "V", "W", "米", "厘米", ""])
            return rng.choice([
                f"{rng.randint(-30, 300)}{rng.choice(['℃', '°C', '°', ' ℃'])}",
                f"{n}{rng.choice(['×', ' × ', '*', 'x'])}{rng.randint(1, 999)}{unit}",
                f"{n}{rng.choice(['±', ' ± '])}{rng.randint(1, 50)}{unit}",
                f"{rng.randint(1, 999)}{rng.choice(['‰', 'μm', 'μg', 'Ω', 'kΩ', '°'])}",
                f"{n}{rng.choice(['÷', '×'])}{rng.randint(1, 99)}{rng.choice(['', '=?'])}",
                f"√{rng.randint(2, 99)}",
            ])
        if kind == 1:  # marks, bullets and arrows around words
            word = self._en_word(rng) if rng.random() < 0.5 else self._zh_words(rng, 6)
            return rng.choice([
                f"{word}{rng.choice(['®', '™', '©'])}",
                f"© {rng.randint(1990, 2035)} {self._en_word(rng)}",
                f"№ {n}", f"{rng.choice(['※', '•', '●', '■', '□', '◆', '◇', '▲', '△'])} {word}",
                f"{word} {rng.choice(['→', '←'])} {self._zh_words(rng, 4)}",
                f"{rng.choice(['↑', '↓'])}{rng.randint(0, 99)}.{rng.randint(0, 9)}%",
                f"{word} " + "".join(rng.choice("★☆") for _ in range(5)),
            ])
        # Chinese dates with the zero 〇, and Greek letters before a name
        if rng.random() < 0.5:
            digits = "〇一二三四五六七八九"
            year = "".join(digits[int(d)] for d in str(rng.randint(1980, 2035)))
            return f"{year}年" + rng.choice(["", f"{digits[rng.randint(1, 9)]}月", "十二月"])
        return f"{rng.choice('αβγ')}-{self._zh_words(rng, 5)}"

    def _mixed(self, rng: random.Random, max_chars: int) -> str:
        pieces = []
        for _ in range(rng.randint(2, 4)):
            r = rng.random()
            if r < 0.5:
                pieces.append(self._zh_words(rng, 6))
            elif r < 0.8:
                pieces.append(self._en_word(rng))
            else:
                pieces.append(self._pattern(rng))
        sep = rng.choice(["", "", " "])
        return sep.join(pieces)[: max_chars + 4]

    def _random_chars(self, rng: random.Random, max_chars: int) -> str:
        n = rng.randint(1, max_chars)
        out = []
        for _ in range(n):
            r = rng.random()
            if r < 0.8:
                out.append(rng.choice(self.hanzi))
            else:
                out.append(rng.choice(CHARSET[1:]))  # any non-space char
        return "".join(out)

    def _code(self, rng: random.Random) -> str:
        return code_line(rng, self._en_word, self._zh_words, self.code_snippets)

    def sample(self, rng: random.Random) -> str:
        """One label string, non-empty, all characters in the charset."""
        return self.sample_kind(rng)[1]

    def sample_kind(self, rng: random.Random) -> tuple[str, str]:
        """``(kind, label)``: the kind of :data:`KIND_WEIGHTS` drawn and its label string."""
        while True:
            kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
            if kind == "zh_words":
                s = self._zh_words(rng, 16)
            elif kind == "zh_text":
                s = self._zh_text(rng, 18)
            elif kind == "en_words":
                s = self._en_words(rng, 36)
            elif kind == "mixed":
                s = self._mixed(rng, 20)
            elif kind == "pattern":
                s = self._pattern(rng)
            elif kind == "code":
                s = self._code(rng)
            else:
                s = self._random_chars(rng, 14)
            s = normalize_label(s)
            if s:
                return kind, s


# Lines of the Python documentation's code examples and grammar (indented by three spaces there).
_PY_CODE = re.compile(r"^(>>> |\.\.\. |def |class |for |if |elif |else:|return |import |from |while |with |try:|except|"
                      r"raise |print\(|lambda |yield |assert |@\w|[\w.\[\]]+ [-+*/|&]?= |\w+ +::= )")


def python_docs_text(known: set[str]) -> tuple[list[str], list[int], list[str]]:
    """English words of CPython's documentation topics with their counts, and its code lines.

    Words are kept (lower-cased) when the English word list knows them; code lines are the
    indented lines that read as Python or its grammar, 5 to 60 characters long.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError:  # a Python built without its documentation topics
        return [], [], []
    text = "\n".join(topics.values())
    counts = collections.Counter(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    common = sorted(w for w, c in counts.items() if c >= 3 and w in known)
    snippets = sorted({ln.strip() for ln in text.splitlines()
                       if ln.startswith("   ") and 5 <= len(ln.strip()) <= 60 and _PY_CODE.match(ln.strip())})
    return common, [counts[w] for w in common], snippets
