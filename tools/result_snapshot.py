"""Reads every image of an evaluation folder and writes each result's JSON, timings left out.

Run before and after a change that must not alter results, then compare the two files:

    python3 tools/result_snapshot.py ../shared/eval --out runs/before.jsonl
    python3 tools/result_snapshot.py ../shared/eval --out runs/after.jsonl
    python3 tools/result_snapshot.py --compare runs/before.jsonl runs/after.jsonl

Each image is read twice: with the default settings (the page detector) and with the
whole-image detector (how line crops are scored). Exit status 1 when the files differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def _engines():
    try:
        from ocr_engine import OcrConfig, OcrEngine
    except ImportError:  # the layout before the engine became its own package
        from ocr_engine.config import OcrConfig
        from ocr_engine.engine import OcrEngine
    return {
        "page": OcrEngine.from_config(OcrConfig(threads=1)),
        "whole": OcrEngine.from_config(OcrConfig(threads=1, detector="whole")),
    }


def snapshot(folder: Path, out: Path) -> int:
    engines = _engines()
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    with out.open("w", encoding="utf-8") as f:
        for path in images:
            data = path.read_bytes()
            for name, engine in engines.items():
                result = engine.run(data).to_dict()
                result.pop("timings_ms", None)
                row = {"image": str(path.relative_to(folder)), "detector": name, "result": result}
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(images)} images x {len(engines)} detectors -> {out}")
    return 0


def compare(a: Path, b: Path) -> int:
    rows_a = a.read_text(encoding="utf-8").splitlines()
    rows_b = b.read_text(encoding="utf-8").splitlines()
    differ = [json.loads(x)["image"] + " " + json.loads(x)["detector"]
              for x, y in zip(rows_a, rows_b) if x != y]
    if len(rows_a) != len(rows_b):
        print(f"row counts differ: {len(rows_a)} vs {len(rows_b)}")
        return 1
    print(f"{len(rows_a)} results compared, {len(differ)} differ")
    for name in differ[:20]:
        print("  differs:", name)
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not args.folder or not args.out:
        ap.error("give FOLDER and --out, or --compare BEFORE AFTER")
    return snapshot(args.folder, args.out)


if __name__ == "__main__":
    sys.exit(main())
