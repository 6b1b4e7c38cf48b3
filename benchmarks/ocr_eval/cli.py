"""Command line of the evaluation and benchmark harness.

Examples::

    # line mode (recognise crops), our model
    python -m ocr_eval lines --labels ../shared/eval/lines.tsv \\
        --model engine/ocr_engine/weights/crnn_zh_en.onnx --predictions /tmp/lines_pred.tsv
    # page mode (full pipeline), raw predictions of any engine
    python -m ocr_eval pages --labels ../shared/eval/pages.tsv --engine tesseract \\
        --predictions /tmp/pages_tesseract.tsv
    # everything, ours and the peers, one table (+ JSON)
    tools/bench_env.sh --run bench --eval ../shared/eval --model engine/ocr_engine/weights/crnn_zh_en.onnx \\
        --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocr_eval.lines import LinesReport, evaluate_lines
from ocr_eval.pages import PagesReport, evaluate_pages

ENGINES = ("ours", "tesseract", "rapidocr")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def make_reader(kind: str, args: argparse.Namespace, model: Path | None = None) -> Any:
    """Build an engine by name: ``ours`` (with ``model`` or ``--model``), ``tesseract``, ``rapidocr``."""
    from ocr_eval.peers import OursReader, RapidOcrReader, TesseractReader

    if kind == "ours":
        from ocr_engine.config import OcrConfig
        from ocr_engine.engine import OcrEngine

        cfg = OcrConfig.from_env()
        changes: dict[str, Any] = {"threads": args.threads}
        if model or args.model:
            changes["model_path"] = model or args.model
        return OursReader(OcrEngine.from_config(cfg.replace(**changes)))
    if kind == "tesseract":
        return TesseractReader(threads=args.threads)
    if kind == "rapidocr":
        return RapidOcrReader(threads=args.threads)
    raise ValueError(f"unknown engine {kind!r}; expected one of {ENGINES}")


def _fmt(x: float, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1%}" if pct else f"{x:.1f}"


def bench_table(results: list[dict[str, Any]]) -> str:
    """One Markdown table: per engine, line mode and page mode numbers."""
    head = (
        "| engine | lines exact | lines CER | zh CER | en CER | ms/line p50 | ms/line p95 "
        "| pages CER | zh CER | en CER | lines found exactly | empty page ok | ms/page p50 | ms/page p95 |"
    )
    rows = [head, "|" + "|".join(["---"] * 14) + "|"]
    for r in results:
        li: LinesReport | None = r.get("lines")
        pa: PagesReport | None = r.get("pages")
        cells = [r["engine"]]
        if li:
            zh = li.by_lang.get("zh")
            en = li.by_lang.get("en")
            cells += [_fmt(li.overall.exact, True), _fmt(li.overall.cer, True),
                      _fmt(zh.cer, True) if zh else "-", _fmt(en.cer, True) if en else "-",
                      _fmt(li.median_ms), _fmt(li.p95_ms)]
        else:
            cells += ["-"] * 6
        if pa:
            zh = pa.by_lang.get("zh")
            en = pa.by_lang.get("en")
            cells += [_fmt(pa.overall.cer, True), _fmt(zh.cer, True) if zh else "-",
                      _fmt(en.cer, True) if en else "-", _fmt(pa.line_recall, True),
                      pa.empty_pages_ok, _fmt(pa.median_ms), _fmt(pa.p95_ms)]
        else:
            cells += ["-"] * 7
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def page_matrix(results: list[dict[str, Any]]) -> str:
    """Per-page CER (and found/expected lines) of every engine, one row per page."""
    with_pages = [r for r in results if r.get("pages")]
    if not with_pages:
        return ""
    head = "| page | " + " | ".join(r["engine"] for r in with_pages) + " |"
    rows = [head, "|" + "|".join(["---"] * (len(with_pages) + 1)) + "|"]
    for i, page in enumerate(with_pages[0]["pages"].rows):
        cells = [page.image]
        for r in with_pages:
            p = r["pages"].rows[i]
            cells.append(f"{p.cer:.1%} ({len(p.pred)}/{len(p.truth)}, {p.ms:.0f} ms)")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def without_startup(report: Any, startup_ms: float, name: str) -> Any:
    """A copy of a lines/pages report with a fixed per-call start-up cost taken off each time.

    For engines run as one process per image (Tesseract's CLI): the remainder estimates
    what a long-lived process would need.
    """
    import copy

    from ocr_eval.metrics import percentile_ms

    out = copy.deepcopy(report)
    out.engine = name
    for row in out.rows:
        row.ms = max(0.0, row.ms - startup_ms)
    times = [row.ms for row in out.rows]
    out.median_ms, out.p95_ms = percentile_ms(times, 50), percentile_ms(times, 95)
    if hasattr(out, "ms_per_line"):
        found = sum(len(r.pred) for r in out.rows)
        out.ms_per_line = sum(times) / found if found else float("nan")
    return out


def build_parser() -> argparse.ArgumentParser:
    """Parser with ``lines``, ``pages`` and ``bench`` sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m ocr_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", type=Path, help="our recognition .onnx model (default: config search)")
        p.add_argument("--threads", type=int, default=1, help="threads per engine (default 1: one core)")
        p.add_argument("--json", type=Path, help="write the report(s) as JSON here")

    for mode, labels_help in (("lines", "lines.tsv"), ("pages", "pages.tsv")):
        p = sub.add_parser(mode, help=f"score one engine on a {labels_help} file")
        p.add_argument("--labels", required=True, type=Path, help=f"{labels_help} file")
        p.add_argument("--engine", choices=ENGINES, default="ours")
        p.add_argument("--predictions", type=Path, help="write image<TAB>text rows here")
        if mode == "lines":
            p.add_argument("--rotate-below", type=float, default=None,
                           help="ours: retry lines turned 180 degrees below this confidence")
            p.add_argument("--limit", type=int, help="only the first N rows")
        common(p)

    sp = sub.add_parser("speed", help="latency of our full pipeline per image (and a synthetic A4 page)")
    sp.add_argument("images", nargs="*", type=Path, help="image files (default: only the A4 page)")
    sp.add_argument("--repeat", type=int, default=5, help="timed runs per image")
    sp.add_argument("--no-a4", action="store_true", help="skip the synthetic A4-like page")
    common(sp)

    b = sub.add_parser("bench", help="lines + pages for ours and the peers; one table")
    b.add_argument("--eval", required=True, type=Path, help="folder with lines.tsv and/or pages.tsv")
    b.add_argument("--engines", default=",".join(ENGINES),
                   help="comma-separated subset of ours,tesseract,rapidocr (missing peers are skipped)")
    b.add_argument("--predictions-dir", type=Path, help="write <engine>_<mode>.tsv predictions here")
    b.add_argument("--also-model", type=Path, action="append", default=[],
                   help="another of our models to include (e.g. the INT8 one); repeatable")
    common(b)
    return parser


def _run_lines(args: argparse.Namespace) -> LinesReport:
    reader = make_reader(args.engine, args)
    target: Any = reader
    if args.engine == "ours":
        rec = reader.engine.recognizer
        if args.rotate_below is not None:
            rec.rotate_below = args.rotate_below
        target = rec
    return evaluate_lines(args.labels, target, predictions_path=args.predictions, limit=args.limit,
                          name=reader.name, progress=_progress)


def _speed(args: argparse.Namespace) -> int:
    import cv2

    from ocr_eval.speed import synthetic_a4_page, time_image

    engine = make_reader("ours", args).engine
    rows = []
    if not args.no_a4:
        a4 = cv2.imencode(".png", synthetic_a4_page())[1].tobytes()
        rows.append(time_image(engine, "synthetic A4 page (40 lines)", a4, args.repeat))
    for path in args.images:
        rows.append(time_image(engine, path.name, path.read_bytes(), args.repeat))
    print(f"{engine.model_info()['name']} {engine.model_info()['version']}, threads={args.threads} "
          f"(onnxruntime; OpenCV {cv2.getNumThreads()})")
    for row in rows:
        print(row.format())
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness; returns the process exit code (2: bad model or config)."""
    from ocr_engine.errors import OcrError

    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except OcrError as err:
        print(f"evaluation: {err.message}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    """Dispatch the parsed command line."""
    if getattr(args, "threads", 0) >= 1:  # latencies "on N cores": OpenCV's own pool would use the others
        import cv2

        cv2.setNumThreads(args.threads)
    if args.mode in ("lines", "pages"):
        if args.mode == "lines":
            report: LinesReport | PagesReport = _run_lines(args)
        else:
            report = evaluate_pages(args.labels, make_reader(args.engine, args),
                                    predictions_path=args.predictions, progress=_progress)
        print(report.summary())
        if args.json:
            args.json.write_text(json.dumps(report.to_dict(with_rows=True), ensure_ascii=False, indent=2),
                                 encoding="utf-8")
        return 0

    if args.mode == "speed":
        return _speed(args)
    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    runs: list[tuple[str, str, Path | None]] = []
    for kind in wanted:
        runs.append((kind, kind, None))
        if kind == "ours":
            runs += [(kind, f"ours{i + 2}", m) for i, m in enumerate(args.also_model)]
    for kind, tag, model in runs:
        try:
            reader = make_reader(kind, args, model)
        except (RuntimeError, ImportError) as err:
            notes.append(f"{kind}: skipped ({err})")
            continue
        entry: dict[str, Any] = {"engine": reader.name}
        if kind == "tesseract":
            entry["startup_ms"] = reader.startup_ms()
            notes.append(f"{reader.name}: one process per image; start-up + model load "
                         f"{entry['startup_ms']:.0f} ms is included in its times")
        for mode, fn in (("lines", evaluate_lines), ("pages", evaluate_pages)):
            labels = args.eval / f"{mode}.tsv"
            if not labels.is_file():
                continue
            pred = args.predictions_dir / f"{tag}_{mode}.tsv" if args.predictions_dir else None
            if pred is not None:
                pred.parent.mkdir(parents=True, exist_ok=True)
            print(f"[{reader.name}] {mode} ...", file=sys.stderr, flush=True)
            entry[mode] = fn(labels, reader, predictions_path=pred, name=reader.name, progress=_progress)
        results.append(entry)
        for mode in ("lines", "pages"):
            if mode in entry:
                print(entry[mode].summary(), file=sys.stderr)
        if "startup_ms" in entry:
            name = f"{reader.name} minus start-up"
            results.append({"engine": name, **{m: without_startup(entry[m], entry["startup_ms"], name)
                                               for m in ("lines", "pages") if m in entry}})
    print(bench_table(results))
    matrix = page_matrix(results)
    if matrix:
        print("\nPer page: CER (found/expected lines, time)\n")
        print(matrix)
    print()
    for note in notes:
        print(f"- {note}")
    if args.json:
        doc = {
            "eval": str(args.eval),
            "threads": args.threads,
            "notes": notes,
            "engines": [
                {"engine": r["engine"], **({"startup_ms": r["startup_ms"]} if "startup_ms" in r else {}),
                 **{m: r[m].to_dict(with_rows=True) for m in ("lines", "pages") if m in r}}
                for r in results
            ],
        }
        args.json.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0
