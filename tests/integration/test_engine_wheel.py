"""The engine as users get it: its wheel, installed alone in a fresh virtual environment, reads the sample.

The wheel is built from a copy of ``engine/`` (so that no stale ``build/`` folder of the source
tree can slip old modules into it), installed with its declared dependencies only into a
``python -m venv`` environment without the system site-packages, and run from an empty folder
outside the repository with no ``PYTHONPATH`` and no ``OCR_*`` overrides: the repository's
sources cannot be imported by accident, and the model must come from the wheel's package data.

pip's default cache is used on purpose: the first run downloads numpy, OpenCV and onnxruntime,
later runs install them from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "engine"
SAMPLE = REPO / "infra" / "sample" / "sample_zh_en.png"
EXPECTED = ["欢迎使用中文识别服务", "Serverless OCR demo", "今天天气很好", "Total 128.50 元"]
PACKAGE_DATA = ["weights/crnn_zh_en.int8.onnx", "weights/crnn_zh_en.onnx", "weights/charlm_zh_en.npz",
                "weights/calibration_zh_en.json", "weights/MODEL_CARD.md", "weights/DETECTOR.md",
                # the learned line finder, fetched before the build (infra/test.sh), with its licence
                "weights/ppocrv6_tiny_det.onnx", "weights/ppocrv6_tiny_det.LICENSE",
                "formats/text_layer.ttf"]
DEPENDENCIES = {"numpy", "opencv-python-headless", "onnxruntime"}
# The other distributions' packages and the heavy runtimes the engine must not pull in.
ABSENT = ["ocr_service", "crnn", "ocr_eval", "torch", "boto3"]
CHECKPOINT_SUFFIXES = {".pt", ".pth", ".ckpt", ".safetensors", ".pkl"}


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def _clean_env(venv: Path | None = None) -> dict[str, str]:
    """This process's environment without what could point Python at the repo or override the engine."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("OCR_")}
    env["PYTHONIOENCODING"] = "utf-8"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = str(_bin(venv)) + os.pathsep + env.get("PATH", "")
    return env


def _dist_name(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement (``"NumPy>=1.26"`` -> ``"numpy"``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working folder outside the repository."""
    folder = tmp_path_factory.mktemp("cwd")
    assert REPO not in folder.resolve().parents
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> tuple[Path, set[str]]:
    """(the wheel, the package's .py files as copied: paths relative to the package folder)."""
    source = tmp_path_factory.mktemp("engine-src") / "engine"
    shutil.copytree(ENGINE, source, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__",
                                                                  "*.pyc", ".*"))
    modules = {p.relative_to(source / "ocr_engine").as_posix() for p in (source / "ocr_engine").rglob("*.py")}
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", str(source), "-w", str(out)],
         cwd=outside, env=_clean_env(), timeout=600)
    wheels = sorted(out.glob("ocr_engine-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], modules


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, built: tuple[Path, set[str]], outside: Path) -> Path:
    """A fresh virtual environment holding the wheel and its dependencies, nothing else of the repo."""
    root = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", str(root)], cwd=outside, env=_clean_env(), timeout=300)
    assert "include-system-site-packages = false" in (root / "pyvenv.cfg").read_text()
    _run([str(_bin(root) / "python"), "-m", "pip", "install", "--disable-pip-version-check", str(built[0])],
         cwd=outside, env=_clean_env(root), timeout=900)
    return root


def test_the_wheel_holds_the_engine_its_model_and_nothing_else(built: tuple[Path, set[str]]) -> None:
    wheel, modules = built
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert {n.split("/")[0] for n in names} == {"ocr_engine", dist_info}, "only the engine package is shipped"
        package = {n.removeprefix("ocr_engine/") for n in names if n.startswith("ocr_engine/")}

        for data in PACKAGE_DATA:  # the INT8 and the float model, the character LM, the model card, the PDF font
            assert data in package, f"{data} is missing from the wheel"
            shipped = hashlib.sha256(zf.read(f"ocr_engine/{data}")).hexdigest()
            assert shipped == hashlib.sha256((ENGINE / "ocr_engine" / data).read_bytes()).hexdigest(), data

        # exactly the package's modules (no stale build output, none left out), and no other data
        assert {n for n in package if n.endswith(".py")} == modules
        assert package - modules - set(PACKAGE_DATA) <= {"py.typed"}, "unexpected files in the wheel"
        for name in names:
            path = PurePosixPath(name)
            assert not {"tests", "test", "testing"} & set(path.parts[:-1]), f"a test folder is shipped: {name}"
            assert not (path.name.startswith("test_") or path.name.endswith("_test.py")
                        or path.name == "conftest.py"), f"a test file is shipped: {name}"
            assert not path.name.startswith("train") and path.suffix not in CHECKPOINT_SUFFIXES, \
                f"a training file is shipped: {name}"

        metadata = zf.read(f"{dist_info}/METADATA").decode()
        requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
        # The required dependencies are exactly the three; the optional ``pdf`` extra (PDF input,
        # searchable PDF output) adds pypdfium2 and reportlab, and nothing else.
        required = {_dist_name(r) for r in requires if "extra ==" not in r}
        optional = {_dist_name(r) for r in requires if "extra ==" in r}
        assert required == DEPENDENCIES, requires
        assert optional == {"pypdfium2", "reportlab"}, requires
        assert all("extra == \"pdf\"" in r for r in requires if "extra ==" in r), requires
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
        assert "ocr = ocr_engine.cli:main" in entry_points


def test_the_installed_library_reads_the_sample(venv: Path, outside: Path) -> None:
    code = f"from ocr_engine import OcrEngine; print(OcrEngine().run(open({str(SAMPLE)!r},'rb').read()).text)"
    result = _run([str(_bin(venv) / "python"), "-c", code], cwd=outside, env=_clean_env(venv), timeout=300)
    assert result.stdout.splitlines() == EXPECTED, result.stdout + result.stderr


def test_the_console_script_reads_the_sample(venv: Path, outside: Path) -> None:
    script = _bin(venv) / ("ocr.exe" if os.name == "nt" else "ocr")
    assert script.is_file(), "the wheel installs no `ocr` command"
    result = _run([str(script), str(SAMPLE)], cwd=outside, env=_clean_env(venv), timeout=300)
    assert "\n".join(EXPECTED) in result.stdout.replace("\r\n", "\n"), result.stdout + result.stderr


def test_the_venv_holds_the_engine_alone(venv: Path, outside: Path) -> None:
    probe = (
        "import importlib, json, sys\n"
        "found = []\n"
        f"for name in {ABSENT!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        continue\n"
        "    found.append(name)\n"
        "import ocr_engine\n"
        "print(json.dumps({'found': found, 'engine': ocr_engine.__file__, 'prefix': sys.prefix, 'path': sys.path}))\n"
    )
    result = _run([str(_bin(venv) / "python"), "-c", probe], cwd=outside, env=_clean_env(venv), timeout=300)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["found"] == [], f"importable in the engine's venv: {seen['found']}"
    assert Path(seen["prefix"]).resolve() == venv.resolve()
    assert venv.resolve() in Path(seen["engine"]).resolve().parents, f"ocr_engine came from {seen['engine']}"
    leaks = [p for p in seen["path"] if p and (Path(p).resolve() == REPO or REPO in Path(p).resolve().parents)]
    assert leaks == [], f"the repository is on the venv's sys.path: {leaks}"
