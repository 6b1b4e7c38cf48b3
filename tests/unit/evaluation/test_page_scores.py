"""Label-file escaping, the two page CERs, the tag breakdown and the page benchmark's commands."""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import types
from pathlib import Path

import cv2
import pytest

from ocr_eval.datasets import read_line_labels, read_page_labels, write_tsv
from ocr_eval.metrics import _edit_distance_np, edit_distance, reading_order_edits
from ocr_eval.pages import evaluate_pages, score_page
from support.toy_model import draw_line


class Scripted:
    """A page reader that answers each page in turn from a list."""

    name = "scripted"

    def __init__(self, answers: list[list[str]]):
        self.answers = list(answers)

    def read_page(self, image: object) -> list[str]:
        return self.answers.pop(0)


def _pages(tmp_path: Path, header: str, rows: list[str], images: tuple[str, ...]) -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    for name in images:
        cv2.imwrite(str(tmp_path / "pages" / name), draw_line("a"))
    path = tmp_path / "pages.tsv"
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------- escaping
def test_an_escaped_quote_in_a_label_matches_a_plain_quote(tmp_path: Path) -> None:
    labels = _pages(tmp_path, "image\tline_no\ttext\tprovenance\tnotes",
                    ['pages/p.png\t1\tsay \\"hi\\"\tTEST\tquoted \\"so\\"', "pages/p.png\t2\tC:\\\\dir\tTEST\t"],
                    ("p.png",))
    assert read_page_labels(labels)[0].lines == ('say "hi"', "C:\\dir")
    rep = evaluate_pages(labels, Scripted([['say "hi"', "C:\\dir"]]))
    assert rep.line_recall == 1.0 and rep.rows[0].cer == 0.0 and rep.reading_order_cer == 0.0


def test_line_labels_read_the_same_escapes(tmp_path: Path) -> None:
    path = tmp_path / "lines.tsv"
    path.write_text('image\ttext\tlang\nl.png\t\\"ok\\" a\\\tb\ten\n', encoding="utf-8")
    (row,) = read_line_labels(path)
    assert (row.text, row.lang) == ('"ok" a\tb', "en")


def test_what_write_tsv_writes_reads_back_unchanged(tmp_path: Path) -> None:
    texts = ['a "quoted" word', "back\\slash and \\\\ two", "tab\tinside", "trailing \\", "中文，全角：", "plain"]
    path = tmp_path / "pages.tsv"
    write_tsv(path, [("pages/x.png", i, t, "TEST", 'note "x"', "cols=2;toc") for i, t in enumerate(texts, 1)],
              header=("image", "line_no", "text", "provenance", "notes", "tags"))
    (page,) = read_page_labels(path)
    assert page.lines == tuple(texts)
    assert page.tags == ("cols=2", "toc")


def test_write_tsv_turns_line_breaks_into_spaces(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    write_tsv(path, [("x.png", "one\ntwo\r\nthree")], header=("image", "text"))
    assert read_line_labels(path)[0].text == "one two three"


def test_the_shared_eval_sets_read_as_before() -> None:
    """``shared/eval`` has backslashes only in its notes: its labels read as they did unescaped."""
    root = Path(os.environ.get("OCR_EVAL_DIR", Path(__file__).resolve().parents[3].parent / "shared" / "eval"))
    if not (root / "pages.tsv").is_file():
        pytest.skip(f"no eval set at {root}")

    def unescaped(name: str) -> list[dict[str, str]]:
        with open(root / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))

    assert [(r.image, r.text) for r in read_line_labels(root / "lines.tsv")] == [
        (r["image"], r["text"]) for r in unescaped("lines.tsv")]
    assert sum(len(p.lines) for p in read_page_labels(root / "pages.tsv")) == sum(
        1 for r in unescaped("pages.tsv") if r["text"].strip())
    assert {t for p in read_page_labels(root / "pages.tsv") for t in p.lines} == {
        r["text"] for r in unescaped("pages.tsv") if r["text"].strip()}


# ---------------------------------------------------------------- the two page CERs
def test_swapped_lines_cost_in_reading_order_only() -> None:
    row = score_page("p.png", "en", ["first line", "second line"], ["second line", "first line"])
    assert row.cer == 0.0 and row.exact_found == 2
    edits = edit_distance("first line\nsecond line", "second line\nfirst line")
    assert row.reading_order_edits == edits and row.reading_order_chars == 22
    assert row.reading_order_cer == pytest.approx(edits / 22) and row.reading_order_cer > 0


def test_small_hand_counted_pages() -> None:
    assert reading_order_edits(["ab", "cd"], ["cd", "ab"]) == (4, 5)  # "ab\ncd" -> "cd\nab"
    # two lines found as one: one edit in order (the line break), all lost as a set
    merged = score_page("p.png", "en", ["ab", "cd"], ["ab cd"])
    assert merged.reading_order_cer == pytest.approx(1 / 5)
    assert merged.cer == pytest.approx((2 + 2 + 5) / 4)
    # normalisation applies per line: full-width colon, spaces between CJK characters
    assert score_page("p.png", "zh", ["电话：1", "中文"], ["电话:1", "中 文"]).reading_order_cer == 0.0
    assert score_page("blank.png", "en", [], []).reading_order_cer == 0.0
    assert score_page("blank.png", "en", [], ["x"]).reading_order_cer == 1.0


def test_the_numpy_edit_distance_agrees_with_the_plain_one() -> None:
    def plain(a: str, b: str) -> int:
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]

    rng = random.Random(7)
    for _ in range(300):
        a, b = ("".join(rng.choice("ab中\n ") for _ in range(rng.randint(0, 40))) for _ in range(2))
        assert _edit_distance_np(a, b) == plain(a, b), (a, b)
    long_a = "".join(rng.choice("abcdef 中文\n") for _ in range(200))
    long_b = long_a[:50] + "xyz" + long_a[80:]
    assert edit_distance(long_a, long_b) == plain(long_a, long_b)


def test_report_keeps_the_old_keys_and_adds_both_cers(tmp_path: Path) -> None:
    labels = _pages(tmp_path, "image\tline_no\ttext\tprovenance\tnotes",
                    ["pages/p1.png\t1\tfirst line\tTEST\t", "pages/p1.png\t2\tsecond line\tTEST\t",
                     "pages/p2.png\t1\tonly line\tTEST\t"], ("p1.png", "p2.png"))
    rep = evaluate_pages(labels, Scripted([["second line", "first line"], ["only lime"]]))
    d = rep.to_dict(with_rows=True)
    assert d["per_page_cer"] == {"pages/p1.png": 0.0, "pages/p2.png": pytest.approx(1 / 9)}
    assert d["order_free_cer"] == d["overall"]["cer"] == pytest.approx(1 / 30)
    edits = edit_distance("first line\nsecond line", "second line\nfirst line") + 1
    assert d["reading_order_cer"] == pytest.approx(edits / (22 + 9))
    assert d["per_page_reading_order_cer"]["pages/p2.png"] == pytest.approx(1 / 9)
    assert d["line_recall"] == pytest.approx(2 / 3)
    assert d["rows"][0]["order_free_cer"] == 0.0 and d["rows"][0]["reading_order_cer"] > 0
    assert d["by_tag"] == {}
    assert "reading order" in rep.summary() and "order free" in rep.summary()


# ---------------------------------------------------------------- tags
def test_scores_per_tag(tmp_path: Path) -> None:
    labels = _pages(tmp_path, "image\tline_no\ttext\tprovenance\tnotes\ttags",
                    ["pages/a.png\t1\talpha\tTEST\t\tcols=2;degraded", "pages/a.png\t2\tbeta\tTEST\t\tcols=2;degraded",
                     "pages/b.png\t1\tgamma\tTEST\t\tdegraded; rot=180", "pages/c.png\t1\tdelta\tTEST\t\t"],
                    ("a.png", "b.png", "c.png"))
    assert [p.tags for p in read_page_labels(labels)] == [("cols=2", "degraded"), ("degraded", "rot=180"), ()]
    rep = evaluate_pages(labels, Scripted([["beta", "alpha"], ["gamma"], ["delta"]]))
    assert set(rep.by_tag) == {"cols=2", "degraded", "rot=180"}
    two, deg, rot = rep.by_tag["cols=2"], rep.by_tag["degraded"], rep.by_tag["rot=180"]
    assert (two.pages, two.line_recall, two.order_free_cer) == (1, 1.0, 0.0)
    assert two.reading_order_cer == pytest.approx(edit_distance("alpha\nbeta", "beta\nalpha") / 10)
    assert (deg.pages, rot.pages, rot.reading_order_cer) == (2, 1, 0.0)
    assert deg.reading_order_cer == pytest.approx(edit_distance("alpha\nbeta", "beta\nalpha") / 15)
    assert rep.to_dict()["by_tag"]["degraded"]["pages"] == 2
    assert "tag rot=180" in rep.summary()


# ---------------------------------------------------------------- commands
def test_pagebench_command(tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ocr_eval.cli import main

    labels = _pages(tmp_path, "image\tline_no\ttext\tprovenance\tnotes\ttags",
                    ["pages/p.png\t1\taab\tTEST\t\tclean;all", "pages/q.png\t1\tba\tTEST\t\tall"], ("p.png", "q.png"))
    out = tmp_path / "pb.json"
    assert main(["pagebench", "--sets", str(labels), str(tmp_path / "missing" / "pages.tsv"),
                 "--model", str(toy_model_path), "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "missing" in captured.err
    assert f"| {tmp_path.name} | 2 |" in captured.out and f"| {tmp_path.name}: clean | 1 |" in captured.out
    assert ": all |" not in captured.out  # a tag of every page would repeat the set's row
    doc = json.loads(out.read_text(encoding="utf-8"))
    (entry,) = doc["sets"]
    assert entry["name"] == tmp_path.name and "reading_order_cer" in entry and entry["by_tag"]["clean"]["pages"] == 1
    assert main(["pagebench", "--sets", str(tmp_path / "none.tsv"), "--model", str(toy_model_path)]) == 2


def test_build_rendered_pages_calls_the_module_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from ocr_eval.cli import main

    calls = []

    def fake(out_dir: Path, *, seed: int = 0, pages: int | None = None) -> Path:
        calls.append((out_dir, seed, pages))
        return out_dir / "pages.tsv"

    monkeypatch.setitem(sys.modules, "ocr_eval.rendered_pages", types.SimpleNamespace(build_rendered_pages=fake))
    assert main(["build-rendered-pages", "--out", str(tmp_path), "--seed", "3", "--pages", "2"]) == 0
    assert main(["build-rendered-pages"]) == 0
    assert calls == [(tmp_path, 3, 2), (Path("data/pagebench/rendered"), 0, None)]
    assert str(tmp_path / "pages.tsv") in capsys.readouterr().out


def test_without_startup_recomputes_the_tag_scores(tmp_path: Path) -> None:
    from ocr_eval.cli import without_startup

    labels = _pages(tmp_path, "image\tline_no\ttext\tprovenance\tnotes\ttags",
                    ["pages/p.png\t1\tab\tTEST\t\tx"], ("p.png",))
    rep = evaluate_pages(labels, Scripted([["ab"]]))
    rep.rows[0].ms = 500.0
    assert without_startup(rep, 200.0, "minus").by_tag["x"].median_ms == 300.0
