"""Run the hostile corpus through the real engine in a fresh process; one JSON line per case.

``python tests/reliability/corpus_runner.py MODEL [PASSES]``

The process caps its own address space (``RLIMIT_AS``, default 4 GiB, ``OCR_RUNNER_MAX_AS_MB``)
so a bomb that slipped through fails fast instead of swapping the machine. After every
hostile case a valid image (the canary) is processed: the engine must still be healthy.
Each pass ends with a ``{"pass": n, "rss_mb": ..., "peak_rss_mb": ...}`` line; the parent
compares passes to catch a leak. Output lines: ``{"case", "kind", "outcome", "status",
"expected", "seconds", "rss_mb", "peak_delta_mb", "canary"}``; ``peak_delta_mb`` is the peak
RSS while the case ran above the RSS just before it (Linux: the peak is reset before each
case through ``/proc/self/clear_refs``; elsewhere it is how much the case raised the peak).
After the first pass, one ``{"class", "cases", "worst_peak_mb", "peak_case", "worst_seconds",
"slow_case"}`` line per class of input (``kind``), and the same as a table on stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1])]  # tests/ (the support package), the repo


def main(argv: list[str]) -> int:
    model = Path(argv[1])
    passes = int(argv[2]) if len(argv) > 2 else 2
    limit_mb = int(os.environ.get("OCR_RUNNER_MAX_AS_MB", "4096"))
    resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))

    # ocr_engine.image.decode first: it sets OpenCV's own size limits, which OpenCV reads when
    # cv2 loads (hostile_corpus imports cv2), as in the Lambda handlers.
    importlib.import_module("ocr_engine.image.decode")
    from infra.procmem import peak_rss_mb, reset_peak, rss_mb
    from ocr_engine.config import OcrConfig
    from ocr_engine.engine import OcrEngine
    from ocr_engine.errors import OcrError
    from ocr_service.status import http_status
    from support.hostile_corpus import CANARY, build_corpus

    engine = OcrEngine.from_config(OcrConfig(model_path=model, threads=1))
    cases = build_corpus()
    canary = CANARY()
    engine.run(canary)  # warm up
    print(json.dumps({"start": True, "cases": len(cases), "rss_mb": round(rss_mb(), 1)}), flush=True)
    worst: dict[str, dict[str, object]] = {}
    for n in range(1, passes + 1):
        pass_peak = peak_rss_mb()
        for case in cases:
            reset = reset_peak()
            peak_before = rss_mb() if reset else peak_rss_mb()
            t0 = time.perf_counter()
            try:
                engine.run(case.data)
                outcome, status = "ok", 200
            except OcrError as err:
                outcome, status = err.code, http_status(err)
            except Exception as err:  # noqa: BLE001 - reported, the parent fails the case
                outcome, status = f"unexpected {type(err).__name__}: {err}"[:300], 500
            seconds = time.perf_counter() - t0
            peak_delta = peak_rss_mb() - peak_before
            pass_peak = max(pass_peak, peak_rss_mb())
            try:
                engine.run(canary)
                canary_ok = True
            except Exception:  # noqa: BLE001
                canary_ok = False
            pass_peak = max(pass_peak, peak_rss_mb())
            if n == 1:
                print(json.dumps({
                    "case": case.name, "kind": case.kind, "outcome": outcome, "status": status,
                    "expected": sorted(case.expected), "seconds": round(seconds, 4),
                    "rss_mb": round(rss_mb(), 1), "canary": canary_ok,
                    "peak_delta_mb": round(peak_delta, 1),
                }), flush=True)
                w = worst.setdefault(case.kind, {"class": case.kind, "cases": 0, "worst_peak_mb": -1.0,
                                                 "worst_seconds": -1.0})
                w["cases"] = int(w["cases"]) + 1  # type: ignore[call-overload]
                if peak_delta > float(w["worst_peak_mb"]):  # type: ignore[arg-type]
                    w["worst_peak_mb"], w["peak_case"] = round(peak_delta, 1), case.name
                if seconds > float(w["worst_seconds"]):  # type: ignore[arg-type]
                    w["worst_seconds"], w["slow_case"] = round(seconds, 3), case.name
        if n == 1:
            print_classes(list(worst.values()))
        print(json.dumps({"pass": n, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(pass_peak, 1)}), flush=True)
    return 0



def print_classes(classes: list[dict[str, object]]) -> None:
    """One JSON line per class on stdout, and a table of the worst case per class on stderr."""
    print(f"{'class':16s} {'cases':>5s} {'worst peak MB':>13s}  {'case':45s} {'worst s':>8s}  case",
          file=sys.stderr)
    for w in classes:
        print(json.dumps(w), flush=True)
        print(f"{w['class']!s:16s} {w['cases']!s:>5s} {w['worst_peak_mb']!s:>13s}  {w['peak_case']!s:45s} "
              f"{w['worst_seconds']!s:>8s}  {w['slow_case']}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
