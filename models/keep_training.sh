#!/usr/bin/env bash
# Continues training the committed model in the background at the lowest CPU priority.
#   bash models/keep_training.sh [HOURS] [LR]     (log: runs/crnn/train.log)
# When it ends: python3 -m crnn.export runs/crnn/best.pt --out engine/ocr_engine/weights, then
# python3 -m crnn.evaluate, and commit the weights if shared/eval improved.
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS="${1:-2.5}"; LR="${2:-5e-4}"
TCMALLOC=$(ls /usr/lib/*/libtcmalloc_minimal.so.4 2>/dev/null | head -n1 || true)
mkdir -p runs
LD_PRELOAD="${TCMALLOC}" nohup nice -n 19 python3 -m crnn.train --init models/weights/crnn_zh_en.pt \
  --out runs/crnn --hours "$HOURS" --lr "$LR" --warmup 100 > runs/crnn.out 2>&1 &
echo "training in the background (pid $!); follow: tail -f runs/crnn/train.log"
