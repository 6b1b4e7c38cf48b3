"""Test-wide setup, before any test module is imported: never let a test reach real AWS.

Fake credentials, a fixed region, no endpoint override or profile, and Powertools' names.
Tests that talk to the local moto server pass its endpoint explicitly.
"""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The repo (infra, tools) and tests/ (the shared helpers: ``from support.x import ...``); the
# packages themselves are installed (requirements/dev.txt).
for _path in (REPO, REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "ocr-service",
    "POWERTOOLS_METRICS_NAMESPACE": "OcrService",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


from support.toy_model import build_toy_model  # noqa: E402  (after the paths above)


@pytest.fixture(scope="session")
def toy_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ONNX CTC model that follows the model contract (see toy_model.py)."""
    return build_toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture(scope="session")
def gated_toy_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy model with the blank-gate outputs: only frames it is not sure are blank are classified."""
    return build_toy_model(tmp_path_factory.mktemp("toy") / "toy_gated.onnx", gated=True)
