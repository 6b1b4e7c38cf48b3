"""Run the hostile corpus through the real engine in a fresh process; one JSON line per case.

``python tests/reliability/corpus_runner.py MODEL [PASSES]``

The process caps its own address space (``RLIMIT_AS``, default 4 GiB, ``OCR_RUNNER_MAX_AS_MB``)
so a bomb that slipped through fails fast instead of swapping the machine. After every
hostile case a valid image (the canary) is processed: the engine must still be healthy.
Each pass ends with a ``{"pass": n, "rss_mb": ...}`` line; the parent compares passes to
catch a leak. Output lines: ``{"case", "kind", "outcome", "status", "expected", "seconds",
"rss_mb", "peak_delta_mb", "canary"}`` (``peak_delta_mb``: how much the case raised the peak RSS).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1]), str(HERE.parents[1] / "functions" / "ocr")]


def main(argv: list[str]) -> int:
    model = Path(argv[1])
    passes = int(argv[2]) if len(argv) > 2 else 2
    limit_mb = int(os.environ.get("OCR_RUNNER_MAX_AS_MB", "4096"))
    resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))

    from hostile_corpus import CANARY, build_corpus

    from infra.procmem import peak_rss_mb, rss_mb
    from ocr_service.config import OcrConfig
    from ocr_service.errors import OcrError
    from ocr_service.pipeline import OcrEngine

    engine = OcrEngine.from_config(OcrConfig(model_path=model, threads=1))
    cases = build_corpus()
    canary = CANARY()
    engine.run(canary)  # warm up
    print(json.dumps({"start": True, "cases": len(cases), "rss_mb": round(rss_mb(), 1)}), flush=True)
    for n in range(1, passes + 1):
        for case in cases:
            peak_before = peak_rss_mb()
            t0 = time.perf_counter()
            try:
                engine.run(case.data)
                outcome, status = "ok", 200
            except OcrError as err:
                outcome, status = err.code, err.http_status
            except Exception as err:  # noqa: BLE001 - reported, the parent fails the case
                outcome, status = f"unexpected {type(err).__name__}: {err}"[:300], 500
            seconds = time.perf_counter() - t0
            try:
                engine.run(canary)
                canary_ok = True
            except Exception:  # noqa: BLE001
                canary_ok = False
            if n == 1:
                print(json.dumps({
                    "case": case.name, "kind": case.kind, "outcome": outcome, "status": status,
                    "expected": sorted(case.expected), "seconds": round(seconds, 4),
                    "rss_mb": round(rss_mb(), 1), "canary": canary_ok,
                    "peak_delta_mb": round(peak_rss_mb() - peak_before, 1),
                }), flush=True)
        print(json.dumps({"pass": n, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
