"""Every third-party import is declared in pyproject.toml, and every declared package is used.

deptry reads ``[tool.deptry]`` in pyproject.toml: it scans the packages, the local stack,
the model pipeline and the tests, maps each import to the distribution that provides it in
this environment, and fails on an undeclared import (DEP001), a declared package nothing
imports (DEP002), or a package used only because another one pulls it in (DEP003).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_import_is_declared_and_every_declaration_used() -> None:
    result = subprocess.run([sys.executable, "-m", "deptry", "--no-ansi", "."],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout + result.stderr
