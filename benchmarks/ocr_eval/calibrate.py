"""Fit the line-confidence calibration of a model, measure it, and write it beside the model.

The real-print dev set (lines cut from typeset PDF documents the model never trained on) is
read line by line through the service's recogniser (the configured model, INT8 by default,
with its LM), as line mode reads it (:mod:`ocr_eval.lines`); a line is right when its reading
equals its label after the harness's normalisation (:func:`~ocr_eval.metrics.normalize`, the
``exact`` score). Then:

1. the dev set is split by source document into two halves (:func:`split_by_document`,
   deterministic: no document is in both); the calibration is fitted on the first and the
   expected calibration error (15 equal-width bins) and reliability table of the raw and the
   calibrated confidence are reported on the held-out half: the honest number;
2. it is fitted again on the whole dev set, which is what is written, and measured there;
3. that calibration is measured on ``../shared/eval/lines.tsv`` (information only: never fitted on).

The file (``calibration_zh_en.json`` beside the model, :data:`ocr_engine.config.CALIBRATION_FILE`)
names the model it was fitted for; the engine uses it only for that model name and version.

Example::

    python -m ocr_eval.calibrate                       # the shipped model; writes its calibration
    python -m ocr_eval.calibrate --model m.int8.onnx --json /tmp/calibration_report.json
    python -m ocr_eval.calibrate --no-write            # measure only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ocr_engine.recognition.calibration import (
    ECE_BINS,
    Calibration,
    expected_calibration_error,
    fit_calibration,
    reliability_table,
    surprisal,
)
from ocr_eval.datasets import load_image, read_line_labels
from ocr_eval.metrics import normalize

REPO = Path(__file__).resolve().parents[2]
DEV_LINES = REPO / "data" / "realprint" / "dev" / "lines.tsv"
SHARED_LINES = REPO.parent / "shared" / "eval" / "lines.tsv"


@dataclass(frozen=True)
class LineSample:
    """One line read for the calibration.

    Attributes:
        image: Image path as written in the labels.
        document: Its source document (the folder of the crop).
        lang: ``lang`` column.
        truth: Label.
        pred: Reading.
        raw: The recogniser's line confidence.
        surprisal: :func:`~ocr_engine.recognition.calibration.surprisal` of its characters.
        n_chars: Characters read.
        right: The reading equals the label after normalisation.
    """

    image: str
    document: str
    lang: str
    truth: str
    pred: str
    raw: float
    surprisal: float
    n_chars: int
    right: bool


def document_of(image: str) -> str:
    """The source document of a crop: the folder it is in (``crops/<document>/p0001_....png``).

    Example:
        >>> document_of("crops/zhlipsum-904badcc/p0001_d150_l001.png")
        'crops/zhlipsum-904badcc'
    """
    return Path(image).parent.as_posix()


def read_samples(labels: str | Path, recognizer: Any, *, limit: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[LineSample]:
    """Read every crop of a ``lines.tsv`` with ``recognizer.recognize_one`` (raw readings)."""
    rows = read_line_labels(labels)[:limit]
    out = []
    for k, lab in enumerate(rows):
        r = recognizer.recognize_one(load_image(lab.path))
        out.append(LineSample(lab.image, document_of(lab.image), lab.lang, lab.text, r.text, float(r.confidence),
                              surprisal([c.confidence for c in r.chars]), len(r.chars),
                              normalize(lab.text) == normalize(r.text)))
        if progress:
            progress(k + 1, len(rows))
    return out


def split_by_document(samples: Sequence[LineSample]) -> tuple[list[int], list[int]]:
    """Indices of the fit half and of the held-out half: whole documents, deterministic.

    Documents are grouped by their lines' majority language; within each language, from the
    largest document down (ties by name), each goes to the half that has fewer of that
    language's lines so far (the fit half on a tie). So both halves hold documents of both
    languages and about half the lines, and no document is in both.

    Example:
        >>> s = [LineSample(f"crops/{d}/{i}.png", f"crops/{d}", "en", "", "", 1.0, 0.0, 0, True)
        ...      for d, n in (("a", 3), ("b", 2), ("c", 2)) for i in range(n)]
        >>> split_by_document(s)
        ([0, 1, 2], [3, 4, 5, 6])
    """
    lines: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        lines[s.document].append(i)
    lang = {d: Counter(samples[i].lang for i in idx).most_common(1)[0][0] for d, idx in lines.items()}
    fit: list[int] = []
    held: list[int] = []
    for language in sorted(set(lang.values())):
        sizes = [0, 0]
        for d in sorted((d for d in lines if lang[d] == language), key=lambda d: (-len(lines[d]), d)):
            half = 0 if sizes[0] <= sizes[1] else 1
            (fit if half == 0 else held).extend(lines[d])
            sizes[half] += len(lines[d])
    return sorted(fit), sorted(held)


def sampling_floor(confidences: np.ndarray, bins: int = ECE_BINS, draws: int = 200, seed: int = 0) -> float:
    """The ECE that confidences which *are* calibrated would show on this many lines, from chance
    alone: the mean ECE over ``draws`` sets of outcomes drawn from them (seeded, deterministic).

    Example:
        >>> sampling_floor(np.full(10000, 0.9)) < 0.01 < sampling_floor(np.full(50, 0.9))
        True
    """
    rng = np.random.default_rng(seed)
    if not confidences.size:
        return 0.0
    return round(float(np.mean([expected_calibration_error(confidences, rng.random(confidences.size) < confidences,
                                                           bins) for _ in range(draws)])), 6)


def measure(samples: Sequence[LineSample], calibration: Calibration, bins: int = ECE_BINS) -> dict[str, Any]:
    """ECE and reliability table of the raw and of the calibrated confidence over ``samples``;
    ``ece_floor``: :func:`sampling_floor` of the calibrated confidences (what chance alone gives)."""
    right = np.array([s.right for s in samples], bool)
    raw = np.array([s.raw for s in samples], np.float64)
    n_chars = np.array([s.n_chars for s in samples], np.int64)
    # a reading without characters has no chance (Calibration.probability)
    cal = np.where(n_chars > 0, calibration.probabilities([s.surprisal for s in samples]), 0.0)
    return {
        "lines": len(samples),
        "documents": len({s.document for s in samples}),
        "right": round(float(right.mean()), 6) if len(samples) else 0.0,
        "ece_raw": expected_calibration_error(raw, right, bins),
        "ece_calibrated": expected_calibration_error(cal, right, bins),
        "ece_floor": sampling_floor(cal, bins),
        "mean_raw": round(float(raw.mean()), 6) if len(samples) else 0.0,
        "mean_calibrated": round(float(cal.mean()), 6) if len(samples) else 0.0,
        "reliability_raw": [asdict(b) for b in reliability_table(raw, right, bins)],
        "reliability_calibrated": [asdict(b) for b in reliability_table(cal, right, bins)],
    }


def _fit(samples: Sequence[LineSample], model_name: str, model_version: str,
         info: dict[str, Any] | None = None) -> Calibration:
    return fit_calibration([s.surprisal for s in samples], [s.right for s in samples],
                           model_name=model_name, model_version=model_version, info=info)


def _params(cal: Calibration) -> dict[str, float]:
    return {"a": round(cal.a, 6), "b": round(cal.b, 6), "eps": round(cal.eps, 6)}


def calibrate(dev: Sequence[LineSample], shared: Sequence[LineSample] | None, *, model_name: str,
              model_version: str, about: dict[str, Any] | None = None) -> tuple[Calibration, dict[str, Any]]:
    """Fit on the fit half and measure on the held-out half; refit on all of ``dev`` (returned, to
    write) and measure it there and on ``shared``. Returns the calibration and the report."""
    fit_idx, held_idx = split_by_document(dev)
    fit_half = [dev[i] for i in fit_idx]
    held = [dev[i] for i in held_idx]
    half_cal = _fit(fit_half, model_name, model_version)
    report: dict[str, Any] = {
        "model": f"{model_name} {model_version}",
        **(about or {}),
        "bins": ECE_BINS,
        "split": {"fit": {"lines": len(fit_half), "documents": sorted({s.document for s in fit_half})},
                  "held_out": {"lines": len(held), "documents": sorted({s.document for s in held})}},
        "held_out": {"params": _params(half_cal), **measure(held, half_cal)},
    }
    everything = dict(about or {})
    everything.update({"lines": len(dev), "documents": len({s.document for s in dev}),
                       "ece_held_out_raw": report["held_out"]["ece_raw"],
                       "ece_held_out_calibrated": report["held_out"]["ece_calibrated"]})
    cal = _fit(dev, model_name, model_version)
    report["whole_dev"] = {"params": _params(cal), **measure(dev, cal)}
    everything.update({"ece_dev_raw": report["whole_dev"]["ece_raw"],
                       "ece_dev_calibrated": report["whole_dev"]["ece_calibrated"]})
    if shared:
        report["shared_eval"] = measure(shared, cal)
        everything.update({"ece_shared_eval_raw": report["shared_eval"]["ece_raw"],
                           "ece_shared_eval_calibrated": report["shared_eval"]["ece_calibrated"]})
    return Calibration(cal.a, cal.b, cal.eps, model_name, model_version, everything), report


def _table(m: dict[str, Any]) -> list[str]:
    """The raw and calibrated reliability tables of one measurement, side by side."""
    raw = {b["lo"]: b for b in m["reliability_raw"]}
    cal = {b["lo"]: b for b in m["reliability_calibrated"]}
    out = ["    confidence     raw:   n   conf    acc  | calibrated:   n   conf    acc"]
    for lo in sorted(set(raw) | set(cal)):
        hi = (raw.get(lo) or cal[lo])["hi"]
        cells = []
        for t in (raw, cal):
            b = t.get(lo)
            cells.append(f"{b['n']:5d} {b['confidence']:6.3f} {b['accuracy']:6.3f}" if b else f"{'':5s} {'':6s} {'':6s}")
        out.append(f"    [{lo:.3f}, {hi:.3f})    {cells[0]}  |         {cells[1]}")
    return out


def summary(report: dict[str, Any]) -> str:
    """The report as text: ECE before and after, and the reliability tables."""
    rows = [f"calibration of {report['model']} ({report.get('model_file', '')}, LM "
            f"{'on' if report.get('language_model') else 'off'}); ECE over {report['bins']} equal-width bins"]
    sp = report["split"]
    rows.append(f"split by document: fit {sp['fit']['lines']} lines ({len(sp['fit']['documents'])} documents), "
                f"held out {sp['held_out']['lines']} lines ({len(sp['held_out']['documents'])} documents)")
    names = [("held_out", "held-out half (fitted on the other half)"),
             ("whole_dev", "whole dev set (refitted on all of it: written)"),
             ("shared_eval", "shared/eval lines (information only)")]
    rows.append(f"  {'':48s} {'lines':>6s} {'right':>7s} {'ECE raw':>8s} {'ECE cal':>8s} {'chance':>7s}")
    for key, label in names:
        if key in report:
            m = report[key]
            rows.append(f"  {label:48s} {m['lines']:6d} {m['right']:7.1%} {m['ece_raw']:8.2%} {m['ece_calibrated']:8.2%} {m['ece_floor']:7.2%}")
    rows.append("  (chance: the ECE that calibrated confidences would show on as many lines, from sampling alone)")
    p = report["whole_dev"]["params"]
    rows.append(f"written: P(right) = sigmoid(a + b*log(eps + surprisal)), a={p['a']:.4f} b={p['b']:.4f} "
                f"eps={p['eps']:.4f}  (held-out fit: a={report['held_out']['params']['a']:.4f} "
                f"b={report['held_out']['params']['b']:.4f} eps={report['held_out']['params']['eps']:.4f})")
    for key, label in names:
        if key in report:
            rows.append(f"reliability, {label}:")
            rows.extend(_table(report[key]))
    if "written" in report:
        rows.append(f"wrote {report['written']}")
    return "\n".join(rows)


def _shown(path: Path) -> str:
    """A path as the report and the file name it: relative to the repository."""
    return Path(os.path.relpath(Path(path).resolve(), REPO)).as_posix()


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m ocr_eval.calibrate``."""
    p = argparse.ArgumentParser(prog="python -m ocr_eval.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labels", type=Path, default=DEV_LINES, help="the dev set's lines.tsv (fitted on)")
    p.add_argument("--shared", type=Path, default=SHARED_LINES,
                   help="lines.tsv measured only (default ../shared/eval/lines.tsv; skipped when missing)")
    p.add_argument("--model", type=Path, help="recognition .onnx model (default: the service's configuration)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    p.add_argument("--out", type=Path, help="calibration file to write (default: calibration_zh_en.json beside the model)")
    p.add_argument("--no-write", action="store_true", help="measure only, write no calibration")
    p.add_argument("--json", type=Path, help="write the report as JSON here")
    p.add_argument("--limit", type=int, help="only the first N rows of each labels file (quick checks)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the calibration; print the report. Returns the exit status."""
    from ocr_engine.config import CALIBRATION_FILE, OcrConfig
    from ocr_engine.engine import recognizer_for

    args = build_parser().parse_args(argv)
    cfg = OcrConfig.from_env().replace(threads=args.threads)
    if args.model:
        cfg = cfg.replace(model_path=args.model)
    rec = recognizer_for(cfg)
    meta = rec.meta
    about = {"model_file": Path(rec.model_path).name, "language_model": rec.lm is not None,
             "lm_beam": rec.lm_beam is not None, "labels": _shown(args.labels)}
    dev = read_samples(args.labels, rec, limit=args.limit, progress=_progress)
    shared = None
    if args.shared and Path(args.shared).is_file():
        shared = read_samples(args.shared, rec, limit=args.limit, progress=_progress)
        about["measured_on"] = _shown(args.shared)
    cal, report = calibrate(dev, shared, model_name=meta.model_name, model_version=meta.model_version, about=about)
    if not args.no_write:
        out = args.out or Path(rec.model_path).parent / CALIBRATION_FILE
        report["written"] = str(cal.save(out))
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
