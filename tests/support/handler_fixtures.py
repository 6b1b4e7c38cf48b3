"""Fixtures of the handler tests: the fake engine installed in the runtime, a Lambda context."""

from __future__ import annotations

import pytest

from infra.lambda_context import LambdaContext
from support.lambda_events import FakeEngine


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
    fake_engine.detectors_asked.clear()
    return fake_engine


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext("test-function")
