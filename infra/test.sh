#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
#   bash infra/test.sh             # the default suite (excludes tests marked slow)
#   bash infra/test.sh -m slow     # extra pytest arguments are passed through
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 SAM_CLI_TELEMETRY=0
# A Debian system Python refuses pip installs (PEP 668); CI machines are disposable.
export PIP_BREAK_SYSTEM_PACKAGES=1
PY="${PYTHON:-python3}"

# Fonts, corpora, torch (pinned CPU build) and the training extras used by tests/models.
bash models/install_assets.sh

# Debian's chromium for the browser test (Playwright drives it; no browser download) and
# the fonts the core tests render with.
if command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  missing=""
  for pkg in chromium fonts-smiley-sans fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

"$PY" -m pip install -q "torch==2.13.0"
"$PY" -m pip install -q -e ".[dev,aws,train]"

# SAM CLI in its own virtual environment: its pins clash with the project's.
# Without it the `sam validate --lint` test is skipped (cfn-lint still runs).
if [ ! -x .venv-sam/bin/sam ]; then
  { "$PY" -m venv .venv-sam && .venv-sam/bin/pip install -q aws-sam-cli; } \
    || echo "warning: could not install the SAM CLI; its test will be skipped" >&2
fi

set +e
"$PY" -m pytest -q "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then  # no tests collected
  rc=0
fi
exit "$rc"
