"""What each shipped package may import, read from the source (``ast``), never by importing it.

* ``ocr_engine`` (engine/) is the pure OCR library: the standard library, numpy, OpenCV and
  onnxruntime, and nothing of the service, the training code, the evaluation harness or AWS;
  its pyproject declares exactly those three distributions. The packages of its optional
  extras (reportlab writes the searchable PDF, pypdfium2 reads PDFs) are imported only
  inside the functions of the one module that needs each, and declared in their extra.
* ``ocr_service`` (functions/ocr/) is the Lambda app: it may use AWS, never the training code,
  the evaluation harness or torch (none of them is in the deployed package).

Imports are found wherever they sit (in functions, under ``TYPE_CHECKING``, in ``try``), and so
are ``importlib.import_module("x")`` and ``__import__("x")`` with a literal name. The last tests
run each check on a copy of the real tree with one bad import added, and expect it to fail.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PACKAGE = REPO / "engine" / "ocr_engine"
ENGINE_PYPROJECT = REPO / "engine" / "pyproject.toml"
SERVICE_PACKAGE = REPO / "functions" / "ocr" / "ocr_service"

ENGINE_FORBIDDEN = {"ocr_service", "crnn", "ocr_eval", "boto3", "botocore", "aws_lambda_powertools", "torch"}
ENGINE_THIRD_PARTY = {"numpy", "cv2", "onnxruntime"}  # the import names of its three dependencies
ENGINE_DEPENDENCIES = {"numpy", "opencv-python-headless", "onnxruntime"}
# Optional packages: import name -> the engine modules that may import it (inside functions only).
ENGINE_LAZY_OPTIONAL = {"reportlab": {"ocr_engine/formats/pdf.py"}, "pypdfium2": {"ocr_engine/image/pdf.py"}}
# Extras of the engine's pyproject -> distributions each must declare.
ENGINE_EXTRAS = {"pdf": {"reportlab", "pypdfium2"}}
SERVICE_FORBIDDEN = {"crnn", "ocr_eval", "torch"}


# ---------------------------------------------------------------- the scanner
def imports_in(package: Path) -> list[tuple[str, str]]:
    """``(top-level module, "file:line")`` for every absolute import in the package's .py files."""
    found = []
    files = sorted(package.rglob("*.py"))
    assert files, f"no Python files under {package}"
    for path in files:
        where = path.relative_to(package.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names: Iterable[str] = ()
            if isinstance(node, ast.Import):
                names = (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = (node.module,)
            elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
                    names = (first.value,)
            found.extend((name.split(".")[0], f"{where}:{node.lineno}") for name in names)
    return found


def lazy_imports_in(package: Path) -> set[tuple[str, str]]:
    """The :func:`imports_in` entries that sit inside a function (run when it is called, not at import)."""
    found = set()
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package.parent).as_posix()
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        found.update((a.name.split(".")[0], f"{where}:{node.lineno}") for a in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        found.add((node.module.split(".")[0], f"{where}:{node.lineno}"))
    return found


def assert_optional_only_lazily(package: Path, optional: dict[str, set[str]]) -> None:
    """Each optional package is imported only inside functions of the modules ``optional`` names."""
    lazy = lazy_imports_in(package)
    bad = []
    for name, where in imports_in(package):
        if name in optional:
            if where.rsplit(":", 1)[0] not in optional[name]:
                bad.append(f"{where} imports {name}, allowed only in {sorted(optional[name])}")
            elif (name, where) not in lazy:
                bad.append(f"{where} imports {name} at import time, not inside a function")
    assert not bad, f"{package.name} imports optional packages eagerly or elsewhere:\n" + "\n".join(bad)


def declared_extras(pyproject: Path) -> dict[str, set[str]]:
    """The normalised distribution names of each ``[project.optional-dependencies]`` extra."""
    extras = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("optional-dependencies", {})
    return {extra: {re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r).group(1)).lower()
                    for r in requirements} for extra, requirements in extras.items()}


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def assert_imports_none_of(package: Path, forbidden: set[str]) -> None:
    bad = [f"{where} imports {name}" for name, where in imports_in(package) if name in forbidden]
    assert not bad, f"{package.name} must not import {sorted(forbidden)}:\n" + "\n".join(bad)


def third_party_imports(package: Path) -> set[str]:
    own = {package.name, "__future__"}
    return {name for name, _ in imports_in(package) if name not in own and name not in sys.stdlib_module_names}


def assert_third_party_only(package: Path, allowed: set[str]) -> None:
    own = {package.name, "__future__"}
    bad = [f"{where} imports {name}" for name, where in imports_in(package)
           if name not in own | allowed and name not in sys.stdlib_module_names]
    assert not bad, f"{package.name} may use no third-party package but {sorted(allowed)}:\n" + "\n".join(bad)


def declared_dependencies(pyproject: Path) -> set[str]:
    """The normalised distribution names of ``[project] dependencies``."""
    names = set()
    for requirement in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("dependencies", []):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, f"not a requirement: {requirement!r}"
        names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def assert_declares_exactly(pyproject: Path, expected: set[str]) -> None:
    declared = declared_dependencies(pyproject)
    assert declared == expected, (f"{pyproject} declares {sorted(declared)}; "
                                  f"extra {sorted(declared - expected)}, missing {sorted(expected - declared)}")


# ---------------------------------------------------------------- the boundaries
def test_the_engine_imports_nothing_of_the_service_training_evaluation_or_aws() -> None:
    assert_imports_none_of(ENGINE_PACKAGE, ENGINE_FORBIDDEN)


def test_the_engine_uses_no_third_party_package_but_numpy_opencv_and_onnxruntime() -> None:
    assert_third_party_only(ENGINE_PACKAGE, ENGINE_THIRD_PARTY | set(ENGINE_LAZY_OPTIONAL))
    # and the scan sees them: the check is not passing on an empty or misread tree
    assert third_party_imports(ENGINE_PACKAGE) == ENGINE_THIRD_PARTY | set(ENGINE_LAZY_OPTIONAL)


def test_the_engine_imports_its_optional_packages_lazily_and_only_where_needed() -> None:
    assert_optional_only_lazily(ENGINE_PACKAGE, ENGINE_LAZY_OPTIONAL)
    assert {name for name, _ in lazy_imports_in(ENGINE_PACKAGE)} >= set(ENGINE_LAZY_OPTIONAL)  # the scan sees them


def test_the_engine_declares_its_optional_packages_in_their_extras() -> None:
    declared = declared_extras(ENGINE_PYPROJECT)
    for extra, distributions in ENGINE_EXTRAS.items():
        assert distributions <= declared.get(extra, set()), f"extra {extra!r} must declare {sorted(distributions)}"


def test_the_service_imports_no_training_evaluation_or_torch() -> None:
    assert_imports_none_of(SERVICE_PACKAGE, SERVICE_FORBIDDEN)
    assert "ocr_engine" in {name for name, _ in imports_in(SERVICE_PACKAGE)}  # the scan reads the service


def test_the_engine_declares_exactly_numpy_opencv_and_onnxruntime() -> None:
    assert_declares_exactly(ENGINE_PYPROJECT, ENGINE_DEPENDENCIES)


# ---------------------------------------------------------------- the checks can fail
BAD_ENGINE_IMPORTS = {
    "service": "from ocr_service.handlers import http_api\n",
    "training": "def _late():\n    from crnn.train import main\n    return main\n",
    "evaluation": "try:\n    import ocr_eval.metrics\nexcept ImportError:\n    pass\n",
    "boto3": "import boto3\n",
    "botocore": "from botocore.exceptions import ClientError\n",
    "powertools": "from aws_lambda_powertools import Logger\n",
    "torch_dynamic": "import importlib\n_torch = importlib.import_module('torch.nn')\n",
}
BAD_THIRD_PARTY = {
    "requests": "import requests\n",
    "pillow": "from PIL import Image\n",
    "dunder_import": "_yaml = __import__('yaml')\n",
}
BAD_SERVICE_IMPORTS = {
    "training": "from crnn import model\n",
    "evaluation": "def _f():\n    import ocr_eval\n",
    "torch": "import torch.onnx\n",
}


def _copy_with(package: Path, tmp_path: Path, addition: str, into: str = "__init__.py") -> Path:
    """A copy of the package's Python files with ``addition`` appended to its ``into`` module."""
    copy = tmp_path / package.name
    shutil.copytree(package, copy, ignore=lambda folder, names: [
        n for n in names if (Path(folder) / n).is_file() and not n.endswith(".py")] + ["__pycache__"])
    with (copy / into).open("a", encoding="utf-8") as init:
        init.write("\n\n" + addition)
    return copy


@pytest.mark.parametrize(("into", "addition", "complaint"), [
    ("__init__.py", "import reportlab\n", "allowed only in"),
    ("__init__.py", "def _pdf():\n    from reportlab.pdfgen import canvas\n    return canvas\n", "allowed only in"),
    ("formats/pdf.py", "from reportlab.lib.utils import ImageReader\n", "at import time"),
    ("formats/pdf.py", "try:\n    import reportlab\nexcept ImportError:\n    reportlab = None\n", "at import time"),
    ("image/pdf.py", "import pypdfium2\n", "at import time"),
    ("image/decode.py", "def _pdf():\n    import pypdfium2.raw\n", "allowed only in"),
])
def test_an_eager_or_misplaced_optional_import_fails_the_check(tmp_path: Path, into: str, addition: str,
                                                               complaint: str) -> None:
    copy = _copy_with(ENGINE_PACKAGE, tmp_path, addition, into=into)
    assert_third_party_only(copy, ENGINE_THIRD_PARTY | set(ENGINE_LAZY_OPTIONAL))  # an allowed package...
    with pytest.raises(AssertionError, match=complaint):
        assert_optional_only_lazily(copy, ENGINE_LAZY_OPTIONAL)  # ...in the wrong place


def test_a_lazy_optional_import_in_its_module_passes(tmp_path: Path) -> None:
    copy = _copy_with(ENGINE_PACKAGE, tmp_path, "def _more():\n    import reportlab.pdfbase\n", into="formats/pdf.py")
    assert_optional_only_lazily(copy, ENGINE_LAZY_OPTIONAL)


def test_an_extra_without_its_package_fails_the_check(tmp_path: Path) -> None:
    doctored = tmp_path / "pyproject.toml"
    doctored.write_text('[project]\nname = "x"\n[project.optional-dependencies]\npdf = ["pypdfium2>=4"]\n')
    assert not ENGINE_EXTRAS["pdf"] <= declared_extras(doctored)["pdf"]


@pytest.mark.parametrize("addition", BAD_ENGINE_IMPORTS.values(), ids=BAD_ENGINE_IMPORTS.keys())
def test_a_forbidden_engine_import_fails_the_checks(tmp_path: Path, addition: str) -> None:
    copy = _copy_with(ENGINE_PACKAGE, tmp_path, addition)
    with pytest.raises(AssertionError, match=r"ocr_engine/__init__\.py:\d+ imports"):
        assert_imports_none_of(copy, ENGINE_FORBIDDEN)
    with pytest.raises(AssertionError, match=r"ocr_engine/__init__\.py:\d+ imports"):
        assert_third_party_only(copy, ENGINE_THIRD_PARTY)


@pytest.mark.parametrize("addition", BAD_THIRD_PARTY.values(), ids=BAD_THIRD_PARTY.keys())
def test_another_third_party_engine_import_fails_the_check(tmp_path: Path, addition: str) -> None:
    copy = _copy_with(ENGINE_PACKAGE, tmp_path, addition)
    assert_imports_none_of(copy, ENGINE_FORBIDDEN)  # not one of the named packages...
    with pytest.raises(AssertionError, match=r"ocr_engine/__init__\.py:\d+ imports"):
        assert_third_party_only(copy, ENGINE_THIRD_PARTY)  # ...but still not allowed


@pytest.mark.parametrize("addition", BAD_SERVICE_IMPORTS.values(), ids=BAD_SERVICE_IMPORTS.keys())
def test_a_forbidden_service_import_fails_the_check(tmp_path: Path, addition: str) -> None:
    copy = _copy_with(SERVICE_PACKAGE, tmp_path, addition)
    with pytest.raises(AssertionError, match=r"ocr_service/__init__\.py:\d+ imports"):
        assert_imports_none_of(copy, SERVICE_FORBIDDEN)


@pytest.mark.parametrize(("old", "new"), [
    ('"onnxruntime>=1.17",', '"onnxruntime>=1.17",\n    "boto3>=1.36",'),  # one too many
    ('"onnxruntime>=1.17",', ""),  # one missing
    ('"numpy>=1.26",', '"numpy>=1.26",\n    "torch==2.13.0; extra == \'x\'",'),
])
def test_a_changed_dependency_list_fails_the_check(tmp_path: Path, old: str, new: str) -> None:
    text = ENGINE_PYPROJECT.read_text(encoding="utf-8")
    assert old in text
    doctored = tmp_path / "pyproject.toml"
    doctored.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(AssertionError, match="declares"):
        assert_declares_exactly(doctored, ENGINE_DEPENDENCIES)


def test_names_are_compared_normalised(tmp_path: Path) -> None:
    doctored = tmp_path / "pyproject.toml"
    doctored.write_text('[project]\nname = "x"\ndependencies = ["NumPy>=1", "opencv_python.headless", "ONNXRuntime"]\n')
    assert_declares_exactly(doctored, ENGINE_DEPENDENCIES)
