"""Fixtures for the handler unit tests (helpers live in fn_support.py)."""

from __future__ import annotations

import pytest
from fn_support import FakeEngine

from infra.lambda_context import LambdaContext


@pytest.fixture(scope="session")
def fake_engine() -> FakeEngine:
    from ocr_service.handlers import runtime

    engine = FakeEngine()
    runtime.set_engine(engine)
    return engine


@pytest.fixture
def engine(fake_engine: FakeEngine) -> FakeEngine:
    fake_engine.calls.clear()
    fake_engine.directions.clear()
    return fake_engine


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("test-function")
