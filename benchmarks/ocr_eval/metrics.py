"""Text normalisation and scores used to compare OCR output with labels.

Scoring follows ``shared/eval/README.md``: Unicode NFKC on both sides, spaces
between two CJK characters dropped, then character error rate (edit distance /
length of the truth) and exact-line accuracy.

Example:
    >>> normalize("电话：1 2")
    '电话:1 2'
    >>> normalize("中 文 abc")
    '中文 abc'
    >>> cer("abcd", "abed")
    0.25
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_NUMPY_FROM = 32  # edit distance of shorter strings: the plain loop beats numpy's per-row overhead


def is_cjk(ch: str) -> bool:
    """True for CJK ideographs, kana, bopomofo and CJK punctuation.

    Example:
        >>> is_cjk("中"), is_cjk("a")
        (True, False)
    """
    return bool(re.match(f"[{_CJK}]", ch))


def normalize(text: str, *, casefold: bool = False) -> str:
    """NFKC, collapse whitespace, drop spaces between two CJK characters.

    Args:
        text: Raw text.
        casefold: Also lower-case (for case-insensitive English scores).

    Example:
        >>> normalize("  Hello   WORLD ", casefold=True)
        'hello world'
    """
    out = unicodedata.normalize("NFKC", text)
    out = _SPACES.sub(" ", out).strip()
    out = _SPACE_BETWEEN_CJK.sub("", out)
    return out.casefold() if casefold else out


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1).

    Two long strings (whole pages) go through :func:`_edit_distance_np`, which gives the
    same number in a fraction of the time.

    Example:
        >>> edit_distance("kitten", "sitting")
        3
    """
    if isinstance(a, str) and isinstance(b, str) and min(len(a), len(b)) >= _NUMPY_FROM:
        return _edit_distance_np(a, b)
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _edit_distance_np(a: str, b: str) -> int:
    """:func:`edit_distance` of two strings, one numpy row at a time.

    A row of the table is ``cur[j] = min(prev[j] + 1, prev[j - 1] + (a[i] != b[j]), cur[j - 1] + 1)``;
    the last term is a running minimum, ``cur[j] = j + min(t[k] - k for k <= j)`` over the
    first two terms ``t``, which ``np.minimum.accumulate`` computes for the whole row.

    Example:
        >>> _edit_distance_np("kitten", "sitting"), _edit_distance_np("", "abc")
        (3, 3)
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    cols = np.fromiter(map(ord, b), dtype=np.int64, count=len(b))
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    cur = np.empty_like(prev)
    for i, ch in enumerate(a, start=1):
        cur[0] = i
        np.minimum(prev[1:] + 1, prev[:-1] + (cols != ord(ch)), out=cur[1:])
        np.minimum.accumulate(cur - idx, out=cur)
        cur += idx
        prev, cur = cur, prev
    return int(prev[-1])


def page_text(lines: Iterable[str]) -> str:
    """A page's text for reading-order scores: its normalised lines, in order, one per row.

    Lines that normalise to nothing are left out (as found lines are).

    Example:
        >>> page_text(["电话：1", "  ", "Hello   world"])
        '电话:1\\nHello world'
    """
    return "\n".join(t for t in (normalize(line) for line in lines) if t)


def reading_order_edits(truths: Sequence[str], preds: Sequence[str]) -> tuple[int, int]:
    """``(edits, chars)`` of a page read in order: one edit distance over :func:`page_text`.

    ``chars`` is the length of the truth's page text (line breaks count as characters, so a
    line found merged with the next costs one edit). Lines found out of order cost what moving
    their text costs; lines found twice or not at all cost their length.

    Example:
        >>> reading_order_edits(["ab", "cd"], ["ab", "cd"]), reading_order_edits(["ab", "cd"], ["cd", "ab"])
        ((0, 5), (4, 5))
    """
    t, p = page_text(truths), page_text(preds)
    return edit_distance(t, p), len(t)


def cer(truth: str, pred: str) -> float:
    """Character error rate of one pair, on normalised text.

    ``edit_distance / len(truth)``; for an empty truth: 0.0 if the prediction is
    empty too, else 1.0.

    Example:
        >>> cer("", ""), cer("", "x")
        (0.0, 1.0)
    """
    t, p = normalize(truth), normalize(pred)
    if not t:
        return 0.0 if not p else 1.0
    return edit_distance(t, p) / len(t)


@dataclass
class Score:
    """Aggregated scores over a group of lines.

    Attributes:
        n: Number of lines.
        exact: Fraction of lines equal after normalisation.
        exact_nocase: Same, also case-insensitive.
        cer: Total edit distance / total truth length (micro average).
        edits: Total edit distance.
        chars: Total truth length.
    """

    n: int = 0
    exact: float = 0.0
    exact_nocase: float = 0.0
    cer: float = 0.0
    edits: int = 0
    chars: int = 0

    def to_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON."""
        return asdict(self)


def score_pairs(pairs: Iterable[tuple[str, str]]) -> Score:
    """Score ``(truth, prediction)`` pairs.

    Example:
        >>> s = score_pairs([("ab", "ab"), ("Cd", "cd")])
        >>> (s.n, s.exact, s.exact_nocase, s.cer)
        (2, 0.5, 1.0, 0.25)
    """
    n = exact = exact_nc = edits = chars = 0
    for truth, pred in pairs:
        t, p = normalize(truth), normalize(pred)
        n += 1
        exact += int(t == p)
        exact_nc += int(t.casefold() == p.casefold())
        edits += edit_distance(t, p)
        chars += len(t)
    if n == 0:
        return Score()
    rate = edits / chars if chars else float(edits > 0)
    return Score(n, exact / n, exact_nc / n, rate, edits, chars)


def match_lines_as_set(truths: Sequence[str], preds: Sequence[str]) -> list[tuple[str, str]]:
    """Pair expected and found lines of a page regardless of order.

    Greedy matching by lowest CER: each truth line takes its best still-unused
    prediction. Unmatched truths pair with ``""`` (all deleted); unmatched
    predictions pair with ``""`` as truth (insertions).

    Example:
        >>> match_lines_as_set(["hello", "world"], ["wor1d", "hel1o", "xyz"])
        [('hello', 'hel1o'), ('world', 'wor1d'), ('', 'xyz')]
    """
    t_norm = [normalize(t) for t in truths]
    p_norm = [normalize(p) for p in preds]
    costs = []
    for i, t in enumerate(t_norm):
        for j, p in enumerate(p_norm):
            d = edit_distance(t, p) / max(len(t), 1)
            costs.append((d, i, j))
    costs.sort()
    used_t: dict[int, int] = {}
    used_p: set[int] = set()
    for d, i, j in costs:
        if i in used_t or j in used_p or d >= 1.0:
            continue
        used_t[i] = j
        used_p.add(j)
    pairs = [(truths[i], preds[used_t[i]] if i in used_t else "") for i in range(len(truths))]
    pairs += [("", preds[j]) for j in range(len(preds)) if j not in used_p and p_norm[j]]
    return pairs


def percentile_ms(values: Sequence[float], q: float) -> float:
    """Percentile of a list of milliseconds (``nan`` when empty).

    Example:
        >>> percentile_ms([1.0, 2.0, 3.0], 50)
        2.0
    """
    return float(np.percentile(values, q)) if len(values) else float("nan")
