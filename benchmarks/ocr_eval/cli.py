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
    # the page benchmark: build its two sets, then score our engine on them and on shared/eval
    python -m ocr_eval build-rendered-pages --out data/pagebench/rendered [--seed 0] [--pages N]
    python -m ocr_eval build-real-pages --pkgs data/realprint/pkgs --out data/pagebench/real \\
        [--dpi 150] [--pages-per-doc 5] [--max-docs 16]
    python -m ocr_eval pagebench --sets data/pagebench/rendered/pages.tsv data/pagebench/real/pages.tsv \\
        ../shared/eval/pages.tsv [--model m.onnx] [--detectors opencv learned] [--json /tmp/pagebench.json]
    # the photo benchmark: rendered scenes (photos of tickets, signs, labels...) and shared/eval, per line finder
    python -m ocr_eval build-scenes --out data/photobench/scenes [--count 60] [--split bench] [--start 0]
    python -m ocr_eval photobench --sets data/photobench/scenes/pages.tsv ../shared/eval/pages.tsv \\
        [--detectors opencv learned auto] [--json /tmp/photobench.json]
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
from ocr_eval.pages import PagesReport, evaluate_pages, tag_scores

ENGINES = ("ours", "tesseract", "rapidocr")
DETECTORS = ("opencv", "learned", "auto")


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
    """One Markdown table: per engine, line mode and page mode numbers (``pages CER``: order free)."""
    head = (
        "| engine | lines exact | lines CER | zh CER | en CER | ms/line p50 | ms/line p95 "
        "| pages CER | zh CER | en CER | pages CER in order | lines found exactly | empty page ok "
        "| ms/page p50 | ms/page p95 |"
    )
    rows = [head, "|" + "|".join(["---"] * 15) + "|"]
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
                      _fmt(en.cer, True) if en else "-", _fmt(pa.reading_order_cer, True),
                      _fmt(pa.line_recall, True), pa.empty_pages_ok, _fmt(pa.median_ms), _fmt(pa.p95_ms)]
        else:
            cells += ["-"] * 8
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
    if hasattr(out, "by_tag"):
        out.by_tag = tag_scores(out.rows)
    return out


def set_name(labels: Path, taken: Sequence[str] = ()) -> str:
    """A short name for a labels file: its folder's name (``real``, ``eval``), made unique.

    Example:
        >>> set_name(Path("data/pagebench/real/pages.tsv")), set_name(Path("x/real/pages.tsv"), ["real"])
        ('real', 'real-2')
    """
    base = labels.parent.name or labels.stem
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


def pagebench_table(reports: Sequence[tuple[str, PagesReport]]) -> str:
    """Markdown table of the page benchmark: per set, all its pages and then each tag
    (but a tag every page of the set has: its row would repeat the set's).

    Example:
        >>> from ocr_eval.metrics import Score
        >>> from ocr_eval.pages import PageGroupScore
        >>> rep = PagesReport("e", "p.tsv", Score(), {}, 0.5, "0/0", 120.0, 130.0, 10.0, [], 0.25, 0.125,
        ...                   {"zh": PageGroupScore(1, 0.5, 0.25, 0.125, 120.0)})
        >>> print(pagebench_table([("real", rep)]))
        | set | pages | line recall | page CER in reading order | page CER order free | ms/page p50 |
        |---|---|---|---|---|---|
        | real | 0 | 50.0% | 25.0% | 12.5% | 120 |
        | real: zh | 1 | 50.0% | 25.0% | 12.5% | 120 |
    """
    rows = ["| set | pages | line recall | page CER in reading order | page CER order free | ms/page p50 |",
            "|" + "|".join(["---"] * 6) + "|"]
    for name, rep in reports:
        groups = [(name, len(rep.rows), rep.line_recall, rep.reading_order_cer, rep.order_free_cer, rep.median_ms)]
        groups += [(f"{name}: {tag}", g.pages, g.line_recall, g.reading_order_cer, g.order_free_cer, g.median_ms)
                   for tag, g in rep.by_tag.items() if g.pages < len(rep.rows) or not rep.rows]
        for label, pages, recall, ro, of, ms in groups:
            rows.append(f"| {label} | {pages} | {_fmt(recall, True)} | {_fmt(ro, True)} | {_fmt(of, True)} "
                        f"| {'-' if math.isnan(ms) else f'{ms:.0f}'} |")
    return "\n".join(rows)


def _ms_cell(ms: float) -> str:
    return "-" if math.isnan(ms) else f"{ms:.0f}"


def photobench_table(reports: Sequence[tuple[str, str, PagesReport]]) -> str:
    """Markdown table of the photo benchmark: one row per set and line finder.

    Example:
        >>> from ocr_eval.metrics import Score
        >>> rep = PagesReport("e", "p.tsv", Score(), {}, 0.5, "0/0", 120.0, 130.0, 10.0, [], 0.25, 0.125,
        ...                   extra_lines=3)
        >>> print(photobench_table([("scenes", "learned", rep)]))
        | set | detector | images | line recall | page CER in reading order | page CER order free | extra lines | ms/image p50 |
        |---|---|---|---|---|---|---|---|
        | scenes | learned | 0 | 50.0% | 25.0% | 12.5% | 3 | 120 |
    """
    rows = ["| set | detector | images | line recall | page CER in reading order | page CER order free | extra lines "
            "| ms/image p50 |", "|" + "|".join(["---"] * 8) + "|"]
    for name, det, rep in reports:
        rows.append(f"| {name} | {det} | {len(rep.rows)} | {_fmt(rep.line_recall, True)} | "
                    f"{_fmt(rep.reading_order_cer, True)} | {_fmt(rep.order_free_cer, True)} | {rep.extra_lines} | "
                    f"{_ms_cell(rep.median_ms)} |")
    return "\n".join(rows)


def photobench_tags(reports: Sequence[tuple[str, str, PagesReport]]) -> str:
    """Markdown table per set and tag (but a tag every image of the set has), one column per line finder:
    ``line recall / page CER order free / extra lines``.

    Example:
        >>> from ocr_eval.metrics import Score
        >>> from ocr_eval.pages import PageGroupScore
        >>> rep = PagesReport("e", "p.tsv", Score(), {}, 0.5, "0/0", 1.0, 1.0, 1.0, [None, None], 0.2, 0.1,
        ...                   {"sign": PageGroupScore(1, 0.5, 0.25, 0.125, 120.0, 2)})
        >>> print(photobench_tags([("scenes", "opencv", rep)]))
        | set: tag | images | opencv |
        |---|---|---|
        | scenes: sign | 1 | 50.0% / 12.5% / 2 |
    """
    dets = list(dict.fromkeys(d for _, d, _ in reports))
    cells: dict[tuple[str, str], dict[str, str]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for name, det, rep in reports:
        for tag, g in rep.by_tag.items():
            if g.pages >= len(rep.rows):
                continue
            key = (name, tag)
            sizes[key] = g.pages
            cells.setdefault(key, {})[det] = (f"{_fmt(g.line_recall, True)} / {_fmt(g.order_free_cer, True)} / "
                                              f"{g.extra_lines}")
    rows = ["| set: tag | images | " + " | ".join(dets) + " |", "|" + "|".join(["---"] * (len(dets) + 2)) + "|"]
    for key, by_det in cells.items():
        rows.append(f"| {key[0]}: {key[1]} | {sizes[key]} | " + " | ".join(by_det.get(d, "-") for d in dets) + " |")
    return "\n".join(rows)


def photobench_images(reports: Sequence[tuple[str, PagesReport]], detectors: Sequence[str]) -> str:
    """Markdown table of one set, one row per image and line finder (``auto→learned``: what ``auto`` picked).

    Example:
        >>> from ocr_eval.metrics import Score
        >>> from ocr_eval.pages import score_page
        >>> row = score_page("a.jpg", "en", ["exit", "way out"], ["exit", "x"], 42.0, detector="learned")
        >>> rep = PagesReport("e", "p.tsv", Score(), {}, 0.5, "0/0", 42.0, 42.0, 21.0, [row])
        >>> print(photobench_images([("auto", rep)], ["auto"]))
        | image | detector | line recall | CER in reading order | CER order free | extra lines | found / expected | ms |
        |---|---|---|---|---|---|---|---|
        | a.jpg | auto→learned | 50.0% | 58.3% | 72.7% | 1 | 2 / 2 | 42 |
    """
    head = ("| image | detector | line recall | CER in reading order | CER order free | extra lines | found / expected "
            "| ms |")
    rows = [head, "|" + "|".join(["---"] * 8) + "|"]
    by_det = dict(reports)
    if not reports:
        return head
    for i, first in enumerate(reports[0][1].rows):
        for det in detectors:
            if det not in by_det:
                continue
            r = by_det[det].rows[i]
            used = f"{det}→{r.detector}" if r.detector and r.detector != det else det
            recall = r.exact_found / len(r.truth) if r.truth else float("nan")
            rows.append(f"| {first.image} | {used} | {_fmt(recall, True)} | {_fmt(r.reading_order_cer, True)} | "
                        f"{_fmt(r.cer, True)} | {r.extra_lines} | {len(r.pred)} / {len(r.truth)} | {r.ms:.0f} |")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    """Parser with the ``lines``, ``pages``, ``speed``, ``bench``, ``pagebench``, ``photobench`` and ``build-*`` sub-commands."""
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

    pb = sub.add_parser("pagebench", help="page mode on several pages.tsv sets; one table per set and tag")
    pb.add_argument("--sets", required=True, nargs="+", type=Path, help="pages.tsv files (a missing one is skipped)")
    pb.add_argument("--engine", choices=ENGINES, default="ours")
    pb.add_argument("--predictions-dir", type=Path, help="write <set>_pages.tsv predictions here")
    pb.add_argument("--detectors", nargs="+", choices=DETECTORS,
                    help="ours: score each set with each of these line finders (default: the configured one)")
    common(pb)

    ph = sub.add_parser("photobench", help="our engine on photo sets with each line finder; per set and per image")
    ph.add_argument("--sets", required=True, nargs="+", type=Path, help="pages.tsv files (a missing one is skipped)")
    ph.add_argument("--detectors", nargs="+", choices=DETECTORS, default=list(DETECTORS),
                    help="line finders to compare (default: opencv learned auto)")
    ph.add_argument("--predictions-dir", type=Path, help="write <set>_<detector>_pages.tsv predictions here")
    common(ph)

    bs = sub.add_parser("build-scenes", help="rendered photo-like scenes with truth (ocr_eval.scenes) as a pages.tsv set")
    bs.add_argument("--out", type=Path, default=Path("data/photobench/scenes"))
    bs.add_argument("--count", type=int, default=60, help="number of scenes (default 60)")
    bs.add_argument("--split", choices=("bench", "train"), default="bench",
                    help="bench: the benchmark; train: a detector's training data (disjoint text)")
    bs.add_argument("--start", type=int, default=0, help="first seed (default 0)")

    br = sub.add_parser("build-real-pages", help="real typeset pages (dev-split PDF manuals) as a pages.tsv set")
    br.add_argument("--pkgs", type=Path, default=Path("data/realprint/pkgs"),
                    help="unpacked packages (bash models/realprint.sh --fetch-only)")
    br.add_argument("--out", type=Path, default=Path("data/pagebench/real"))
    br.add_argument("--dpi", type=int, help="render resolution (default 150)")
    br.add_argument("--pages-per-doc", type=int, help="pages kept per document at most (default 5)")
    br.add_argument("--max-docs", type=int, help="documents per package at most, 0: all (default 16)")

    bp = sub.add_parser("build-rendered-pages", help="rendered synthetic pages as a pages.tsv set")
    bp.add_argument("--out", type=Path, default=Path("data/pagebench/rendered"))
    bp.add_argument("--seed", type=int, default=0)
    bp.add_argument("--pages", type=int, default=None, help="number of pages (default: the module's)")
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


def _pagebench(args: argparse.Namespace) -> int:
    reader = make_reader(args.engine, args)
    if args.detectors and args.engine != "ours":
        print("pagebench: --detectors is for --engine ours", file=sys.stderr)
        return 2
    detectors = _available(reader, args.detectors, "pagebench") if args.detectors else [None]
    reports: list[tuple[str, PagesReport]] = []
    taken: list[str] = []
    for labels in args.sets:
        if not labels.is_file():
            print(f"pagebench: {labels}: no such file, skipped", file=sys.stderr)
            continue
        name = set_name(labels, taken)
        taken.append(name)
        for det in detectors:
            label = name if det is None else f"{name} [{det}]"
            stem = name if det is None else f"{name}_{det}"
            pred = args.predictions_dir / f"{stem}_pages.tsv" if args.predictions_dir else None
            if pred is not None:
                pred.parent.mkdir(parents=True, exist_ok=True)
            print(f"[{reader.name}] {label} ({labels}) ...", file=sys.stderr, flush=True)
            reports.append((label, evaluate_pages(labels, reader, predictions_path=pred, name=reader.name,
                                                  progress=_progress, detector=det)))
    if not reports:
        print("pagebench: none of the sets exists", file=sys.stderr)
        return 2
    print(f"{reader.name}, threads={args.threads}\n")
    print(pagebench_table(reports))
    if args.json:
        doc = {"engine": reader.name, "threads": args.threads,
               "sets": [{"name": n, **r.to_dict(with_rows=True)} for n, r in reports]}
        args.json.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def _available(reader: Any, wanted: Sequence[str], mode: str) -> list[str]:
    """The wanted line finders our engine has (a missing one, e.g. no learned model, is skipped with a note)."""
    have = getattr(reader.engine, "detectors", {"opencv": None})
    out = [d for d in wanted if d in have]
    for d in wanted:
        if d not in have:
            print(f"{mode}: detector {d!r} is not available here (have: {', '.join(sorted(have))}), skipped",
                  file=sys.stderr)
    return out


def _photobench(args: argparse.Namespace) -> int:
    reader = make_reader("ours", args)
    detectors = _available(reader, list(dict.fromkeys(args.detectors)), "photobench")
    if not detectors:
        return 2
    sets: list[tuple[str, list[tuple[str, PagesReport]]]] = []
    for labels in args.sets:
        if not labels.is_file():
            print(f"photobench: {labels}: no such file, skipped", file=sys.stderr)
            continue
        name = set_name(labels, [n for n, _ in sets])
        runs = []
        for det in detectors:
            pred = args.predictions_dir / f"{name}_{det}_pages.tsv" if args.predictions_dir else None
            if pred is not None:
                pred.parent.mkdir(parents=True, exist_ok=True)
            print(f"[{det}] {name} ({labels}) ...", file=sys.stderr, flush=True)
            runs.append((det, evaluate_pages(labels, reader, predictions_path=pred, name=reader.name,
                                             progress=_progress, detector=det)))
        sets.append((name, runs))
    if not sets:
        print("photobench: none of the sets exists", file=sys.stderr)
        return 2
    flat = [(name, det, rep) for name, runs in sets for det, rep in runs]
    print(f"{reader.name}, threads={args.threads}\n")
    print(photobench_table(flat))
    tags = photobench_tags(flat)
    if tags.count("\n") > 1:
        print("\nPer tag: line recall / page CER order free / extra lines\n")
        print(tags)
    for name, runs in sets:
        print(f"\nPer image: {name}\n")
        print(photobench_images(runs, detectors))
    if args.json:
        doc = {"engine": reader.name, "threads": args.threads, "detectors": detectors,
               "sets": [{"name": n, "detector": d, **r.to_dict(with_rows=True)} for n, d, r in flat]}
        args.json.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def _build_scenes(args: argparse.Namespace) -> int:
    import time

    from ocr_eval.scenes import build_scenes

    t0 = time.perf_counter()
    labels = build_scenes(args.out, count=args.count, split=args.split, start=args.start,
                          log=lambda s: print(s, file=sys.stderr, flush=True) if sys.stderr.isatty() else None)
    print(f"{labels}: {args.count} {args.split} scenes in {time.perf_counter() - t0:.1f} s")
    return 0


def _build_real_pages(args: argparse.Namespace) -> int:
    from ocr_eval.real_pages import build_real_pages

    if not args.pkgs.is_dir():
        print(f"{args.pkgs}: no unpacked packages; run bash models/realprint.sh --fetch-only first", file=sys.stderr)
        return 2
    given = {k: v for k, v in (("dpi", args.dpi), ("pages_per_doc", args.pages_per_doc),
                                ("max_docs", args.max_docs)) if v is not None}
    labels = build_real_pages(args.pkgs, args.out, **given, log=lambda s: print(s, file=sys.stderr, flush=True))
    summary = json.loads((labels.parent / "summary.json").read_text(encoding="utf-8"))
    print(f"{labels}: {summary['pages']} pages, {summary['lines']} lines from {summary['documents']} documents; "
          f"tags {summary['by_tag']}; dropped {summary['dropped']}")
    return 0


def _build_rendered_pages(args: argparse.Namespace) -> int:
    from ocr_eval.rendered_pages import build_rendered_pages

    labels = build_rendered_pages(args.out, seed=args.seed, pages=args.pages)
    print(labels)
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
    if args.mode == "pagebench":
        return _pagebench(args)
    if args.mode == "photobench":
        return _photobench(args)
    if args.mode == "build-scenes":
        return _build_scenes(args)
    if args.mode == "build-real-pages":
        return _build_real_pages(args)
    if args.mode == "build-rendered-pages":
        return _build_rendered_pages(args)
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
