#!/usr/bin/env bash
# Rebuilds the recogniser from scratch: install fonts/corpora, train on freshly generated
# synthetic lines for HOURS (default 2.5), export float + INT8 ONNX to engine/ocr_engine/weights, count the
# character LM, evaluate.
#   bash models/rebuild.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS="${1:-2.5}"
bash models/install_assets.sh
TCMALLOC=$(ls /usr/lib/*/libtcmalloc_minimal.so.4 2>/dev/null | head -n1 || true)
LD_PRELOAD="${TCMALLOC}" python3 -m crnn.train --out runs/crnn --hours "$HOURS"
python3 -m crnn.export runs/crnn/best.pt --out engine/ocr_engine/weights
python3 -m crnn.charlm --out engine/ocr_engine/weights/charlm_zh_en.npz
python3 -m crnn.evaluate
