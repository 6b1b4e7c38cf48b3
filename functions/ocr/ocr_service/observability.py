"""Logger, Metrics and Tracer of the service, made once and shared by both handlers.

Tracing is opt-in (``OCR_TRACING``): creating a Powertools Tracer loads the X-Ray SDK (and
botocore), about 0.6 s more on every cold start whether or not tracing is active; when it is
off, :data:`tracer` is a stand-in whose decorators do nothing.
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from ocr_service.settings import get_settings

SERVICE_NAME = "ocr-service"
METRICS_NAMESPACE = "OcrService"


class NoTracer:
    """Stands in for Powertools' Tracer when tracing is off: the decorators do nothing."""

    def capture_lambda_handler(self, lambda_handler: Any = None, **_: Any) -> Any:
        return (lambda fn: fn) if lambda_handler is None else lambda_handler

    def capture_method(self, method: Any = None, **_: Any) -> Any:
        return (lambda fn: fn) if method is None else method


def make_tracer(enabled: bool) -> Any:
    """Powertools ``Tracer`` when ``enabled``, else a :class:`NoTracer` with the same decorators."""
    if enabled:
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE_NAME)
    return NoTracer()


logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
tracer = make_tracer(get_settings().tracing)
# Requests such as GET /health publish no metric; that is expected, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
