"""Readers for the evaluation label files (``lines.tsv``, ``pages.tsv``).

Image paths in a labels file are relative to the file's folder.

Example:
    >>> rows = read_line_labels("../shared/eval/lines.tsv")  # doctest: +SKIP
    >>> rows[0].image, rows[0].text, rows[0].lang  # doctest: +SKIP
    ('lines/paddleocr_ch_word_1.jpg', '韩国小馆', 'zh')
"""

from __future__ import annotations

import csv
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_engine.errors import InvalidInput, OcrError
from ocr_engine.image.decode import decode_image


@dataclass(frozen=True)
class LineLabel:
    """One row of ``lines.tsv``: image path as written, its text and language."""

    image: str
    text: str
    lang: str
    path: Path


@dataclass(frozen=True)
class PageLabel:
    """One page of ``pages.tsv``: its image path as written and the expected lines."""

    image: str
    lines: tuple[str, ...]
    path: Path
    lang: str


def _rows(labels: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(labels, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def guess_lang(text: str) -> str:
    """``"zh"`` if the text has any CJK character, else ``"en"``.

    Example:
        >>> guess_lang("价格 10"), guess_lang("price")
        ('zh', 'en')
    """
    from ocr_eval.metrics import is_cjk

    return "zh" if any(is_cjk(c) for c in text) else "en"


def read_line_labels(labels: str | os.PathLike[str]) -> list[LineLabel]:
    """Read a ``lines.tsv``-style file (columns ``image``, ``text``, optional ``lang``)."""
    root = Path(labels).parent
    out = []
    for r in _rows(labels):
        text = r.get("text") or ""
        lang = (r.get("lang") or "").strip() or guess_lang(text)
        out.append(LineLabel(r["image"], text, lang, root / r["image"]))
    return out


def read_page_labels(labels: str | os.PathLike[str]) -> list[PageLabel]:
    """Read a ``pages.tsv``-style file: one row per expected line, grouped by image.

    Rows with an empty ``text`` only declare the page (a page without text).
    """
    root = Path(labels).parent
    pages: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
    for r in _rows(labels):
        lines = pages.setdefault(r["image"], [])
        text = r.get("text") or ""
        if text.strip():
            lines.append((int(r.get("line_no") or len(lines) + 1), text))
    out = []
    for image, lines in pages.items():
        texts = tuple(t for _, t in sorted(lines, key=lambda x: x[0]))
        out.append(PageLabel(image, texts, root / image, guess_lang("".join(texts))))
    return out


def load_image(path: Path) -> np.ndarray:
    """Decode an image file the way the service does (BGR ``uint8``).

    Raises:
        InvalidInput: The file is missing or not a readable image (message names it).
    """
    try:
        return decode_image(path.read_bytes()).image
    except OSError as err:
        raise InvalidInput(f"{path}: {err.strerror or err}") from err
    except OcrError as err:
        raise InvalidInput(f"{path}: {err.message}") from err
