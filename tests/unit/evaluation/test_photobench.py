"""The photo benchmark's commands: build-scenes writes a pages.tsv set, photobench scores it per line finder."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("PIL")

from ocr_eval.cli import main  # noqa: E402
from ocr_eval.datasets import load_image, read_page_labels  # noqa: E402
from ocr_eval.pages import evaluate_pages  # noqa: E402
from ocr_eval.scenes import render_scene  # noqa: E402
from ocr_eval.scenes.build import COLUMNS  # noqa: E402

N_SCENES = 2


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenes")
    assert main(["build-scenes", "--out", str(out), "--count", str(N_SCENES), "--start", "7"]) == 0
    return out / "pages.tsv"


def test_build_scenes_writes_a_set_the_pages_reader_reads(built: Path) -> None:
    with open(built, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))
    assert list(rows[0]) == list(COLUMNS) and {r["provenance"] for r in rows} == {"RENDER"}
    pages = read_page_labels(built)
    assert len(pages) == N_SCENES
    for seed, page in zip((7, 8), pages):
        scene = render_scene(seed)
        assert page.image == f"{seed:04d}_{scene.kind}.jpg" and page.tags == scene.tags and page.tags[0] == scene.kind
        assert page.lines == tuple(ln.text for ln in scene.lines)
        assert load_image(page.path).shape == scene.image.shape
        notes = [r["notes"] for r in rows if r["image"] == page.image]
        first = np.array([[float(v) for v in p.split(",")] for p in notes[0].split("points=")[1].split()[0].split(";")])
        assert np.allclose(first, scene.lines[0].points, atol=0.06)


def test_photobench_end_to_end_with_the_opencv_finder(built: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "photo.json"
    assert main(["photobench", "--sets", str(built), str(tmp_path / "missing" / "pages.tsv"),
                 "--detectors", "opencv", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "missing" in captured.err
    name = built.parent.name
    assert f"| {name} | opencv | {N_SCENES} |" in captured.out
    assert "Per image" in captured.out
    for page in read_page_labels(built):
        assert f"| {page.image} | opencv |" in captured.out
    doc = json.loads(out.read_text(encoding="utf-8"))
    (entry,) = doc["sets"]
    assert entry["detector"] == "opencv" and len(entry["rows"]) == N_SCENES
    assert {r["detector"] for r in entry["rows"]} == {"opencv"}
    assert entry["extra_lines"] == sum(r["extra_lines"] for r in entry["rows"])
    assert 0.0 <= entry["line_recall"] <= 1.0


class FakeEngine:
    """Answers each page with fixed lines and records the line finder asked for."""

    def __init__(self, lines: list[str]):
        self.lines, self.asked = lines, []

    def model_info(self) -> dict[str, str]:
        return {"name": "fake", "version": "1"}

    def run_array(self, image: np.ndarray, direction: str | None = None, detector: str | None = None) -> SimpleNamespace:
        self.asked.append(detector)
        return SimpleNamespace(lines=[SimpleNamespace(text=t) for t in self.lines],
                               detector="learned" if detector == "auto" else detector or "opencv")


def test_the_detector_reaches_the_engine_and_extra_lines_are_counted(built: Path) -> None:
    engine = FakeEngine(["多余的一行", "another stray line"])
    rep = evaluate_pages(built, engine, detector="auto")
    assert engine.asked == ["auto"] * N_SCENES
    assert [r.detector for r in rep.rows] == ["learned"] * N_SCENES
    assert rep.extra_lines == 2 * N_SCENES and rep.detector == "auto" and rep.line_recall == 0.0
    wrapped = SimpleNamespace(name="ours", engine=engine, read_page=lambda img: ["x"])
    assert evaluate_pages(built, wrapped, detector="opencv").rows[0].detector == "opencv"
    assert evaluate_pages(built, wrapped).rows[0].pred == ["x"]  # no detector asked: the reader as before
    with pytest.raises(TypeError, match="detector"):
        evaluate_pages(built, SimpleNamespace(name="peer", read_page=lambda img: []), detector="learned")


def test_pagebench_takes_detectors(built: Path, toy_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pagebench", "--sets", str(built), "--detectors", "opencv", "--model", str(toy_model_path)]) == 0
    assert f"| {built.parent.name} [opencv] | {N_SCENES} |" in capsys.readouterr().out
