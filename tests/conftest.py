"""Test-wide setup, before any test module is imported: never let a test reach real AWS.

Fake credentials, a fixed region, no endpoint override or profile, and Powertools' names.
Tests that talk to the local moto server pass its endpoint explicitly.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "functions" / "ocr"):
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
