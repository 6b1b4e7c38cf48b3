"""Command line of the evaluation harness.

Example::

    python -m ocr_service.evaluation lines --labels ../shared/eval/lines.tsv \\
        --model models/weights/crnn_zh_en.onnx --predictions /tmp/pred.tsv
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ocr_service.evaluation.lines import evaluate_lines


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """Argument parser with the ``lines`` sub-command."""
    parser = argparse.ArgumentParser(prog="python -m ocr_service.evaluation", description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    lines = sub.add_parser("lines", help="recognise the crops of a lines.tsv file and score them")
    lines.add_argument("--labels", required=True, type=Path, help="lines.tsv file")
    lines.add_argument("--model", required=True, type=Path, help="recognition .onnx model")
    lines.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    lines.add_argument("--rotate-below", type=float, default=0.0,
                       help="retry lines turned 180 degrees below this confidence (0: off)")
    lines.add_argument("--predictions", type=Path, help="write image<TAB>text rows here")
    lines.add_argument("--json", type=Path, help="write the report (with rows) as JSON here")
    lines.add_argument("--limit", type=int, help="only the first N rows")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.mode == "lines":
        from ocr_service.recognition import Recognizer

        rec = Recognizer(args.model, intra_op_threads=args.threads, rotate_below=args.rotate_below)
        report = evaluate_lines(
            args.labels, rec, predictions_path=args.predictions, limit=args.limit,
            progress=_progress,
        )
        print(report.summary())
        if args.json:
            args.json.write_text(
                json.dumps(report.to_dict(with_rows=True), ensure_ascii=False, indent=2),
                encoding="utf-8",
            )
    return 0
