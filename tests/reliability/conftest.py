"""Fixtures of the reliability tests: fake AWS, the real OCR engine (1 thread), moto buckets.

The engine is the real :class:`ocr_engine.engine.OcrEngine` with the committed model
(INT8 first, as deployed; else the float model). Without a model file the tiny toy
model of ``tests/support`` stands in: these tests check how inputs are *answered* (status,
time, memory), never what text is recognised.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
_here = str(Path(__file__).resolve().parent)
if _here not in sys.path:
    sys.path.insert(0, _here)
# The fake AWS environment comes from tests/conftest.py.

import moto  # noqa: E402,F401  (before any boto3 client exists)

from support.reliability import find_model  # noqa: E402


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed model, or the toy model of tests/support when no model file exists."""
    found = find_model()
    if found is not None:
        return found
    toy = REPO / "tests" / "support" / "toy_model.py"
    spec = importlib.util.spec_from_file_location("reliability_toy_model", toy)
    if spec is None or spec.loader is None:
        pytest.skip("no model file and no toy model")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as err:  # onnx missing
        pytest.skip(f"no model file and the toy model cannot be built: {err}")
    return module.build_toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture(scope="session")
def real_engine(model_path: Path) -> Any:
    from ocr_engine.config import OcrConfig
    from ocr_engine.engine import OcrEngine

    return OcrEngine.from_config(OcrConfig(model_path=model_path, threads=1))


@pytest.fixture
def use_real_engine(real_engine: Any) -> Iterator[Any]:
    """Install the real engine in the handlers' runtime for one test, then restore the old one."""
    from ocr_service.handlers import runtime

    previous = runtime._engine
    runtime.set_engine(real_engine)
    try:
        yield real_engine
    finally:
        runtime.set_engine(previous)


@pytest.fixture
def context() -> Any:
    from infra.lambda_context import LambdaContext

    return LambdaContext("reliability-test")


@pytest.fixture
def http(use_real_engine: Any) -> Any:
    """The HTTP API handler module, on the real engine."""
    from ocr_service.handlers import http_api

    return http_api
