"""The ``ocr`` command: progress bar vs output on one terminal, folders without images, --direction,
--detector, and ``--format`` (one document a file, on stdout or in ``-o``)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ocr_engine.cli import main as cli_main
from ocr_engine.engine import OcrEngine
from ocr_engine.schema import OcrResult
from support.toy_db import build_toy_db
from support.toy_model import draw_line


def write_line_png(path: Path, frames: str) -> None:
    """A toy-model text line (see toy_model.draw_line) on a white margin, as a PNG file."""
    crop = draw_line("".join(f * 3 for f in frames), pad_frames=0)
    page = np.full((crop.shape[0] + 60, crop.shape[1] + 80), 255, np.uint8)
    page[30 : 30 + crop.shape[0], 40 : 40 + crop.shape[1]] = crop
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cv2.imencode(".png", page)[1].tobytes())


class FakeTty:
    """A terminal stream: what it is sent goes into a buffer shared with the other stream."""

    def __init__(self, shared: list[str]) -> None:
        self.shared = shared

    def write(self, text: str) -> int:
        self.shared.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def screen(written: str) -> list[str]:
    """The lines a terminal shows after ``written`` (text, \\n, \\r and the erase-line \\x1b[K)."""
    lines, row, col = [""], 0, 0
    i = 0
    while i < len(written):
        if written.startswith("\x1b[K", i):
            lines[row] = lines[row][:col]
            i += 3
            continue
        ch = written[i]
        if ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif ch == "\r":
            col = 0
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1 :]
            col += 1
        i += 1
    return lines


def test_screen_emulation() -> None:
    assert screen("abc\rX\n") == ["Xbc", ""]
    assert screen("abc\r\x1b[Kd\n") == ["d", ""]


def test_bar_and_results_never_share_a_line(tmp_path: Path, toy_model_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name, frames in (("a.png", "a.b"), ("b.png", "bb.a"), ("c.png", "b.a.b")):
        write_line_png(tmp_path / name, frames)
    (tmp_path / "d.png").write_bytes(b"\x89PNG broken")
    shared: list[str] = []
    monkeypatch.setattr(sys, "stdout", FakeTty(shared))
    monkeypatch.setattr(sys, "stderr", FakeTty(shared))
    assert cli_main(["--model", str(toy_model_path), str(tmp_path)]) == 1
    written = "".join(shared)
    assert "4/4" in written and "img/s" in written  # the bar was drawn
    *shown, bar, last = screen(written)
    assert shown == [f"==> {tmp_path / 'a.png'} <==", "ab",
                     f"==> {tmp_path / 'b.png'} <==", "ba",
                     f"==> {tmp_path / 'c.png'} <==", "bab"] + [shown[-1]]
    assert shown[-1].startswith(f"ocr: {tmp_path / 'd.png'}: ") and "[" not in shown[-1]
    assert bar.startswith("[" + "#" * 30 + "] 4/4") and last == ""


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path, toy_model_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a.png", "b.png"):
        write_line_png(tmp_path / name, "a.b")
    monkeypatch.setattr(sys, "stdout", FakeTty([]))  # output on a terminal, stderr (capsys) not
    assert cli_main(["--model", str(toy_model_path), str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""


def test_images_only_in_sub_folders_need_r(tmp_path: Path, toy_model_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "2024" / "a.png", "a.b")
    write_line_png(tmp_path / "2025" / "deeper" / "b.png", "bb.a")
    (tmp_path / "notes.txt").write_text("not an image")
    assert cli_main(["--model", str(toy_model_path), str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"no images at the top level of {tmp_path}; 2 found in sub-folders: use -r" in err
    assert cli_main(["-r", "--model", str(toy_model_path), str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[1::2] == ["ab", "ba"]


def test_empty_folder_is_an_error(tmp_path: Path, toy_model_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    for flags in ([], ["-r"]):
        assert cli_main([*flags, "--model", str(toy_model_path), str(tmp_path / "empty")]) == 1
        out, err = capsys.readouterr()
        assert out == "" and f"ocr: no images in {tmp_path / 'empty'}" in err and ".png" in err


def test_an_empty_folder_beside_an_image_fails_but_the_image_is_read(
        tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--model", str(toy_model_path), str(tmp_path / "a.png"), str(tmp_path / "empty")]) == 1
    out, err = capsys.readouterr()
    assert "ab" in out and "no images in" in err


@pytest.mark.parametrize("direction", ["vertical", "horizontal", "auto"])
def test_direction_reaches_the_engine(direction: str, tmp_path: Path, toy_model_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    built: list[OcrEngine] = []
    real = OcrEngine.from_config

    def spy(config: Any = None) -> OcrEngine:
        built.append(real(config))
        return built[-1]

    monkeypatch.setattr(OcrEngine, "from_config", spy)
    monkeypatch.setenv("OCR_TEXT_DIRECTION", "horizontal" if direction != "horizontal" else "vertical")
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--direction", direction, "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 0
    (engine,) = built
    assert engine.config.text_direction == direction
    assert getattr(engine.detector, "direction", None) == direction


def test_bad_direction_is_refused(tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--direction", "diagonal", "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 2
    assert "ocr: --direction must be one of auto, horizontal, vertical, got 'diagonal'" in capsys.readouterr().err


def test_a_bad_configured_direction_is_a_config_error(tmp_path: Path, toy_model_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    monkeypatch.setenv("OCR_TEXT_DIRECTION", "diagonal")
    assert cli_main(["--model", str(toy_model_path), str(tmp_path / "a.png")]) == 2
    assert "ocr: text_direction must be one of auto, horizontal, vertical, got 'diagonal'" in capsys.readouterr().err


# ---------------------------------------------------------------- --detector
@pytest.fixture(scope="module")
def toy_db_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy detection model (support/toy_db.py): dark pixels are text."""
    return build_toy_db(tmp_path_factory.mktemp("toy_db") / "toy_db.onnx")


@pytest.mark.parametrize("detector", ["opencv", "learned", "auto"])
def test_detector_reaches_the_engine(detector: str, tmp_path: Path, toy_model_path: Path, toy_db_model_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    built: list[OcrEngine] = []
    real = OcrEngine.from_config

    def spy(config: Any = None) -> OcrEngine:
        built.append(real(config))
        return built[-1]

    monkeypatch.setattr(OcrEngine, "from_config", spy)
    monkeypatch.setenv("OCR_DETECTOR", "learned" if detector == "opencv" else "opencv")  # the flag wins
    monkeypatch.setenv("OCR_DETECTOR_MODEL_PATH", str(toy_db_model_path))
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--detector", detector, "--json", "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 0
    (engine,) = built
    assert engine.config.detector == detector and engine.detector.name == detector
    result = json.loads(capsys.readouterr().out)
    # the finder that found the lines: auto picks one of the two for the image
    assert result["detector"] in (("opencv", "learned") if detector == "auto" else (detector,))


def test_bad_detector_is_refused(tmp_path: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--detector", "yolo", "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 2
    assert "ocr: --detector must be one of opencv, learned, auto, whole, got 'yolo'" in capsys.readouterr().err


def test_the_learned_detector_without_its_model_is_refused(tmp_path: Path, toy_model_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from ocr_engine import config

    monkeypatch.delenv("OCR_DETECTOR_MODEL_PATH", raising=False)
    monkeypatch.setattr(config, "DETECTOR_FILES", ("not_fetched.onnx",))  # no model in the weights
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--detector", "learned", "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 2
    assert "ocr: detector 'learned' needs a learned detector model" in capsys.readouterr().err
    assert cli_main(["--detector", "opencv", "--model", str(toy_model_path), str(tmp_path / "a.png")]) == 0


# ---------------------------------------------------------------- --format
def test_format_text_and_json_on_stdout(tmp_path: Path, toy_model_path: Path,
                                        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--model", str(toy_model_path), "--format", "text", str(tmp_path / "a.png")]) == 0
    assert capsysbinary.readouterr().out == b"ab\n"
    assert cli_main(["--model", str(toy_model_path), "-f", "json", str(tmp_path / "a.png")]) == 0
    out = capsysbinary.readouterr().out
    assert out.endswith(b"}\n") and OcrResult.from_json(out.decode()).text == "ab"


def test_format_writes_every_input_into_the_output_folder(tmp_path: Path, toy_model_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "in" / "a.png", "a.b")
    write_line_png(tmp_path / "in" / "2024" / "b.png", "bb.a")
    write_line_png(tmp_path / "c.png", "b.a.b")
    out = tmp_path / "out"
    assert cli_main(["--model", str(toy_model_path), "-r", "--format", "hocr", "-o", str(out),
                     str(tmp_path / "in"), str(tmp_path / "c.png")]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.hocr")) == [
        "2024/b.png.hocr", "a.png.hocr", "c.png.hocr"]
    assert ">ba<" in (out / "2024" / "b.png.hocr").read_text() and capsys.readouterr().out == ""


def test_format_with_one_input_and_an_output_file(tmp_path: Path, toy_model_path: Path) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    target = tmp_path / "deeper" / "a.alto"
    assert cli_main(["--model", str(toy_model_path), "--format", "alto", "-o", str(target), str(tmp_path / "a.png")]) == 0
    assert b'CONTENT="ab"' in target.read_bytes()
    (tmp_path / "folder").mkdir()  # an existing folder: the output goes in it
    assert cli_main(["--model", str(toy_model_path), "-f", "textract", "-o", str(tmp_path / "folder"),
                     str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "folder" / "a.png.textract.json").is_file()
    # a folder given (even of one image): -o is a folder
    assert cli_main(["--model", str(toy_model_path), "-f", "text", "-o", str(tmp_path / "new"),
                     str(tmp_path / "deeper")]) == 1  # no image in it
    write_line_png(tmp_path / "one" / "a.png", "a.b")
    assert cli_main(["--model", str(toy_model_path), "-f", "text", "-o", str(tmp_path / "new"), str(tmp_path / "one")]) == 0
    assert (tmp_path / "new" / "a.png.txt").read_bytes() == b"ab\n"


def test_pdf_goes_to_stdout_only_when_it_is_not_a_terminal(tmp_path: Path, toy_model_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    pytest.importorskip("reportlab")
    write_line_png(tmp_path / "a.png", "a.b")
    assert cli_main(["--model", str(toy_model_path), "--format", "pdf", str(tmp_path / "a.png")]) == 0
    assert capsysbinary.readouterr().out.startswith(b"%PDF-")
    shared: list[str] = []
    monkeypatch.setattr(sys, "stdout", FakeTty(shared))
    assert cli_main(["--model", str(toy_model_path), "--format", "pdf", str(tmp_path / "a.png")]) == 2
    assert b"--format pdf is binary: give -o FILE" in capsysbinary.readouterr().err and shared == []


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "text", "{a}", "{b}"], "2 files to read: give -o FOLDER"),
    (["-o", "{out}", "{a}"], "-o/--output needs --format"),
    (["--format", "text", "-o", "{file}", "{a}", "{b}"], "not a folder"),
    (["--format", "text", "-o", "{out}", "{a}", "{twin}"], "two inputs would write the same file"),
])
def test_format_command_lines_that_cannot_be_done(args: list[str], message: str, tmp_path: Path,
                                                  toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "a.png", "a.b")
    write_line_png(tmp_path / "b.png", "a.b")
    write_line_png(tmp_path / "twin" / "a.png", "a.b")
    (tmp_path / "file.txt").write_text("x")
    names = {"a": tmp_path / "a.png", "b": tmp_path / "b.png", "twin": tmp_path / "twin" / "a.png",
             "out": tmp_path / "out", "file": tmp_path / "file.txt"}
    argv = [a.format(**names) for a in args]
    assert cli_main(["--model", str(toy_model_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_json_lines_and_format_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main(["--json", "--format", "text", str(tmp_path)])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_format_reads_pdf_files_from_folders_and_reports_the_refused(tmp_path: Path, toy_model_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_line_png(tmp_path / "in" / "a.png", "a.b")
    (tmp_path / "in" / "b.pdf").write_bytes(b"%PDF-1.4 truncated")
    out = tmp_path / "out"
    assert cli_main(["--model", str(toy_model_path), "--format", "text", "-o", str(out), str(tmp_path / "in")]) == 1
    assert (out / "a.png.txt").read_bytes() == b"ab\n" and not (out / "b.pdf.txt").exists()
    assert f"ocr: {tmp_path / 'in' / 'b.pdf'}: " in capsys.readouterr().err


def test_format_reads_every_page_of_a_pdf(tmp_path: Path, toy_model_path: Path,
                                          capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    pytest.importorskip("ocr_engine.document")
    pypdfium2 = pytest.importorskip("pypdfium2")
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for frames in ("a.b", "bb.a"):
        write_line_png(tmp_path / "page.png", frames)
        h, w = cv2.imread(str(tmp_path / "page.png")).shape[:2]
        pdf.setPageSize((w * 72 / 200, h * 72 / 200))  # rendered back at 200 dpi: the same pixels
        pdf.drawImage(ImageReader(str(tmp_path / "page.png")), 0, 0, w * 72 / 200, h * 72 / 200)
        pdf.showPage()
    pdf.save()
    (tmp_path / "doc.pdf").write_bytes(buf.getvalue())
    assert cli_main(["--model", str(toy_model_path), "--format", "text", str(tmp_path / "doc.pdf")]) == 0
    assert capsysbinary.readouterr().out == b"ab\n\fba\n"
    out = tmp_path / "doc.ocr.pdf"
    assert cli_main(["--model", str(toy_model_path), "--format", "pdf", "-o", str(out), str(tmp_path / "doc.pdf")]) == 0
    searchable = pypdfium2.PdfDocument(out.read_bytes())
    assert [searchable[i].get_textpage().get_text_range() for i in range(len(searchable))] == ["ab", "ba"]
