"""Build the layers + function package, assert Lambda's 250 MB budget, and run the pruned build.

The dependency layer is downloaded for the Lambda runtime (CPython 3.12, manylinux x86_64).
The smoke test runs the pruned packages with no site-packages (``python -S``): with a local
CPython 3.12 the very layer that would be deployed is used; otherwise an identical build for
the local Python version is made and run instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.lambda_events import REPO

sys.path.insert(0, str(REPO / "layers"))
import build_layers  # noqa: E402

from infra.lambda_context import SOURCE as CONTEXT_SOURCE  # noqa: E402

LIMIT = build_layers.LAMBDA_LIMIT_BYTES


def _python312() -> str | None:
    """A working CPython 3.12 (Lambda's runtime version), if this machine has one."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(str(p) for p in pyenv_root.glob("versions/3.12*/bin/python3.12"))
    candidates.append(shutil.which("python3.12"))
    for c in candidates:
        if c and Path(c).exists():
            ok = subprocess.run([c, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"], capture_output=True)
            if ok.returncode == 0:
                return c
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    model_dir = build_layers.MODEL_DIR
    if not any((model_dir / name).is_file() for name in ("crnn_zh_en.int8.onnx", "crnn_zh_en.onnx")):
        pytest.skip("no model in engine/ocr_engine/weights/")
    out = tmp_path_factory.mktemp("layers")
    rc = build_layers.main(["all", "--out", str(out)])
    assert rc == 0, "the build exceeds the Lambda size limit"
    return out


def test_function_plus_layers_fit_in_250_mb(built: Path):
    report = json.loads((built / "sizes.json").read_text())
    total = sum(part["size_bytes"] for part in report["parts"].values())
    measured = sum(build_layers.dir_size(built / name) for name in ("deps", "engine", "function"))
    assert total == report["total_bytes"] == measured
    assert total < LIMIT, f"{total / 1e6:.1f} MB >= {LIMIT / 1e6:.1f} MB"
    print(f"\nunzipped: deps {report['parts']['deps']['size_bytes'] / 1e6:.1f} MB, "
          f"engine {report['parts']['engine']['size_bytes'] / 1e6:.1f} MB, "
          f"function {report['parts']['function']['size_bytes'] / 1e6:.2f} MB, total {total / 1e6:.1f} MB")


def test_pruning_took_effect(built: Path):
    site = built / "deps" / "python"
    assert (site / "cv2").is_dir() and (site / "onnxruntime").is_dir() and (site / "numpy").is_dir()
    assert not list(site.rglob("__pycache__"))
    assert not [p for p in site.rglob("tests") if p.is_dir()]
    assert not list(site.glob("onnxruntime/capi/libonnxruntime.so*"))
    assert not (site / "numpy" / "f2py").exists()
    assert not (site / "sympy").exists(), "onnxruntime's tool-only dependencies must not be shipped"
    assert not (site / "boto3").exists(), "boto3 comes with the Lambda runtime"
    # documents: pdfium's library; reportlab without its fonts (the text layer's font is built
    # in memory), charts or page layout; Pillow without its AVIF / WebP / FreeType / CMS codecs
    assert list(site.glob("pypdfium2_raw/libpdfium*")) and (site / "reportlab" / "pdfgen" / "canvas.py").is_file()
    assert not {"fonts", "graphics", "platypus"} & {p.name for p in (site / "reportlab").iterdir()}
    assert list(site.glob("PIL/_imaging.*.so")) and not list(site.glob("PIL/_avif.*.so"))
    assert not list(site.glob("pillow.libs/libavif*")) and not (site / "charset_normalizer").exists()
    engine = built / "engine" / "python" / "ocr_engine"
    # the INT8 recogniser and the learned line finder (with its licence and provenance)
    assert sorted(p.name for p in (engine / "weights").glob("*.onnx")) == ["crnn_zh_en.int8.onnx",
                                                                          "ppocrv6_tiny_det.onnx"]
    assert {"ppocrv6_tiny_det.LICENSE", "DETECTOR.md"} <= {p.name for p in (engine / "weights").iterdir()}
    assert (engine / "weights" / "charlm_zh_en.npz").is_file() and (engine / "engine.py").is_file()
    assert (engine / "weights" / "calibration_zh_en.json").is_file()
    assert (built / "function" / "ocr_service" / "handlers" / "http_api.py").is_file()
    assert (built / "function" / "ocr_service" / "web" / "index.html").is_file()


def test_no_training_or_evaluation_code_ships(built: Path):
    """The function zip holds the app only, the layers the engine and its dependencies."""
    assert sorted(p.name for p in (built / "function").iterdir()) == ["ocr_service"]
    shipped = [p for part in ("function", "engine") for p in (built / part).rglob("*.py")]
    assert shipped
    for path in shipped:
        source = path.read_text(encoding="utf-8")
        for forbidden in ("import torch", "from crnn", "import crnn", "ocr_eval", "rapidocr", "pytesseract"):
            assert forbidden not in source, f"{path.relative_to(built)} holds {forbidden!r}"
    names = {p.name for part in ("deps", "engine", "function") for p in (built / part / "python").glob("*")
             if (built / part / "python").is_dir()} | {p.name for p in (built / "function").iterdir()}
    assert not names & {"crnn", "ocr_eval", "torch", "models", "benchmarks"}, names


SMOKE = r"""
import importlib.util, json, runpy, sys, time
t0 = time.perf_counter()
from ocr_service.handlers import http_api, runtime
t1 = time.perf_counter()
assert "site-packages" not in "".join(sys.path), sys.path
import cv2, numpy, onnxruntime, wrapt, PIL, pypdfium2, pypdfium2.version, reportlab
import aws_xray_sdk.core  # the Tracer's SDK
for mod in (cv2, numpy, onnxruntime, wrapt, aws_xray_sdk, PIL, pypdfium2, reportlab):
    assert mod.__file__.startswith(sys.argv[1]), mod.__file__
LambdaContext = runpy.run_path(sys.argv[3])["LambdaContext"]  # infra/lambda_context.py, the file alone
Context = lambda: LambdaContext("smoke")
event = json.load(open(sys.argv[2]))
resp = http_api.handler(event, Context())
t2 = time.perf_counter()
for _ in range(3):
    http_api.handler(event, Context())
t3 = time.perf_counter()
body = json.loads(resp["body"])
# The output formats through the pruned reportlab and Pillow: the searchable PDF of the sample
# (its text layer font is built in memory: reportlab's fonts folder is not shipped).
from ocr_engine import formats
engine = runtime.get_engine()
image = open(sys.argv[4], "rb").read()
searchable = formats.render(engine.run(image), "pdf", source=image)
assert searchable.startswith(b"%PDF") and len(searchable) > 1000, searchable[:40]
document = None
if importlib.util.find_spec("ocr_engine.document") is not None:  # a 2-page PDF, read by pdfium
    pdf = open(sys.argv[5], "rb").read()
    t4 = time.perf_counter()
    read = engine.run_document(pdf)
    t5 = time.perf_counter()
    again = formats.render(read, "pdf", source=pdf)
    assert again.startswith(b"%PDF")
    document = {"pages": [p.text for p in read.pages], "page_count": read.page_count, "seconds": t5 - t4}
print(json.dumps({"status": resp["statusCode"], "body": body, "init_s": t1 - t0,
                  "model_load_ms": runtime.engine_info().get("model_load_ms"),
                  "first_s": t2 - t1, "warm_s": (t3 - t2) / 3, "document": document,
                  "versions": [cv2.__version__, numpy.__version__, onnxruntime.__version__,
                               str(pypdfium2.version.PYPDFIUM_INFO), reportlab.Version, PIL.__version__]}))
"""


def test_pruned_layer_runs_ocr(built: Path, tmp_path: Path):
    python = _python312()
    deps = built / "deps"
    if python is None:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        deps = tmp_path / "deps-local"
        build_layers.build_deps(deps, version, "manylinux2014_x86_64")
        python = sys.executable
    model = built / "engine" / "python" / "ocr_engine" / "weights" / "crnn_zh_en.int8.onnx"
    site = deps / "python"
    env = {
        "PATH": os.environ.get("PATH", ""),
        # function code, then the layers, then what the Lambda runtime provides (boto3, botocore)
        "PYTHONPATH": os.pathsep.join(
            [str(built / "function"), str(built / "engine" / "python"), str(site),
             str(build_layers.runtime_packages_dir(tmp_path / "runtime"))]
        ),
        "OCR_MODEL_PATH": str(model),
        "OCR_THREADS": "1",
        "OCR_DETECTOR": "auto",  # the learned line finder's model loads from the engine layer
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "HOME": str(tmp_path),
    }
    from infra.bench_documents import pdf_from_pages, text_pages
    from infra.sample_image import SAMPLE

    pdf = tmp_path / "two-pages.pdf"
    pdf.write_bytes(pdf_from_pages(text_pages(2)))
    out = subprocess.run(
        [python, "-S", "-c", SMOKE, str(site), str(REPO / "events" / "http_post_ocr.json"), str(CONTEXT_SOURCE),
         str(SAMPLE), str(pdf)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    assert result["body"]["success"] is True
    print(f"\n{python}: import {result['init_s']:.2f} s (model load {result['model_load_ms']} ms), "
          f"first request {result['first_s'] * 1000:.0f} ms, warm {result['warm_s'] * 1000:.0f} ms, "
          f"cv2/numpy/onnxruntime/pypdfium2/reportlab/pillow {result['versions']}")

    # Same answer as the development install.
    from ocr_engine.config import OcrConfig
    from ocr_engine.engine import OcrEngine

    engine = OcrEngine.from_config(OcrConfig.from_env({"OCR_MODEL_PATH": str(model), "OCR_THREADS": "1",
                                                       "OCR_DETECTOR": "auto"}))
    expected = engine.run(SAMPLE.read_bytes())
    assert [d["text"] for d in result["body"]["data"]] == [line.text for line in expected.lines]
    if result["document"] is not None:
        assert result["document"]["page_count"] == 2
        assert result["document"]["pages"] == [p.text for p in engine.run_document(pdf.read_bytes()).pages]
        print(f"2-page PDF through the layers: {result['document']['seconds']:.2f} s")
