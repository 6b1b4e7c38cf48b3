#!/usr/bin/env bash
# Installs what the model pipeline needs on a fresh Debian machine: fonts, corpora and the
# Python training dependencies. Licences of each asset: models/README.md.
#   bash models/install_assets.sh                # Debian packages, then torch + the train extras
#   bash models/install_assets.sh --debian-only  # only the Debian packages
# Python packages go into $PYTHON (default: python3; use a virtual environment's python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  pkgs="fonts-noto-cjk fonts-noto-core fonts-wqy-microhei fonts-wqy-zenhei
    fonts-arphic-ukai fonts-arphic-uming fonts-lxgw-wenkai
    fonts-dejavu-core fonts-dejavu-extra fonts-liberation2
    fonts-arphic-gbsn00lp fonts-arphic-gkai00mp
    fortunes-zh wamerican libtcmalloc-minimal4"
  missing=""
  for pkg in $pkgs; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
[ "${1:-}" = "--debian-only" ] && exit 0
"$PY" -m pip install -q "torch==2.13.0"
"$PY" -m pip install -q -r requirements/dev.txt
