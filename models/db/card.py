"""A model card (markdown) for an exported DB detector, from an evaluation JSON.

::

    python -m db.evaluate runs/db/export/db_zh_en.onnx --split bench --scenes 30 --json runs/db/eval.json
    python -m db.card --eval runs/db/eval.json --out runs/db/export/DB_MODEL_CARD.md [--notes "..."]

The card reads the model file named in the JSON (its metadata: training counters, validation
scores, settings) and the JSON's scores and timings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx


def _pct(v) -> str:
    return f"{100 * v:.1f} %" if isinstance(v, (int, float)) else "—"


def card(report: dict, notes: str = "") -> str:
    """The card's markdown for one :mod:`db.evaluate` report."""
    path = Path(report["model"])
    proto = onnx.load(str(path))
    meta = {e.key: e.value for e in proto.metadata_props}
    params = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    info = json.loads(meta.get("training", "{}"))
    val = info.get("validation", {})
    lines = [
        f"# Model card: {meta.get('model_name', path.stem)} {meta.get('model_version', '')}",
        "",
        "Text-line detector (DB, differentiable binarisation) for Chinese + English photos and pages,",
        "trained from scratch by this project on rendered scenes (`models/db`, `ocr_eval.scenes` train split).",
        "",
        "| | |",
        "|---|---|",
        "| architecture | plain 3x3 conv backbone (5 stride-2 stages, residual convs), FPN merge at 1/4, "
        "DB probability head (2 transposed convs to the input size) |",
        f"| parameters | {params:,} (ONNX file {path.stat().st_size:,} bytes) |",
        f"| input | BGR / 255, mean {meta.get('db_mean')}, std {meta.get('db_std')}; sides multiples of 32 |",
        f"| settings | thresh {meta.get('db_thresh')}, box_thresh {meta.get('db_box_thresh')}, "
        f"unclip {meta.get('db_unclip')} |",
        f"| training samples seen | {info.get('samples_seen') or 0:,} crops of {info.get('scenes_seen') or 0:,} scenes |",
        f"| training time | {info.get('train_hours') or 0:.2f} h on one CPU thread (nice 19, shared machine) |",
        f"| validation ({val.get('scenes', '—')} train-split scenes kept out of training, {val.get('lines', '—')} lines) "
        f"| recall {_pct(val.get('recall'))}, precision {_pct(val.get('precision'))} (IoU 0.5) |",
        f"| ms per 960x720 image | {report.get('ms_960x720', float('nan')):.1f} (onnxruntime, 1 thread) |",
        "",
        f"## Evaluation: {report.get('scenes')} `{report.get('split')}` scenes, {report.get('lines')} lines",
        "",
        "A found box matches a true line at quadrilateral IoU >= 0.5 (one to one), boxes read by the",
        "engine's `db_boxes` at its 960 px input.",
        "",
        "| recall | precision | hmean | median ms per scene (model only) |",
        "|---|---|---|---|",
        f"| {_pct(report.get('recall'))} | {_pct(report.get('precision'))} | {_pct(report.get('hmean'))} "
        f"| {report.get('ms_per_image', float('nan')):.1f} |",
        "",
    ]
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, required=True, help="JSON written by db.evaluate --json")
    p.add_argument("--out", type=Path, default=Path("runs/db/export/DB_MODEL_CARD.md"))
    p.add_argument("--notes", default="")
    args = p.parse_args(argv)
    text = card(json.loads(args.eval.read_text(encoding="utf-8")), args.notes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
