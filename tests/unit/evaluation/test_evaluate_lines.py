"""evaluate_lines end to end on a tiny labels folder with the toy model."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from ocr_engine.recognition import Recognizer
from ocr_eval import evaluate_lines
from ocr_eval.cli import main
from support.toy_model import draw_line


@pytest.fixture()
def labels(tmp_path: Path) -> Path:
    (tmp_path / "lines").mkdir()
    rows = [("l1.png", "aab", "x", "a.a.bb"), ("l2.png", "ba", "x", "b.a"), ("l3.png", "bbb", "y", "b")]
    text = "image\ttext\tlang\tprovenance\tnotes\n"
    for name, truth, lang, frames in rows:
        cv2.imwrite(str(tmp_path / "lines" / name), draw_line(frames))
        text += f"lines/{name}\t{truth}\t{lang}\tTEST\t\n"
    path = tmp_path / "lines.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_scores_per_language(labels: Path, toy_model_path: Path, tmp_path: Path) -> None:
    pred_path = tmp_path / "pred.tsv"
    rep = evaluate_lines(labels, Recognizer(toy_model_path), predictions_path=pred_path)
    assert rep.overall.n == 3
    assert rep.by_lang["x"].exact == 1.0 and rep.by_lang["x"].cer == 0.0
    assert rep.by_lang["y"].exact == 0.0 and rep.by_lang["y"].cer == pytest.approx(2 / 3)
    assert rep.median_ms >= 0.0
    assert pred_path.read_text(encoding="utf-8").splitlines() == [
        "lines/l1.png\taab",
        "lines/l2.png\tba",
        "lines/l3.png\tb",
    ]
    assert "CER" in rep.summary()


def test_accepts_any_line_reader(labels: Path) -> None:
    class Echo:
        name = "echo"

        def read_line(self, image: object) -> str:
            return "aab"

    rep = evaluate_lines(labels, Echo())
    assert rep.engine == "echo" and rep.overall.exact == pytest.approx(1 / 3)


def test_cli_lines(labels: Path, toy_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "r.json"
    assert main(["lines", "--labels", str(labels), "--model", str(toy_model_path), "--json", str(out_json)]) == 0
    assert "toy_ctc" in capsys.readouterr().out
    assert out_json.exists()


def test_pages_mode_set_matching_and_predictions(tmp_path: Path) -> None:
    from ocr_eval.cli import bench_table
    from ocr_eval.pages import evaluate_pages

    (tmp_path / "pages").mkdir()
    for name in ("p1.png", "p2.png", "empty.png"):
        cv2.imwrite(str(tmp_path / "pages" / name), draw_line("a"))
    (tmp_path / "pages.tsv").write_text(
        "image\tline_no\ttext\tprovenance\tnotes\n"
        "pages/p1.png\t1\t第一行\tTEST\t\n"
        "pages/p1.png\t2\tsecond line\tTEST\t\n"
        "pages/p2.png\t1\tonly line\tTEST\t\n"
        "pages/empty.png\t0\t\tTEST\tno text\n",
        encoding="utf-8",
    )
    answers = {0: ["second line", "第一行", "extra"], 1: ["only lime"], 2: []}

    class Scripted:
        name = "scripted"
        calls = 0

        def read_page(self, image: object) -> list[str]:
            out = answers[self.calls]
            self.calls += 1
            return out

    pred = tmp_path / "pred.tsv"
    rep = evaluate_pages(tmp_path / "pages.tsv", Scripted(), predictions_path=pred)
    assert rep.line_recall == pytest.approx(2 / 3)
    assert rep.empty_pages_ok == "1/1"
    # p1: 0 edits + insertion "extra" (5) over 3 + 11 chars; p2: 1 edit over 9 chars
    assert rep.rows[0].cer == pytest.approx(5 / 14) and rep.rows[1].cer == pytest.approx(1 / 9)
    assert rep.overall.cer == pytest.approx(6 / 23)
    assert set(rep.by_lang) == {"zh", "en"}
    assert pred.read_text(encoding="utf-8").splitlines() == [
        "pages/p1.png\tsecond line", "pages/p1.png\t第一行", "pages/p1.png\textra", "pages/p2.png\tonly lime",
    ]
    table = bench_table([{"engine": "scripted", "pages": rep}])
    assert "| scripted |" in table and "1/1" in table
    from ocr_eval.cli import page_matrix

    matrix = page_matrix([{"engine": "scripted", "pages": rep}])
    assert "| pages/p2.png | 11.1% (1/1," in matrix


def test_speed_command(toy_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ocr_eval.speed import synthetic_a4_page

    page = synthetic_a4_page(lines=3)
    assert page.shape == (1754, 1240) and page.min() < 100
    img = tmp_path / "line.png"
    cv2.imwrite(str(img), draw_line("a.b"))
    out = tmp_path / "speed.json"
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        assert main(["speed", "--model", str(toy_model_path), "--repeat", "1", "--no-a4", str(img),
                     "--json", str(out)]) == 0
        assert cv2.getNumThreads() == 1  # one core means OpenCV's work too
    finally:
        cv2.setNumThreads(before)
    printed = capsys.readouterr().out
    assert "line.png" in printed and "threads=1 (onnxruntime; OpenCV 1)" in printed
    assert out.exists()


def test_missing_image_is_named(labels: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (labels.parent / "lines" / "l2.png").unlink()
    assert main(["lines", "--labels", str(labels), "--model", str(toy_model_path)]) == 2
    assert "l2.png" in capsys.readouterr().err


def test_without_startup_subtracts_fixed_cost(labels: Path) -> None:
    from ocr_eval.cli import without_startup

    class Slow:
        name = "slow"

        def read_line(self, image: object) -> str:
            return "aab"

    rep = evaluate_lines(labels, Slow())
    for row, ms in zip(rep.rows, (100.0, 120.0, 140.0)):
        row.ms = ms
    fixed = without_startup(rep, 90.0, "slow minus start-up")
    assert [r.ms for r in fixed.rows] == [10.0, 30.0, 50.0]
    assert fixed.median_ms == 30.0 and fixed.engine == "slow minus start-up"
    assert rep.rows[0].ms == 100.0  # the original is untouched
