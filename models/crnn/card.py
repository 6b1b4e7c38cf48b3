"""Write ``engine/ocr_engine/weights/MODEL_CARD.md`` from the exported files and an evaluation run.

::

    python -m crnn.evaluate --json runs/eval.json
    python -m crnn.card --eval runs/eval.json [--notes "..."]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnxruntime as ort

from crnn.charset import CHARSET, SYMBOLS

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = REPO / "engine" / "ocr_engine" / "weights"  # what ships: package data of the engine
CHECKPOINT = REPO / "models" / "weights" / "crnn_zh_en.pt"  # the weights training resumes from


def _row(report: dict, lang: str) -> str:
    s = report["by_lang"].get(lang) if lang != "all" else report["overall"]
    if not s:
        return "—"
    return f"{100 * s['exact']:.1f} % / {100 * s['cer']:.2f} % (n={s['n']})"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, required=True, help="JSON written by crnn.evaluate --json")
    p.add_argument("--notes", default="")
    args = p.parse_args(argv)

    float_path, int8_path, lm_path = (WEIGHTS / n for n in ("crnn_zh_en.onnx", "crnn_zh_en.int8.onnx", "charlm_zh_en.npz"))
    pt_path = CHECKPOINT
    meta = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    info = json.loads(meta.get("training", "{}"))
    reports = {Path(r["engine"]).name: r for r in json.loads(args.eval.read_text(encoding="utf-8"))}
    mb = lambda path: f"{path.stat().st_size / 1e6:.2f} MB"  # noqa: E731

    trained = info.get("classes_trained")
    untrained = (f"; the last {len(CHARSET) + 1 - int(trained)} were added after this training and are not "
                 "read yet" if trained and int(trained) < len(CHARSET) + 1 else "")
    lines = [
        f"# Model card: {meta['model_name']} {meta['model_version']}",
        "",
        "Text-line recogniser for Simplified Chinese + English, trained from scratch by this project on",
        "synthetic lines and, since 0.6.0, real typeset lines cut from PDF manuals of Debian packages",
        "(`models/README.md`).",
        "",
        "| | |",
        "|---|---|",
        "| architecture | CNN (6 conv, BN, ReLU) → BiLSTM(128×2) → linear → CTC; input gray 1×32×W; 1 output step per 4 columns |",
        f"| classes | {len(CHARSET)} characters + blank (6,763 GB2312 hanzi, ASCII, CJK punctuation, "
        f"{len(SYMBOLS)} symbols{untrained}) |",
        f"| training samples seen | {info.get('samples_seen', 0):,} lines |",
        f"| training time | {info.get('train_hours', 0):.2f} h on 2 CPU cores (shared with other work) |",
        "| synthetic validation (512 lines) | "
        + (f"line accuracy {100 * info['synthetic_val_line_acc']:.1f} %, CER {100 * info['synthetic_val_cer']:.2f} % |"
           if "synthetic_val_cer" in info else "not measured |"),
        f"| files | float `{float_path.name}` {mb(float_path)}, INT8 `{int8_path.name}` {mb(int8_path)}, resume weights `{pt_path.name}` {mb(pt_path)}"
        + (f", character LM `{lm_path.name}` {mb(lm_path)}" if lm_path.is_file() else "") + " |",
        "",
        "## Real line crops (`../shared/eval/lines.tsv`): exact-line accuracy / CER",
        "",
        "Rows name the model file; `+ charlm_zh_en.npz` is the same model with the character LM",
        "correcting its readings (how the service runs it, see `models/README.md`).",
        "",
        "| model | zh | en | en (case-insensitive exact) | all | median ms/line (1 thread) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in reports.items():
        en = r["by_lang"].get("en", {})
        nocase = f"{100 * en.get('exact_nocase', 0):.1f} %" if en else "—"
        lines.append(f"| {name} | {_row(r, 'zh')} | {_row(r, 'en')} | {nocase} | {_row(r, 'all')} | {r['median_ms_per_line']:.1f} |")
    lines += [
        "",
        "Peers on the same crops (from `../shared/FACTS.md`): PP-OCRv4 mobile 81.9 % / 1.91 % at ~26 ms/line;",
        "Tesseract 5 68.7 % / 8.13 % at ~43 ms/line.",
        "",
    ]
    if args.notes:
        lines += ["## Notes", "", args.notes, ""]
    (WEIGHTS / "MODEL_CARD.md").write_text("\n".join(lines), encoding="utf-8")
    print((WEIGHTS / "MODEL_CARD.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
