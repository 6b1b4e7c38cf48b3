"""The ``ocr`` command: progress bar vs output on one terminal, folders without images, --direction."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ocr_engine.cli import main as cli_main
from ocr_engine.engine import OcrEngine
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
