"""Rendered full pages with known truth: a benchmark of the engine's layout (columns, reading order, orientation).

:func:`build_rendered_pages` draws A4-shaped pages (1240 x 1754 px, 150 dpi; body text 10-12 pt,
titles larger) in Chinese and in English, of seven kinds:

* ``cols1``: one column of paragraphs under a title, with numbered section headings;
* ``cols2``: a title, two columns (gutter 1.5-3 em), a heading across both columns, two more columns;
* ``cols3``: newspaper-like: a headline (and deck) across three columns with gutters of 1-1.5 em, on
  some pages a vertical rule in each gutter, on some a second story under the first;
* ``cols4``: a magazine page of four narrow columns with a photo-like picture in one column and its
  caption under it;
* ``figure``: a picture with its caption across a one-column page, or in or across a two-column page;
* ``toc``: a table of contents (dotted leaders, numbers and page numbers in their own columns);
* ``code``: prose with shaded boxes of monospace lines (shell commands, ``key = value``, paths).

Any kind may carry a running header (document title left; chapter title or page number right) and a
footer (page number, or document title and page number). Variants: the whole page turned 0, 90, 180 or
270 degrees, a small tilt of 1-3 degrees, and degradations (scan noise and blur, JPEG at quality 30-50,
a phone photo with perspective and uneven light).

``pages.tsv`` (tab separated; no quoting, backslash as escape character; ``image`` relative to the
file's folder) has one row per printed line: ``image``, ``line_no`` (1-based, in the true reading
order), ``text``, ``provenance`` (``RENDER``), ``notes``, ``tags``.

Truth conventions:

* ``text`` is what the line prints, as the layout wrapped it: English words separated by one space,
  Chinese without spaces (a space is kept only where the page prints a gap: between a section number
  and its title, ``1.2 标题``, and between the parts of a table-of-contents entry).
* Reading order: the running header first (its left part, then its right part, as separate lines), then
  titles and headings across the columns before the columns they head, the columns left to right and
  each top to bottom (a paragraph continues from the foot of one column to the head of the next),
  figure captions right after the text that precedes their figure, the footer last (left part first).
* Table of contents (tag ``toc``): the leader dots are not in the truth. An entry is
  ``<number> <title> <page>`` with single spaces, e.g. ``1.2 Section title 17`` for the printed
  ``1.2 Section title . . . . . 17`` and ``第一章 总则 3`` for ``第一章 总则……3``; unnumbered entries are
  ``<title> <page>`` (``Preface v``). Compare predictions of ``toc`` pages through
  :func:`strip_leaders`, which turns any run of leader dots into one space.
* Code blocks (tag ``code``): each printed line of the box is one truth line, without its
  indentation and with runs of spaces as one space (``$ pip install --upgrade name==1.2``); the
  shaded box itself has no text.
* Headers and footers are ordinary truth lines (``— 17 —``, ``Page 17``, ``第17页``).
* No truth text holds a tab, a backslash or a straight double quote (English prose prints typographic
  quotes), so the file reads the same with or without the escape character.

``tags`` (``;``-joined, the same on every row of a page): the language (``zh``/``en``); the structure
(``toc``, ``cols=N``, ``title``, ``heading``, ``figure``, ``caption``, ``code``, ``rule``, ``header``,
``footer``); ``rot=N`` (the page is turned N degrees counter-clockwise; turn it N degrees clockwise to
read it); ``tilt`` when tilted; and ``clean`` or ``degraded=scan|jpeg|photo``. ``notes`` hold the
line's role, its column (0: across the page) and its ink box ``x0,y0,x1,y1`` on the upright page before
any tilt, warp or turn (and the tilt in degrees when there is one).

The set is deterministic for a seed. Text comes from the corpora of :mod:`crnn.corpus` (see
:mod:`ocr_eval.rendered.text`) within the recogniser's charset; fonts are the training fonts of
:mod:`crnn.fonts`.

Example:
    >>> strip_leaders("1.2 Section title .......... 17")
    '1.2 Section title 17'
    >>> strip_leaders("第一章 总则……………3")
    '第一章 总则 3'
    >>> strip_leaders("Preface · · · · · v")
    'Preface v'
    >>> strip_leaders("see section 1.2.3... or not")
    'see section 1.2.3 or not'
    >>> path = build_rendered_pages(Path("data/pagebench/rendered"))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

from ocr_eval.rendered.build import build_pages, schedule

# A run of three or more leader marks (dots, middle dots, ellipses and the marks a recogniser may read
# them as), possibly spaced, and the spaces around it.
_LEADERS = re.compile(r"\s*(?:[.·…⋯‧•・。]\s*){3,}")

__all__ = ["build_rendered_pages", "schedule", "strip_leaders"]


def strip_leaders(text: str) -> str:
    """``text`` with each run of 3+ leader dots (``[.·…]`` and look-alikes, spaced or not) as one space.

    For the lines of ``toc`` pages, whose truth has no leaders (see the module docstring). Whitespace is
    collapsed and the ends stripped.
    """
    return " ".join(_LEADERS.sub(" ", text).split())


def build_rendered_pages(out_dir: Path, *, seed: int = 0, pages: int | None = None) -> Path:
    """Render the benchmark pages into out_dir (PNG or JPEG files) and write out_dir/pages.tsv; return its path.

    Args:
        out_dir: Folder for the images and ``pages.tsv`` (created if missing; files of the same name are
            overwritten).
        seed: Seed of the whole set (layouts, text, variants).
        pages: Only the first ``pages`` pages of the set (default: all 56).
    """
    return build_pages(Path(out_dir), seed=seed, pages=pages)
