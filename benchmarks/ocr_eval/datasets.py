"""Readers and the writer of the evaluation label files (``lines.tsv``, ``pages.tsv``).

Image paths in a labels file are relative to the file's folder. Fields are tab-separated,
never quoted, and a backslash escapes the next character (:data:`TSV_FORMAT`): ``\\"`` reads
as ``"``, ``\\\\`` as one backslash, a backslash before a tab as a tab inside the field.
:func:`write_tsv` writes the same way, so what it writes reads back unchanged.

Example:
    >>> rows = read_line_labels("../shared/eval/lines.tsv")  # doctest: +SKIP
    >>> rows[0].image, rows[0].text, rows[0].lang  # doctest: +SKIP
    ('lines/paddleocr_ch_word_1.jpg', '韩国小馆', 'zh')
"""

from __future__ import annotations

import csv
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """One page of ``pages.tsv``: its image path as written, the expected lines and its tags.

    ``tags`` come from the optional ``tags`` column (``;``-separated, e.g. ``cols=2;toc``),
    in the order first written, over all rows of the page.
    """

    image: str
    lines: tuple[str, ...]
    path: Path
    lang: str
    tags: tuple[str, ...] = ()


# The one TSV dialect of label and prediction files, for reading and writing alike.
TSV_FORMAT: dict[str, Any] = {
    "delimiter": "\t",
    "quoting": csv.QUOTE_NONE,
    "escapechar": "\\",
    "lineterminator": "\n",
}


def _rows(labels: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(labels, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, **TSV_FORMAT))


def write_tsv(path: str | os.PathLike[str], rows: Iterable[Sequence[object]],
              header: Sequence[str] | None = None) -> None:
    r"""Write rows in :data:`TSV_FORMAT` (line breaks inside a field become spaces).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     out = Path(tmp) / "t.tsv"
        ...     write_tsv(out, [("a.png", 'say "hi"', "C:\\dir")], header=("image", "text", "notes"))
        ...     written, read = out.read_text(encoding="utf-8"), _rows(out)
        >>> written.splitlines()[1]
        'a.png\tsay \\"hi\\"\tC:\\\\dir'
        >>> read[0]["text"], read[0]["notes"]
        ('say "hi"', 'C:\\dir')
    """
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, **TSV_FORMAT)
        if header is not None:
            writer.writerow(header)
        for row in rows:
            writer.writerow([" ".join(str(v).splitlines()) for v in row])


def split_tags(field: str | None) -> tuple[str, ...]:
    """The tags of a ``tags`` field: ``;``-separated, stripped, empty ones dropped.

    Example:
        >>> split_tags(" cols=2; toc;;rot=180 "), split_tags(None)
        (('cols=2', 'toc', 'rot=180'), ())
    """
    return tuple(t.strip() for t in (field or "").split(";") if t.strip())


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

    Rows with an empty ``text`` only declare the page (a page without text). The optional
    ``tags`` column gives the page's tags (see :class:`PageLabel`).
    """
    root = Path(labels).parent
    pages: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
    tags: dict[str, dict[str, None]] = {}
    for r in _rows(labels):
        lines = pages.setdefault(r["image"], [])
        tags.setdefault(r["image"], {}).update(dict.fromkeys(split_tags(r.get("tags"))))
        text = r.get("text") or ""
        if text.strip():
            lines.append((int(r.get("line_no") or len(lines) + 1), text))
    out = []
    for image, lines in pages.items():
        texts = tuple(t for _, t in sorted(lines, key=lambda x: x[0]))
        out.append(PageLabel(image, texts, root / image, guess_lang("".join(texts)), tuple(tags[image])))
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
