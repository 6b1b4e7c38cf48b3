#!/usr/bin/env bash
# Create the benchmark environment (.venv-bench) for the peer OCR engines.
#
# The serving environment never gets these packages: PP-OCRv4 comes from the
# rapidocr_onnxruntime wheel (it carries its ONNX models) and is installed here only.
# Tesseract 5 comes from Debian: apt-get install -y tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
#
# Usage:
#   tools/bench_env.sh                 # create/update .venv-bench
#   tools/bench_env.sh --run [ARGS]    # then run the harness in it, e.g.
#   tools/bench_env.sh --run bench --eval ../shared/eval --model engine/ocr_engine/weights/crnn_zh_en.onnx
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BENCH_VENV:-$ROOT/.venv-bench}"
PY="${BENCH_PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 13) else 1)'; then
  echo "bench_env: rapidocr_onnxruntime needs Python >= 3.9 and < 3.13; set BENCH_PYTHON" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
  "numpy>=1.26,<3" "opencv-python-headless>=4.9" "onnxruntime>=1.17" "rapidocr_onnxruntime>=1.3,<2"
if ! command -v tesseract >/dev/null; then
  echo "bench_env: tesseract not found; its rows will be skipped (apt-get install -y tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng)" >&2
fi

if [ "${1:-}" = "--run" ]; then
  shift
  cd "$ROOT"
  PYTHONPATH="$ROOT/functions/ocr${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" -m ocr_eval "$@"
fi
echo "bench_env: ready: $VENV"
