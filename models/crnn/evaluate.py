"""Evaluate the exported recogniser on real labelled line crops (onnxruntime only).

::

    python -m crnn.evaluate                                   # float and INT8 on ../shared/eval
    python -m crnn.evaluate --labels other/lines.tsv --model engine/ocr_engine/weights/crnn_zh_en.onnx \\
        --predictions preds.tsv

Prints per-language exact-line accuracy and CER (NFKC, spaces between CJK characters ignored)
and median ms per line: each model read greedily (the model alone), then the last model with
the character LM (``charlm_zh_en.npz``), as the service runs it (with the service's line
stretch, ``LINE_STRETCH``; ``--stretch`` to change it). Every line is read once: the second
readings of weak lines (turned 180°, or wider) are left out. The scoring is the service's own
harness (:mod:`ocr_eval`), so the numbers here and there are the same numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ocr_engine.recognition import Recognizer
from ocr_engine.recognition.batching import LINE_STRETCH
from ocr_eval.lines import evaluate_lines

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LABELS = REPO.parent / "shared" / "eval" / "lines.tsv"
DEFAULT_MODELS = [REPO / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.onnx", REPO / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.int8.onnx"]
DEFAULT_LM = REPO / "engine" / "ocr_engine" / "weights" / "charlm_zh_en.npz"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="lines.tsv (image, text, lang, ...)")
    p.add_argument("--model", type=Path, action="append", help="ONNX model(s); default: float and INT8")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--predictions", type=Path, help="write image<TAB>text rows (first model only)")
    p.add_argument("--json", type=Path, help="write all reports as JSON")
    p.add_argument("--lm", type=Path, default=DEFAULT_LM, help="character LM for the last row ('' for none)")
    p.add_argument("--stretch", type=float, default=LINE_STRETCH,
                   help="widen lines this much before reading (default: the service's)")
    args = p.parse_args(argv)

    models = args.model or DEFAULT_MODELS
    runs = [(m, None) for m in models]
    if str(args.lm) and args.lm.is_file():
        runs.append((models[-1], args.lm))
    reports = []
    for i, (model, lm) in enumerate(runs):
        rec = Recognizer(model, intra_op_threads=args.threads, lm_path=lm, line_stretch=args.stretch,
                         rotate_below=0.0, dense_below=0.0)
        name = model.name if lm is None else f"{model.name} + {lm.name}"
        report = evaluate_lines(args.labels, rec, predictions_path=args.predictions if i == 0 else None,
                                name=name)
        print(report.summary())
        print()
        reports.append(report.to_dict())
    if args.json:
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
