"""Shared fixtures for the OCR core tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "functions" / "ocr") not in sys.path:
    sys.path.insert(0, str(REPO / "functions" / "ocr"))

from toy_model import build_toy_model  # noqa: E402


@pytest.fixture(scope="session")
def toy_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ONNX CTC model that follows the model contract (see toy_model.py)."""
    return build_toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture(scope="session")
def gated_toy_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy model with the blank-gate outputs: only frames it is not sure are blank are classified."""
    return build_toy_model(tmp_path_factory.mktemp("toy") / "toy_gated.onnx", gated=True)
