"""Run the hostile documents through the real engine in a fresh process; one JSON line per case.

``python tests/reliability/document_runner.py MODEL``

The process caps its own address space (``RLIMIT_AS``, default 2 GiB, ``OCR_RUNNER_MAX_AS_MB``)
so a bomb that slipped through fails fast instead of swapping the machine. Each case is read
with ``OcrEngine.run_document`` under its limits; after it a valid PDF (the canary) is read:
the engine must still be healthy. Output lines: ``{"case", "kind", "outcome", "status",
"message", "seconds", "peak_delta_mb", "canary"}`` (``peak_delta_mb``: this process's peak RSS
while the case ran above its RSS before it; the PDF renderer's own process is measured by the
last line), then ``{"done": true, "rss_mb", "peak_rss_mb", "renderer_peak_rss_mb"}``.
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
    limit_mb = int(os.environ.get("OCR_RUNNER_MAX_AS_MB", "2048"))
    resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))

    importlib.import_module("ocr_engine.image.decode")  # OpenCV's size limits before cv2 loads
    from infra.procmem import peak_rss_mb, reset_peak, rss_mb
    from ocr_engine.config import OcrConfig
    from ocr_engine.document import DocumentLimits
    from ocr_engine.engine import OcrEngine
    from ocr_engine.errors import OcrError
    from ocr_service.status import http_status
    from support.hostile_documents import build_documents, one_page

    engine = OcrEngine.from_config(OcrConfig(model_path=model, threads=1))
    canary = one_page()
    engine.run_document(canary)  # warm up
    only = set(argv[2:])
    for case in build_documents():
        if only and case.name not in only:
            continue
        reset = reset_peak()
        peak_before = rss_mb() if reset else peak_rss_mb()
        t0 = time.perf_counter()
        message = ""
        try:
            engine.run_document(case.data, limits=DocumentLimits(**case.limits))
            outcome, status = "ok", 200
        except OcrError as err:
            outcome, status, message = err.code, http_status(err), err.message
        except Exception as err:  # noqa: BLE001 - reported, the parent fails the case
            outcome, status, message = f"unexpected {type(err).__name__}", 500, str(err)[:300]
        seconds = time.perf_counter() - t0
        peak_delta = peak_rss_mb() - peak_before
        try:
            canary_ok = len(engine.run_document(canary).pages) == 1
        except Exception:  # noqa: BLE001
            canary_ok = False
        print(json.dumps({"case": case.name, "kind": case.kind, "outcome": outcome, "status": status,
                          "message": message, "seconds": round(seconds, 4), "peak_delta_mb": round(peak_delta, 1),
                          "canary": canary_ok}, ensure_ascii=False), flush=True)
    renderer_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"done": True, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                      "renderer_peak_rss_mb": round(renderer_peak, 1)}), flush=True)
    return 0



if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
