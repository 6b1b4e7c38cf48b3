"""A short run of the soak command (slow: ``pytest -m slow tests/reliability``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support.reliability import REPO, find_model


@pytest.mark.slow
def test_short_soak_loses_nothing() -> None:
    if find_model() is None:
        pytest.skip("no model file")
    proc = subprocess.run(
        [sys.executable, "-m", "infra.soak", "--requests", "200", "--concurrency", "8", "--uploads", "40",
         "--deadline", "400"],
        cwd=REPO, capture_output=True, text=True, timeout=480, check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SOAK ")), None)
    assert line is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    figures = json.loads(line[5:])
    assert figures["http"]["requests"] == 200 and figures["http"]["server_errors_valid"] == 0
    assert figures["http"]["unexpected_answers"] == 0, figures["http"]["unexpected_examples"]
    assert figures["s3"]["uploads_lost"] == 0 and figures["s3"]["dead_letters"] == 0
    assert figures["s3"]["self_triggered"] == 0
    assert proc.returncode == 0, figures["failures"]
