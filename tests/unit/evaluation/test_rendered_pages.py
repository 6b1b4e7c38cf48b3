"""The rendered page benchmark: its labels file, images, determinism, layout truth and leader stripping."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")

from ocr_eval.datasets import load_image, read_page_labels  # noqa: E402
from ocr_eval.rendered.build import PageSpec, lay_out, render_spec, schedule  # noqa: E402
from ocr_eval.rendered_pages import build_rendered_pages, strip_leaders  # noqa: E402

N_PAGES = 4


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rendered_pages(tmp_path_factory.mktemp("rendered"), seed=3, pages=N_PAGES)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))


def test_labels_parse_and_every_page_has_lines(built: Path) -> None:
    assert built.name == "pages.tsv"
    pages = read_page_labels(built)
    assert len(pages) == N_PAGES
    for page in pages:
        assert len(page.lines) >= 10, page.image
        assert page.path.is_file()
        assert page.lang in ("zh", "en")
    rows = _rows(built)
    assert list(rows[0]) == ["image", "line_no", "text", "provenance", "notes", "tags"]
    assert {r["provenance"] for r in rows} == {"RENDER"}
    for image in {r["image"] for r in rows}:
        numbers = [int(r["line_no"]) for r in rows if r["image"] == image]
        assert numbers == list(range(1, len(numbers) + 1))


def test_truth_text_is_normalised(built: Path) -> None:
    for r in _rows(built):
        text = r["text"]
        assert text == " ".join(text.split()) and text
        assert not set(text) & set('\t\\"')
        if "zh" in r["tags"].split(";") and r["notes"].startswith("role=body"):
            assert " " not in text


def test_tags_describe_the_page(built: Path) -> None:
    by_image: dict[str, set[str]] = {}
    for r in _rows(built):
        tags = r["tags"].split(";")
        assert by_image.setdefault(r["image"], set(tags)) == set(tags)  # one tag set per page
    for tags in by_image.values():
        assert len(tags & {"zh", "en"}) == 1
        assert len([t for t in tags if t.startswith("rot=")]) == 1
        assert ("clean" in tags) != any(t.startswith("degraded=") for t in tags)
        assert "toc" in tags or any(t.startswith("cols=") for t in tags)


def test_images_decode_with_the_size_of_their_rotation(built: Path) -> None:
    tags = {r["image"]: r["tags"].split(";") for r in _rows(built)}
    for page in read_page_labels(built):
        rot = int(next(t for t in tags[page.image] if t.startswith("rot="))[4:])
        h, w = load_image(page.path).shape[:2]
        assert (w, h) == ((1240, 1754) if rot in (0, 180) else (1754, 1240)), page.image
        assert page.path.suffix == (".png" if "clean" in tags[page.image] else ".jpg")


def test_same_seed_same_set_and_another_seed_differs(built: Path, tmp_path: Path) -> None:
    again = build_rendered_pages(tmp_path / "a", seed=3, pages=2)
    first = [r for r in _rows(built) if r["image"] in {r2["image"] for r2 in _rows(again)}]
    assert first == _rows(again)
    for image in {r["image"] for r in first}:
        assert (built.parent / image).read_bytes() == (again.parent / image).read_bytes()
    other = build_rendered_pages(tmp_path / "b", seed=4, pages=1)
    first_page = [r["text"] for r in first if r["image"] == first[0]["image"]]
    assert [r["text"] for r in _rows(other)] != first_page


def test_default_set_covers_kinds_languages_rotations_and_degradations() -> None:
    specs = schedule(0)
    assert 48 <= len(specs) <= 64
    assert {(s.kind, s.lang) for s in specs} == {(k, lang) for k in {s.kind for s in specs} for lang in ("zh", "en")}
    assert {s.rot for s in specs} == {0, 90, 180, 270}
    assert {s.degrade for s in specs} == {"clean", "scan", "jpeg", "photo"}
    assert any(s.tilt for s in specs) and any(s.header for s in specs) and any(s.footer for s in specs)
    for kind in {s.kind for s in specs}:
        assert {s.rot for s in specs if s.kind == kind} == {0, 90, 180, 270}
    assert schedule(0, pages=3) == specs[:3]


def test_turned_page_is_the_upright_page_turned() -> None:
    spec = PageSpec(0, "cols1", "en", 90, 0.0, "clean", True, True)
    _, turned, _ = render_spec(spec, seed=1)
    _, upright, _ = render_spec(PageSpec(0, "cols1", "en", 0, 0.0, "clean", True, True), seed=1)
    assert np.array_equal(np.rot90(turned, k=-1), upright)
    ink = upright.min(axis=2) < 128
    assert ink[:300].any() and ink.sum() > 20000  # text from the top down


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_two_column_lines_stay_inside_their_column(lang: str) -> None:
    page = lay_out(PageSpec(1, "cols2", lang, 0, 0.0, "clean", True, True), seed=5)
    assert page.columns and all(len(band) == 2 for band in page.columns)
    (l0, l1), (r0, r1) = page.columns[0]
    assert r0 - l1 >= 1.5 * 20  # a gutter of at least 1.5 em of a 10 pt face
    in_cols = [ln for ln in page.lines if ln.col]
    assert {ln.col for ln in in_cols} == {1, 2}
    for ln in in_cols:
        lo, hi = (l0, l1) if ln.col == 1 else (r0, r1)
        assert lo - 2 <= ln.box.x0 and ln.box.x1 <= hi + 2, (ln.text, ln.box)
        assert not (ln.box.x0 < l1 + 2 and ln.box.x1 > r0 - 2), ln.text  # never across the gutter
    # reading order: each band's left column, then its right column
    runs = [c for i, c in enumerate(ln.col for ln in in_cols) if i == 0 or c != in_cols[i - 1].col]
    assert runs == [1, 2] * len(page.columns)
    roles = [ln.role for ln in page.lines]
    assert roles[0] == "header" and roles[-1] == "footer"


def test_toc_truth_has_no_leaders() -> None:
    page = lay_out(PageSpec(5, "toc", "zh", 0, 0.0, "clean", False, False), seed=2)
    toc = [ln for ln in page.lines if ln.role == "toc"]
    assert len(toc) >= 10
    for ln in toc:
        assert strip_leaders(ln.text) == ln.text
        assert ln.text.split()[-1].isdigit()
        assert len(ln.pieces) >= 3


@pytest.mark.parametrize(
    ("printed", "truth"),
    [
        ("1.2 Section title .......... 17", "1.2 Section title 17"),
        ("1.2 Section title..........17", "1.2 Section title 17"),
        ("第一章 总则 …… … 3", "第一章 总则 3"),
        ("第二节 一般规定··········12", "第二节 一般规定 12"),
        ("Preface . . . . . . v", "Preface v"),
        ("3.1 Results", "3.1 Results"),
        ("Wait... what", "Wait what"),
        ("  two  spaces  ", "two spaces"),
    ],
)
def test_strip_leaders(printed: str, truth: str) -> None:
    assert strip_leaders(printed) == truth
