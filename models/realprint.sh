#!/usr/bin/env bash
# The real-print line set (models/crnn/realprint.py): fetches the Debian packages whose typeset
# PDF manuals it cuts, unpacks them under data/realprint/pkgs/ (nothing is installed
# system-wide but poppler-utils), then builds the dev and train splits.
#   bash models/realprint.sh               # fetch + unpack + build dev and train
#   bash models/realprint.sh --fetch-only  # only fetch + unpack
# Never add a debian-edu-doc-* package here: those are kept for independent evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${REALPRINT_OUT:-data/realprint}"
PKGS="linuxcnc-doc-zh-cn texlive-lang-chinese texlive-latex-base-doc"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v pdftoppm >/dev/null || ! command -v pdftotext >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
fi
mkdir -p "$OUT/debs" "$OUT/pkgs"
for pkg in $PKGS; do
  if ! ls "$OUT/debs/${pkg}"_*.deb >/dev/null 2>&1; then
    (cd "$OUT/debs" && apt-get download "$pkg" 2>/dev/null) || {
      $SUDO apt-get update -qq; (cd "$OUT/debs" && apt-get download "$pkg"); }
  fi
  if [ ! -d "$OUT/pkgs/$pkg/usr" ]; then
    mkdir -p "$OUT/pkgs/$pkg" && dpkg-deb -x "$OUT/debs/${pkg}"_*.deb "$OUT/pkgs/$pkg"
  fi
done
[ "${1:-}" = "--fetch-only" ] && exit 0
export PYTHONPATH="models:functions/ocr${PYTHONPATH:+:$PYTHONPATH}"
# dev: 16 pages per document, up to 100 lines of each language per document, 12 documents of each package
nice -n 10 python3 -m crnn.realprint build --out "$OUT" --split dev --pages-per-doc 16 \
  --max-lines-per-doc 100 --max-docs-per-package 12
# train: every train document, 6 pages each, up to 40 lines of each language per document
nice -n 10 python3 -m crnn.realprint build --out "$OUT" --split train --pages-per-doc 6 --max-lines-per-doc 40
