"""The real typeset page set: page choice, page checks and the pages.tsv it writes (PDFs faked)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crnn.realprint import Line, Page, Word, split_of
from ocr_eval import real_pages as rp
from ocr_eval.datasets import read_page_labels

PKG = "texlive-latex-base-doc"
REPO = Path(__file__).resolve().parents[3]


def _line(x: float, y: float, text: str, size: float = 10.0) -> Line:
    words, x0 = [], x
    for word in text.split():
        w = Word(x0, y, x0 + 6 * len(word), y + size, word)
        words.append(w)
        x0 = w.x1 + 4
    return Line(x, y, x0 - 4, y + size, tuple(words))


def _prose(n: int, first: str = "line") -> Page:
    return Page(400, 600, tuple(_line(40, 40 + 14 * i, f"{first} {i} of the page") for i in range(n)))


class FakePdf:
    """Six-page documents: page 1 a title page, page 3 a table of contents, page 5 blank, the rest prose."""

    def __init__(self) -> None:
        self.rendered: list[tuple[str, int, int]] = []

    def n_pages(self, path: Path) -> int:
        return 6

    def text(self, path: Path, page: int) -> Page:
        if page == 3:
            return Page(400, 600, tuple(_line(40, 40 + 14 * i, f"Part {i} . . . . . . . {i}") for i in range(6)))
        if page == 5:
            return Page(400, 600, ())
        return _prose(8, first=f"{path.stem}-p{page}")

    def render(self, path: Path, page: int, dpi: int) -> np.ndarray:
        """Ink under every word of the text layer, nothing else."""
        self.rendered.append((path.name, page, dpi))
        s = dpi / 72
        gray = np.full((int(600 * s), int(400 * s)), 255, np.uint8)
        for line in self.text(path, page).lines:
            for w in line.words:
                gray[int(w.y0 * s) + 2:int(w.y1 * s) - 2, int(w.x0 * s) + 1:int(w.x1 * s) - 1:3] = 0
        return gray

    def images(self, path: Path, page: int) -> list[tuple[int, int]]:
        return []

    def fonts(self, path: Path, page: int) -> list[tuple[str, bool]]:
        return [("ABCDEF+CMR10", True)]

    def warnings(self, path: Path, page: int) -> list[str]:
        return []


def _docs(root: Path, split: str, n: int) -> list[str]:
    names = [f"doc{i}.pdf" for i in range(200) if split_of(f"{PKG}/usr/share/doc/t/doc{i}.pdf") == split][:n]
    for name in names:
        path = root / PKG / "usr" / "share" / "doc" / "t" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n")
    return names


def _tools(fake: FakePdf) -> rp.PdfTools:
    return rp.PdfTools(n_pages=fake.n_pages, text=fake.text, render=fake.render, images=fake.images,
                       fonts=fake.fonts, warnings=fake.warnings)


def test_builds_a_pages_tsv_from_dev_documents_only(tmp_path: Path) -> None:
    pkgs = tmp_path / "realprint" / "pkgs"
    dev, train = _docs(pkgs, "dev", 2), _docs(pkgs, "train", 2)
    fake = FakePdf()
    labels = rp.build_real_pages(pkgs, tmp_path / "out", dpi=100, pages_per_doc=2, max_docs=0, tools=_tools(fake))
    pages = read_page_labels(labels)
    used = {name for name, _, _ in fake.rendered}
    assert used == set(dev) and not used & set(train)
    assert all(dpi == 100 for _, _, dpi in fake.rendered)
    # candidates 2..6; 3 (leaders) and 5 (no text) dropped; 2 of the usable 2, 4, 6 picked evenly
    assert [p.image.rsplit("_p", 1)[1] for p in pages] == ["0002.png", "0004.png"] * 2
    first = pages[0]
    assert first.lines == tuple(f"{Path(dev[0]).stem}-p2 {i} of the page" for i in range(8))  # in text order
    assert first.tags == ("real", "en", "cols=1")
    assert all(p.path.is_file() for p in pages)
    header = labels.read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == ["image", "line_no", "text", "provenance", "notes", "tags"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["pages"] == 4 and summary["dropped"] == {"leaders": 2, "no-text": 2}
    row = labels.read_text(encoding="utf-8").splitlines()[1].split("\t")
    assert row[3] == f"{PKG} ? usr/share/doc/t/{dev[0]}#2" and "100 dpi" in row[4]


def test_a_rebuild_is_the_same(tmp_path: Path) -> None:
    pkgs = tmp_path / "pkgs"
    _docs(pkgs, "dev", 1)
    a = rp.build_real_pages(pkgs, tmp_path / "a", tools=_tools(FakePdf()))
    b = rp.build_real_pages(pkgs, tmp_path / "b", tools=_tools(FakePdf()))
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a" / "pages").iterdir()) == sorted(
        p.name for p in (tmp_path / "b" / "pages").iterdir())


def test_page_problems() -> None:
    page = FakePdf().text(Path("x.pdf"), 2)
    lines = rp.truth_lines(page)
    assert rp.page_problem(page, lines, None, 150) is None
    assert rp.page_problem(page, lines, None, 150, images=[(400, 300)]) == "figure"
    assert rp.page_problem(page, lines, None, 150, fonts=[("Times", False)]) == "font-not-embedded"
    assert rp.page_problem(page, lines, None, 150, warnings=["Missing language pack"]) == "font-not-drawn"
    assert rp.page_problem(page, lines[:3], None, 150) == "no-text"
    blank = np.full((1250, 833), 255, np.uint8)
    assert rp.page_problem(page, lines, blank, 150) == "not-printed"
    smudged = FakePdf().render(Path("x.pdf"), 2, 150)
    assert rp.page_problem(page, lines, smudged, 150) is None
    smudged[900:1100:2, 100:300:2] = 0  # a figure no text line covers
    assert rp.page_problem(page, lines, smudged, 150) == "figure"
    smudged[900:1100, 100:300] = 255
    smudged[1000, 50:800] = 0  # a rule across the page is no figure
    assert rp.page_problem(page, lines, smudged, 150) is None


def test_numbered_code_and_tables_are_dropped_a_heading_number_is_not() -> None:
    numbers = tuple(_line(20, 40 + 12 * i, str(i + 1), size=8) for i in range(6))
    code = tuple(_line(60, 40 + 12 * i, f"\\def\\x{i}{{y}}") for i in range(6))
    listing = Page(400, 600, numbers + code)
    assert rp.page_problem(listing, rp.truth_lines(listing), None, 150) == "numbered-code"
    headings = Page(400, 600, tuple(ln for i in range(6) for ln in (_line(20, 40 + 30 * i, str(i + 1)),
                                                                      _line(40, 40 + 30 * i, f"Section {i} title"))))
    assert rp.page_problem(headings, rp.truth_lines(headings), None, 150) is None
    cells = tuple(_line(20 + 120 * c, 40 + 12 * r, f"cell {r} {c}") for c in range(3) for r in range(6))
    table = Page(400, 600, cells)
    assert rp.page_problem(table, rp.truth_lines(table), None, 150) == "side-by-side"


def test_columns_and_language() -> None:
    two = Page(600, 800, tuple(_line(x, 40 + 14 * i, "some words of running text here")
                               for x in (40, 320) for i in range(20)))
    assert rp.count_columns(two) == 2
    assert rp.page_problem(two, rp.truth_lines(two), None, 150) is None  # two columns are side by side
    across = Page(600, 800, tuple(_line(x, 40 + 14 * i, "some words of running text here")
                                  for i in range(20) for x in (40, 320)))
    assert rp.page_problem(across, rp.truth_lines(across), None, 150) == "interleaved-columns"
    assert rp.count_columns(_prose(20)) == 1
    assert rp.page_tags(two, ["中文的一行", "and English"])[1:] == ("zh", "cols=2")
    assert rp.page_lang(["An English manual (中文)"]) == "en"


def test_unmapped_glyphs_and_charset() -> None:
    assert rp.line_text([Word(0, 0, 10, 10, "x"), Word(14, 0, 20, 10, "∈"), Word(24, 0, 30, 10, "ﬁ")]) == "x ∈ fi"
    assert rp.text_layer_problem(_prose(6), ["ok"] * 5 + ["bad \x88"]) == "unmapped-glyph"
    assert rp.text_layer_problem(_prose(6), ["ok"] * 5 + ["private \ue000"]) == "unmapped-glyph"


@pytest.mark.skipif(not (REPO / "data" / "realprint" / "pkgs").is_dir(), reason="no unpacked packages")
def test_a_real_dev_document_gives_text_in_order() -> None:
    from crnn import realprint

    docs = rp.choose_documents(realprint.find_documents(REPO / "data" / "realprint" / "pkgs"), 1)
    assert docs and all(split_of(d[1]) == "dev" for d in docs)
    pkg, doc_id, path = docs[0]
    page = realprint.page_text(path, 1)
    assert rp.truth_lines(page) and all(t == t.strip() for t in rp.truth_lines(page))
