"""Build the Lambda layers and the function package, prune them, and report their sizes.

Lambda allows 250 MB (262,144,000 bytes) unzipped for a function plus all its layers. The
three native wheels the core needs are most of that budget (opencv-python-headless alone
is ~144 MB), so the dependency layer is pruned deliberately:

* no ``__pycache__`` / ``*.pyc`` / ``*.pyi`` stubs, no ``tests`` folders;
* numpy: no ``f2py``, C headers (``_core/include``), ``_pyinstaller`` hooks;
* onnxruntime: no ``transformers`` / ``tools`` / ``quantization`` helpers and no
  ``capi/libonnxruntime.so*`` (the C API library: the Python extension module is linked
  statically and does not load it);
* opencv: no Haar cascade ``data`` folder;
* reportlab (the searchable-PDF format): no ``fonts`` folder (demo Type 1 and Vera fonts: the
  text layer's font is built in memory, ``ocr_engine.formats.textfont``), no ``graphics``
  (charts, barcodes, bitmap rendering) and no ``platypus`` (page layout): the format draws
  with ``pdfgen.canvas`` only;
* Pillow (imported by reportlab to read the page images it embeds): no AVIF, WebP, FreeType
  and LittleCMS modules and their libraries (AVIF's alone is ~8 MB); its core reads the
  PNG / JPEG page images. Plugins whose module is gone report themselves unsupported;
* pypdfium2: no command-line package;
* ``*.dist-info``: only METADATA and license files are kept.

Shared objects are not stripped: auditwheel-patched libraries can break when stripped,
and the wheels' big libraries are already stripped.

Usage::

    python layers/build_layers.py all --out build/layers          # deps + engine + function
    python layers/build_layers.py deps --dest "$ARTIFACTS_DIR"    # what the SAM Makefiles call
    python layers/build_layers.py all --out build/layers-311 --python-version 3.11  # local smoke

The wheels are downloaded for the Lambda runtime (``manylinux2014_x86_64``, CPython 3.12)
whatever Python runs this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPS_REQUIREMENTS = ROOT / "layers" / "deps" / "requirements.txt"
ENGINE_PACKAGE = ROOT / "engine" / "ocr_engine"
MODEL_DIR = ENGINE_PACKAGE / "weights"
FUNCTION_DIR = ROOT / "functions" / "ocr"
LAMBDA_LIMIT_BYTES = 262_144_000  # 250 MiB, function + all layers, unzipped
# The INT8 model is the one deployed (3-4x smaller, ~2x faster on CPU). The float model
# only fits next to it when both are small; add it with LAYER_MODELS / --models.
DEFAULT_MODELS = os.environ.get("LAYER_MODELS", "crnn_zh_en.int8.onnx")
FALLBACK_MODEL = "crnn_zh_en.onnx"
# the LM and the confidence calibration are found beside the model
MODEL_EXTRAS = ("MODEL_CARD.md", "charlm_zh_en.npz", "calibration_zh_en.json")
# The learned line finder's model (fetched from a pinned wheel: layers/fetch_detector.py) and
# its licence and provenance; the engine prefers our own DB model when it is there.
DETECTOR_FILES = ("db_zh_en.onnx", "ppocrv6_tiny_det.onnx")
DETECTOR_EXTRAS = ("ppocrv6_tiny_det.LICENSE", "DETECTOR.md")

PRUNE_DIRS_ANYWHERE = {"__pycache__", "tests", "test"}
PRUNE_PATHS = (
    "numpy/f2py",
    "numpy/_core/include",
    "numpy/_pyinstaller",
    "numpy/_core/lib/pkgconfig",
    "onnxruntime/transformers",
    "onnxruntime/tools",
    "onnxruntime/quantization",
    "onnxruntime/datasets",
    "cv2/data",
    "bin",
    "reportlab/fonts",
    "reportlab/graphics",
    "reportlab/platypus",
    "pypdfium2_cli",
)
PRUNE_GLOBS = (
    "onnxruntime/capi/libonnxruntime.so*",
    # Pillow's optional codecs and font / colour management, with the libraries only they load
    "PIL/_avif.*.so", "PIL/_webp.*.so", "PIL/_imagingft.*.so", "PIL/_imagingcms.*.so", "PIL/_imagingtk.*.so",
    "pillow.libs/libavif*", "pillow.libs/libwebp*", "pillow.libs/libsharpyuv*", "pillow.libs/libfreetype*",
    "pillow.libs/libharfbuzz*", "pillow.libs/libbrotli*", "pillow.libs/libpng16*", "pillow.libs/liblcms2*",
)
PRUNE_SUFFIXES = (".pyc", ".pyi", ".pxd", ".h")
DIST_INFO_KEEP = ("METADATA", "LICENSE", "LICENCE", "COPYING", "NOTICE", "licenses", "top_level.txt")


def dir_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (what Lambda counts, unzipped)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def prune(site: Path) -> int:
    """Delete what the Lambda does not need from an installed ``site`` tree; return bytes freed."""
    before = dir_size(site)
    for rel in PRUNE_PATHS:
        target = site / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for pattern in PRUNE_GLOBS:
        for target in site.glob(pattern):
            target.unlink()
    for path in sorted(site.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in PRUNE_DIRS_ANYWHERE and path.parent != site:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in PRUNE_SUFFIXES:
            path.unlink()
    for dist_info in site.glob("*.dist-info"):
        for item in dist_info.iterdir():
            if not item.name.startswith(DIST_INFO_KEEP):
                if item.is_dir():
                    shutil.rmtree(item)
                else:
                    item.unlink()
    return before - dir_size(site)


def build_deps(dest: Path, python_version: str, platform: str) -> dict[str, int]:
    """Install the pinned runtime dependencies into ``dest/python`` and prune them.

    ``--no-deps``: the requirements file lists every package the functions import at run
    time; onnxruntime's declared dependencies (sympy, protobuf, coloredlogs, flatbuffers)
    are only used by its offline tools, and would add ~25 MB.
    """
    site = dest / "python"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", python_version, "--platform", platform,
        "--platform", "manylinux_2_28_x86_64",
        "--target", str(site), "-r", str(DEPS_REQUIREMENTS),
    ]
    subprocess.run(cmd, check=True)
    installed = dir_size(site)
    freed = prune(site)
    return {"installed_bytes": installed, "pruned_bytes": freed, "size_bytes": dir_size(site)}


def build_engine(dest: Path, model_dir: Path = MODEL_DIR, models: str = DEFAULT_MODELS) -> dict[str, int]:
    """Copy the ``ocr_engine`` package with its model into ``dest/python`` (``/opt/python``).

    The engine layer is the library as installed, its weights package data: the functions
    import ``ocr_engine`` from it and the engine finds its model beside its code. Of the
    weights, only ``models`` (comma-separated file names in ``model_dir``) are shipped, with
    the LM and the card; when none of them exists the float model is used instead. The
    learned detector's model is shipped too (fetched first when it is not there: the
    detector ``auto``, the service's default, needs it).
    """
    site = dest / "python"
    out = site / "ocr_engine"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(ENGINE_PACKAGE, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "weights"))
    names = [n.strip() for n in models.split(",") if n.strip()]
    found = [n for n in names if (model_dir / n).is_file()]
    if not found and (model_dir / FALLBACK_MODEL).is_file():
        found = [FALLBACK_MODEL]
    if not found:
        raise SystemExit(f"no model file ({models}) in {model_dir}")
    detector = [n for n in DETECTOR_FILES if (model_dir / n).is_file()][:1]
    if not detector and model_dir == MODEL_DIR:
        import fetch_detector  # beside this script

        detector = [fetch_detector.fetch(model_dir).name]
    (out / "weights").mkdir()
    extras = MODEL_EXTRAS + DETECTOR_EXTRAS
    for name in found + detector + [n for n in extras if (model_dir / n).is_file()]:
        shutil.copy2(model_dir / name, out / "weights" / name)
    return {"size_bytes": dir_size(dest)}


def build_function(dest: Path) -> dict[str, int]:
    """Copy the function code (package ``ocr_service``) as SAM would deploy it."""
    out = dest / "ocr_service"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(
        FUNCTION_DIR / "ocr_service",
        out,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return {"size_bytes": dir_size(dest)}


RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six")


def runtime_packages_dir(dest: Path) -> Path:
    """A folder of links to this interpreter's boto3 / botocore and their dependencies.

    The Lambda python3.12 runtime ships boto3 and botocore (``/var/runtime``), so the layers
    do not. To run a build outside Lambda with ``python -S``, put this folder after the layer
    folders on ``PYTHONPATH``. They are pure Python, so any local install will do.
    """
    import importlib.util

    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = dest / source.name
        if not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["deps", "engine", "function", "all"])
    parser.add_argument("--dest", type=Path, help="output folder of a single part (SAM's ARTIFACTS_DIR)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "layers", help="output root for 'all'")
    parser.add_argument("--python-version", default=os.environ.get("LAYER_PYTHON_VERSION", "3.12"))
    parser.add_argument("--platform", default="manylinux2014_x86_64")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model files to ship")
    args = parser.parse_args(argv)

    report: dict[str, dict[str, int]] = {}
    if args.what == "all":
        out = args.out
        report["deps"] = build_deps(out / "deps", args.python_version, args.platform)
        report["engine"] = build_engine(out / "engine", args.model_dir, args.models)
        report["function"] = build_function(out / "function")
        total = sum(part["size_bytes"] for part in report.values())
        summary = {
            "total_bytes": total,
            "limit_bytes": LAMBDA_LIMIT_BYTES,
            "headroom_bytes": LAMBDA_LIMIT_BYTES - total,
            "python_version": args.python_version,
        }
        document = {"parts": report, **summary}
        (out / "sizes.json").write_text(json.dumps(document, indent=2) + "\n")
        for name, part in report.items():
            print(f"{name:9s} {part['size_bytes'] / 1e6:8.1f} MB")
        print(f"{'total':9s} {total / 1e6:8.1f} MB of {LAMBDA_LIMIT_BYTES / 1e6:.1f} MB allowed")
        return 0 if total < LAMBDA_LIMIT_BYTES else 1

    dest = args.dest or (args.out / args.what)
    if args.what == "deps":
        part = build_deps(dest, args.python_version, args.platform)
    elif args.what == "engine":
        part = build_engine(dest, args.model_dir, args.models)
    else:
        part = build_function(dest)
    print(f"{args.what}: {part['size_bytes'] / 1e6:.1f} MB in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
