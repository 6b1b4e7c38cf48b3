#!/usr/bin/env bash
# Installs what the model pipeline needs on a fresh Debian machine: fonts, corpora and the
# Python training dependencies. Licences of each asset: models/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    fonts-noto-cjk fonts-noto-core fonts-wqy-microhei fonts-wqy-zenhei \
    fonts-arphic-ukai fonts-arphic-uming fonts-lxgw-wenkai \
    fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 \
    fonts-arphic-gbsn00lp fonts-arphic-gkai00mp \
    fortunes-zh wamerican libtcmalloc-minimal4 >/dev/null
fi
python3 -m pip install -q "torch==2.13.0"
python3 -m pip install -q -e ".[train,dev]"
