"""Measure cold start (import + model load) and warm latency of the HTTP handler.

``python -m infra.measure`` runs the handlers in fresh child processes, the way a new Lambda
container starts: import of the handler module (numpy, OpenCV, onnxruntime, Powertools,
model session created at init), then the first request, then warm requests with the demo
sample. ``--layer build/layers`` uses a build from ``layers/build_layers.py`` (run with
``-S``, so only the pruned packages are importable), with ``--python`` set to a CPython 3.12
to match the Lambda runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from infra.lambda_context import SOURCE as CONTEXT_SOURCE
from infra.local_stack import local_model_path
from infra.template import ROOT

CHILD = r"""
import base64, json, runpy, sys, time
t0 = time.perf_counter()
from ocr_service.handlers import http_api, runtime
t1 = time.perf_counter()
LambdaContext = runpy.run_path(sys.argv[4])["LambdaContext"]  # infra/lambda_context.py
Context = lambda: LambdaContext("measure")
event = json.load(open(sys.argv[1]))
image = open(sys.argv[2], "rb").read()
event["body"] = base64.b64encode(image).decode()
first = time.perf_counter(); resp = http_api.handler(event, Context()); first = time.perf_counter() - first
assert resp["statusCode"] == 200, resp["body"][:300]
warm = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); http_api.handler(event, Context()); warm.append(time.perf_counter() - t)
print(json.dumps({"import_and_load_s": t1 - t0, "model_load_ms": runtime.engine_info().get("model_load_ms"),
                  "first_request_s": first, "warm_s": warm,
                  "lines": len(json.loads(resp["body"])["data"])}))
"""


# The object handler's init: the same imports and model, plus botocore and the S3 client.
OBJECT_CHILD = r"""
import time
t0 = time.perf_counter()
from ocr_service.handlers import objects
print(time.perf_counter() - t0)
"""



def _last_line(cmd: list[str], env: dict[str, str]) -> str | None:
    """Run one fresh child process; its last stdout line, or None (stderr shown) if it failed."""
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return out.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", type=Path, help="output of layers/build_layers.py all (deps/, model/, function/)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--image", type=Path, default=ROOT / "infra" / "sample" / "sample_zh_en.png")
    parser.add_argument("--starts", type=int, default=3, help="fresh processes (cold starts)")
    parser.add_argument("--warm", type=int, default=10, help="warm requests per process")
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"OCR_THREADS": env.get("OCR_THREADS", "1"), "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    cmd = [args.python]
    if args.layer:
        sys.path.insert(0, str(ROOT / "layers"))
        from build_layers import runtime_packages_dir

        runtime = runtime_packages_dir(args.layer / "lambda-runtime")
        engine = args.layer / "engine" / "python"
        env["PYTHONPATH"] = os.pathsep.join([str(args.layer / "function"), str(engine), str(args.layer / "deps" / "python"),
                                             str(runtime)])
        env["OCR_MODEL_PATH"] = str(next((engine / "ocr_engine" / "weights").glob("*.onnx")))
        cmd.append("-S")
    else:
        model = local_model_path()
        if model is not None:
            env.setdefault("OCR_MODEL_PATH", str(model))
    cmd += ["-c", CHILD, str(ROOT / "events" / "http_post_ocr.json"), str(args.image), str(args.warm), str(CONTEXT_SOURCE)]

    object_env = {**env, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    object_cmd = cmd[: cmd.index("-c")] + ["-c", OBJECT_CHILD]
    object_inits = []
    for _ in range(args.starts):
        line = _last_line(object_cmd, object_env)
        if line is None:
            return 1
        object_inits.append(float(line))

    runs = []
    for _ in range(args.starts):
        line = _last_line(cmd, env)
        if line is None:
            return 1
        runs.append(json.loads(line))
    cold = [r["import_and_load_s"] for r in runs]
    warm = [w for r in runs for w in r["warm_s"]]
    summary = {
        "python": args.python,
        "packages": str(args.layer) if args.layer else "development install",
        "image": args.image.name,
        "lines": runs[0]["lines"],
        "cold_start_import_and_model_load_s_median": round(statistics.median(cold), 3),
        "object_handler_cold_start_s_median": round(statistics.median(object_inits), 3),
        "model_load_ms_median": statistics.median(r["model_load_ms"] for r in runs),
        "first_request_ms_median": round(statistics.median(r["first_request_s"] for r in runs) * 1000, 1),
        "warm_ms_median": round(statistics.median(warm) * 1000, 1),
        "warm_ms_p90": round(sorted(warm)[int(0.9 * (len(warm) - 1))] * 1000, 1),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
