"""The pure parts of the real-print line set (crnn.realprint): no poppler, no Debian packages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from crnn import realprint as rp
from crnn.realprint import Line, Word

XHTML = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml">
<head><title>t</title></head><body><doc>
  <page width="595.28" height="841.89">
    <flow><block xMin="130.5" yMin="36.9" xMax="295.4" yMax="48.9">
      <line xMin="130.5" yMin="36.9" xMax="295.4" yMax="48.9">
        <word xMin="130.5" yMin="36.9" xMax="141.0" yMax="47.4">第</word>
        <word xMin="143.6" yMin="38.3" xMax="148.9" yMax="48.9">3</word>
        <word xMin="151.5" yMin="36.9" xMax="162.0" yMax="47.4">节</word>
        <word xMin="172.5" yMin="36.9" xMax="225.0" yMax="47.4">宏包选项与</word>
        <word xMin="227.6" yMin="37.8" xMax="271.7" yMax="48.3">\\ctexset</word>
      </line>
    </block></flow>
    <flow><block xMin="72" yMin="100" xMax="300" yMax="124">
      <line xMin="72" yMin="100" xMax="200" yMax="110"><word xMin="72" yMin="100" xMax="100" yMax="110">a&amp;b</word>
        <word xMin="104" yMin="100" xMax="200" yMax="110">&lt;c&gt;\x01</word></line>
      <line xMin="72" yMin="112" xMax="300" yMax="124"><word xMin="72" yMin="112" xMax="300" yMax="124">next</word></line>
    </block></flow>
  </page>
  <page width="100" height="200"></page>
</doc></body></html>"""


def test_parse_bbox_layout_pages_blocks_lines_words():
    pages = rp.parse_bbox_layout(XHTML)
    assert [(p.width, p.height, len(p.lines)) for p in pages] == [(595.28, 841.89, 3), (100.0, 200.0, 0)]
    first, second, third = pages[0].lines
    assert [w.text for w in first.words] == ["第", "3", "节", "宏包选项与", "\\ctexset"]
    assert first.box == (130.5, 36.9, 295.4, 48.9) and first.block == 0
    assert [w.text for w in second.words] == ["a&b", "<c>"]  # entities decoded, control character dropped
    assert (second.block, third.block) == (1, 1)
    assert second.words[1] == Word(104, 100, 200, 110, "<c>")
    assert rp.join_words(first.words) == "第 3 节宏包选项与 \\ctexset"


def test_scale_box_points_to_pixels_outward():
    assert rp.scale_box((72, 36, 144, 45.1), 100) == (100, 50, 200, 63)
    assert rp.scale_box((10, 20, 30, 40), 72) == (10, 20, 30, 40)  # whole numbers stay put
    assert rp.scale_box((10.2, 20.2, 30.2, 40.2), 144) == (20, 40, 61, 81)
    x0, y0, x1, y1 = rp.scale_box((0.4, 0.4, 0.6, 0.6), 150)
    assert x1 > x0 and y1 > y0


def test_join_words_spaces_only_between_words_not_between_chinese():
    w = [Word(0, 0, 20, 10, "如果你使用"), Word(23, 0, 50, 10, "multicol"), Word(53, 0, 70, 10, "宏包，"),
         Word(72, 0, 80, 10, "那么")]
    assert rp.join_words(w) == "如果你使用 multicol 宏包，那么"
    assert rp.join_words([Word(0, 0, 9, 10, "“禁则”"), Word(11, 0, 20, 10, "is")]) == "“禁则” is"
    assert rp.join_words([Word(0, 0, 9, 10, "say"), Word(11, 0, 20, 10, "“hi”")]) == "say “hi”"


def test_normalize_truth_folds_like_training_labels_and_rejects_what_it_cannot_write():
    assert rp.normalize_truth("ＡＢＣ１２３　中文") == ("ABC123 中文", None)
    assert rp.normalize_truth("¥5 ∙ ok") == ("￥5 • ok", None)  # crnn.charset.FOLD
    assert rp.normalize_truth("ﬁle ﬂow ﬀ") == ("file flow ff", None)  # ligatures print their letters
    assert rp.normalize_truth("  a \t b  ") == ("a b", None)
    assert rp.normalize_truth("x ∈ A") == ("", "charset")  # math
    assert rp.normalize_truth("禁則") == ("", "charset")  # not GB2312
    assert rp.normalize_truth("a\ue000b") == ("", "private-use")
    assert rp.normalize_truth("2ε") == ("", "charset")


def test_text_problems():
    assert rp.text_problems("a") == ["short"]
    assert rp.text_problems("中") == ["short"]
    assert rp.text_problems(" a ") == ["short"]
    assert rp.text_problems("253") == ["number"] and rp.text_problems("1995/12/01") == []
    assert rp.text_problems("1.2 Overview . . . . . . . 3") == ["leaders"]
    assert rp.text_problems("目录……………… 5") == ["leaders"]
    assert rp.text_problems("e.g. this") == [] and rp.text_problems("ab") == []


def _line(*words: Word) -> Line:
    return Line(min(w.x0 for w in words), min(w.y0 for w in words), max(w.x1 for w in words),
                max(w.y1 for w in words), tuple(words))


def test_geometry_problems_each_reason():
    ok = _line(Word(0, 0, 20, 10, "ab"), Word(24, 0, 50, 10, "cd"))
    assert rp.geometry_problems(ok, [ok]) == []
    assert rp.geometry_problems(Line(0, 0, 50, 10, ()), []) == ["empty"]
    assert rp.geometry_problems(_line(Word(0, 0, 20, 10, "ab"), Word(24, 0, 50, 10, " ")), []) == ["empty"]
    backwards = _line(Word(30, 0, 50, 10, "ab"), Word(0, 0, 20, 10, "cd"))
    assert "order" in rp.geometry_problems(backwards, [])
    sup = _line(Word(0, 0, 20, 10, "E"), Word(22, -3, 26, 3, "2"))
    assert "size" in rp.geometry_problems(sup, [])
    low = Line(0, 0, 50, 14, (Word(0, 0, 20, 10, "ab"), Word(24, 4, 50, 14, "cd")))
    assert rp.geometry_problems(low, []) == ["baseline"]
    tight = _line(Word(0, 0, 20, 10, "foo"), Word(20.5, 0, 30, 10, "("))
    assert rp.geometry_problems(tight, []) == ["tight-gap"]
    assert rp.geometry_problems(_line(Word(0, 0, 8, 10, "ab")), []) == ["vertical"]
    # Overlap: more than 15 % of the height shared with a line that also overlaps horizontally.
    assert rp.geometry_problems(ok, [Line(0, 5, 50, 15, ())]) == ["overlap"]
    assert rp.geometry_problems(ok, [Line(0, 9, 50, 19, ())]) == []  # touching boxes are fine
    assert rp.geometry_problems(ok, [Line(60, 0, 90, 10, ())]) == []  # same row, other column


def test_chinese_and_latin_words_of_one_line_may_differ_in_box_height():
    mixed = _line(Word(0, 0, 40, 12, "推荐使用"), Word(44, 1, 80, 11.3, "XeLaTeX"), Word(84, 0, 100, 12, "编译"))
    assert rp.geometry_problems(mixed, []) == []
    # Chinese next to a small Latin run (7 against 12 points) is still a size problem.
    small = _line(Word(0, 0, 40, 12, "中文和"), Word(44, 3, 60, 10, "mc"), Word(62, 0, 80, 12, "的混排"))
    assert "size" in rp.geometry_problems(small, [])
    # No exemption between Chinese and a space-free tight gap: spaces there are not written.
    assert rp.geometry_problems(_line(Word(0, 0, 20, 10, "中文"), Word(20.3, 0, 40, 10, "ab")), []) == []


def test_monospace_pitch_and_gaps():
    mono = [Word(0, 0, 18, 10, "abc"), Word(24, 0, 30, 10, "("), Word(36, 0, 60, 10, "defg")]
    assert rp.monospace_pitch(mono) == 6.0
    assert rp.monospace_gaps_ok(mono, 6.0)
    assert rp.monospace_pitch([Word(0, 0, 18, 10, "abc"), Word(24, 0, 28, 10, "i;"), Word(30, 0, 54, 10, "defg")]) is None
    assert rp.monospace_pitch(mono[:2]) is None  # too few words to tell
    assert rp.monospace_pitch([Word(0, 0, 20, 10, "中文"), *mono]) is None
    inserted = [Word(0, 0, 18, 10, "abc"), Word(20, 0, 26, 10, "("), Word(28, 0, 52, 10, "defg")]
    assert rp.monospace_pitch(inserted) == 6.0 and not rp.monospace_gaps_ok(inserted, 6.0)
    assert rp.line_label(_line(*inserted), mono_page=True) == ("", "mono-gap", True)
    assert rp.line_label(_line(*inserted), mono_page=False) == ("abc ( defg", None, False)
    assert rp.line_label(_line(*mono), mono_page=True) == ("abc ( defg", None, True)


def test_parse_pdffonts_row():
    assert rp.parse_pdffonts_row("FQPLLL+KaiTi   CID TrueType   Identity-H   yes yes yes     67  0") == ("FQPLLL+KaiTi", True)
    assert rp.parse_pdffonts_row("SimSun         CID TrueType   Identity-H   no  no  yes     12  0") == ("SimSun", False)
    assert rp.MONO_FONT.search("XWTAML+CMTT10") and rp.MONO_FONT.search("OWXKUY+DejaVuSansMono")
    assert not rp.MONO_FONT.search("ROHWIN+CMR10")


# ---- pixels: pages drawn with NumPy, boxes in points at 72 dpi (1 point = 1 pixel)

def _page(h: int = 60, w: int = 200) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def _glyphs(page: np.ndarray, x0: int, x1: int, y0: int = 22, y1: int = 32, pitch: int = 4) -> None:
    """Letter-like strokes: 2-pixel bars every ``pitch`` pixels, joined at the baseline."""
    for x in range(x0, x1 - 1, pitch):
        page[y0:y1, x:x + 2] = 0
    page[y1 - 2:y1, x0:x1] = 0


def _two_word_line() -> Line:
    return Line(10, 20, 80, 34, (Word(10, 20, 40, 34, "ab"), Word(46, 20, 80, 34, "cd")))


def test_cut_line_pads_the_ink_box_like_the_line_finder():
    page = _page()
    _glyphs(page, 10, 40)
    _glyphs(page, 46, 80)
    cut = rp.cut_line(page, _two_word_line(), 72)
    assert cut.problem is None
    ink_h = 10
    assert cut.box == (round(10 - rp.PAD_X * ink_h), round(22 - rp.PAD_Y * ink_h),
                       round(80 + rp.PAD_X * ink_h), round(32 + rp.PAD_Y * ink_h))
    assert cut.crop.shape == (cut.box[3] - cut.box[1], cut.box[2] - cut.box[0])
    assert cut.crop.dtype == np.uint8 and cut.crop.min() == 0 and cut.crop[0].min() == 255


def test_cut_line_at_another_dpi_scales_the_boxes():
    page = _page(120, 400)
    _glyphs(page, 20, 80, 44, 64, pitch=8)
    _glyphs(page, 92, 160, 44, 64, pitch=8)
    cut = rp.cut_line(page, _two_word_line(), 144)
    assert cut.problem is None and cut.box == (15, 40, 165, 68)


@pytest.mark.parametrize("case", ["blank-word", "uncovered", "foreign", "missing-space", "gap-ink", "inverted",
                                  "edge", "tall"])
def test_cut_line_rejects_pixels_that_disagree_with_the_words(case):
    page = _page()
    line = _two_word_line()
    _glyphs(page, 10, 40)
    expected = case
    if case == "blank-word":
        expected = "blank"  # the second word is not printed
    else:
        _glyphs(page, 46, 80)
    if case == "uncovered":
        page = _page(60, 200)
        _glyphs(page, 10, 40)
        _glyphs(page, 46, 56)  # printed, yet under no word (a glyph without text)
        _glyphs(page, 60, 80)
        line = Line(10, 20, 80, 34, (Word(10, 20, 40, 34, "ab"), Word(60, 20, 80, 34, "cd")))
        expected = "uncovered-ink"
    elif case == "foreign":
        page[33:34, 0:200] = 0  # a rule just under the line, inside the crop's padding
        expected = "foreign-ink"
    elif case == "missing-space":
        page = _page()
        _glyphs(page, 10, 20)
        _glyphs(page, 30, 40)  # a 10-pixel gap inside the first word
        _glyphs(page, 46, 80)
    elif case == "gap-ink":
        page[30:32, 40:44] = 0  # a stroke of the first word reaching into the middle of the gap
    elif case == "inverted":
        page = 255 - page
    elif case == "edge":
        line = Line(0, 20, 80, 34, line.words)
    elif case == "tall":
        page[2:58, 12:14] = 0  # a vertical rule through the line, longer than 1.7 heights
        expected = "ink-height"
    assert rp.cut_line(page, line, 72).problem == expected


def test_split_is_by_document_fixed_and_about_one_in_five():
    ids = [f"pkg/usr/share/doc/x/doc{i}.pdf" for i in range(2000)]
    splits = [rp.split_of(d) for d in ids]
    assert splits == [rp.split_of(d) for d in ids]  # deterministic
    assert 0.17 < splits.count("dev") / len(ids) < 0.23
    # Pinned: a change of the rule (salt, share, hash) moves documents between splits.
    assert rp.split_of("texlive-latex-base-doc/usr/share/doc/texlive-doc/latex/base/clsguide.pdf") == "dev"
    assert rp.split_of("linuxcnc-doc-zh-cn/usr/share/doc/linuxcnc/LinuxCNC_Documentation_zh_CN.pdf") == "train"
    assert rp.split_of("texlive-lang-chinese/usr/share/doc/texlive-doc/latex/ctex-faq/ctex-faq.pdf") == "dev"


def test_pages_dpis_and_picks_are_deterministic_and_spread():
    assert rp.spread_pages(100, 4) == [14, 39, 63, 88]
    assert rp.spread_pages(3, 5) == [2, 3] and rp.spread_pages(1, 2) == [1]
    assert rp.spread_pages(10, 3, skip_first=False) == [2, 6, 9]
    dpis = [rp.page_dpi("pkg/a.pdf", p) for p in range(1, 200)]
    assert set(dpis) == set(rp.DPIS) and dpis == [rp.page_dpi("pkg/a.pdf", p) for p in range(1, 200)]
    assert rp.page_dpi("pkg/a.pdf", 1, (120,)) == 120
    assert rp.pick_evenly(list(range(10)), 3) == [0, 3, 6]
    assert rp.pick_evenly([1, 2], 5) == [1, 2] and rp.pick_evenly([1, 2], 0) == [1, 2]


def test_find_documents_skips_figures_and_refuses_debian_edu(tmp_path):
    for rel in ("pkg-a/usr/share/doc/a/guide.pdf", "pkg-a/usr/share/doc/a/figures/plot.pdf",
                "pkg-a/usr/share/doc/a/src/x.pdf", "pkg-a/usr/share/doc/b/manual.pdf", "pkg-a/other/x.pdf"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"%PDF-1.4")
    docs = rp.find_documents(tmp_path, (("pkg-a", "en"),))
    assert [d[1] for d in docs] == ["pkg-a/usr/share/doc/a/guide.pdf", "pkg-a/usr/share/doc/b/manual.pdf"]
    with pytest.raises(ValueError, match="debian-edu-doc"):
        rp.find_documents(tmp_path, (("debian-edu-doc-en", "en"),))
    assert not any(rp.FORBIDDEN_PACKAGE.match(p) for p, _ in rp.PACKAGES)


def _fake_tools(monkeypatch, pages_with_image=()):
    """Stand-ins for poppler: every page has the same two lines, drawn at the asked dpi."""
    words = (Word(10, 20, 40, 34, "ab"), Word(46, 20, 80, 34, "中文"))
    text = rp.Page(200, 60, (Line(10, 20, 80, 34, words), Line(10, 40, 80, 54, (Word(10, 40, 80, 54, "x∈y"),))))

    def render(path, page, dpi):
        s = dpi / 72
        img = np.full((int(60 * s), int(200 * s)), 255, np.uint8)
        img[int(22 * s):int(32 * s), int(10 * s):int(40 * s)] = 0
        img[int(22 * s):int(32 * s), int(46 * s):int(80 * s)] = 0
        img[int(42 * s):int(52 * s), int(10 * s):int(80 * s)] = 0
        return img

    monkeypatch.setattr(rp, "pdf_pages", lambda path: 9)
    monkeypatch.setattr(rp, "page_images", lambda path, page: [(500, 500)] if page in pages_with_image else [])
    monkeypatch.setattr(rp, "page_fonts", lambda path, page: [("ABC+SimSun", True)])
    monkeypatch.setattr(rp, "page_text", lambda path, page: text)
    monkeypatch.setattr(rp, "render_page", render)
    monkeypatch.setattr(rp, "tool_version", lambda: "pdftoppm version test")


def test_build_writes_splits_manifest_and_summary_deterministically(tmp_path, monkeypatch):
    _fake_tools(monkeypatch, pages_with_image=(5,))
    root = tmp_path / "pkgs"
    ids = [f"texlive-lang-chinese/usr/share/doc/x/d{i}.pdf" for i in range(12)]
    for d in ids:
        (root / d).parent.mkdir(parents=True, exist_ok=True)
        (root / d).write_bytes(b"%PDF")
    (tmp_path / "debs").mkdir()
    (tmp_path / "debs" / "texlive-lang-chinese_2022.1-1_all.deb").write_bytes(b"")
    out = tmp_path / "out"
    summary = rp.build(out, root, pages_per_doc=4, max_lines_per_doc=3, log=lambda s: None)
    n_dev = sum(rp.split_of(d) == "dev" for d in ids)
    assert summary["splits"]["dev"]["documents"] == n_dev and 0 < n_dev < 12
    for split in ("dev", "train"):
        rows = list(csv.DictReader(open(out / split / "lines.tsv", encoding="utf-8"), delimiter="\t"))
        man = list(csv.DictReader(open(out / split / "manifest.tsv", encoding="utf-8"), delimiter="\t"))
        assert {r["text"] for r in rows} == {"ab 中文"} and {r["lang"] for r in rows} == {"zh"}
        assert [r["image"] for r in rows] == [m["image"] for m in man]
        assert {m["package"] for m in man} == {"texlive-lang-chinese"} and {m["version"] for m in man} == {"2022.1-1"}
        assert "5" not in {m["page"] for m in man}  # the page with a picture was skipped
        docs = {m["document"] for m in man}
        assert all(rp.split_of(f"texlive-lang-chinese/{d}") == split for d in docs)
        for r, m in zip(rows, man):
            img = cv2.imread(str(out / split / r["image"]), cv2.IMREAD_GRAYSCALE)
            x0, y0, x1, y1 = map(int, m["box_px"].split(","))
            assert img.shape == (y1 - y0, x1 - x0) and f"_d{m['dpi']}_" in r["image"]
        assert sum(1 for r in rows if r["image"].startswith("crops/")) <= 3 * len(docs)
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert saved["splits"]["train"]["reasons"]["charset"] > 0
    assert saved["splits"]["dev"]["settings"]["packages"] == {"texlive-lang-chinese": "2022.1-1"}
    first = (out / "dev" / "lines.tsv").read_bytes(), (out / "dev" / "manifest.tsv").read_bytes()
    rp.build(out, root, splits=("dev",), pages_per_doc=4, max_lines_per_doc=3, log=lambda s: None)
    assert ((out / "dev" / "lines.tsv").read_bytes(), (out / "dev" / "manifest.tsv").read_bytes()) == first
    assert "train" in json.loads((out / "summary.json").read_text(encoding="utf-8"))["splits"]


def test_realprint_files_are_data_not_code():
    """The built set lives under data/, which git ignores."""
    gitignore = (Path(__file__).resolve().parents[3] / ".gitignore").read_text(encoding="utf-8")
    assert "/data/" in gitignore.split()
