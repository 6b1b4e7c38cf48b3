"""Per-container state shared by the Lambda handlers: settings and the OCR engine.

Both are created once, when the handler module is imported (Lambda's init phase), and
reused by every invocation served by that container.

Settings come from environment variables and are parsed once into a frozen dataclass:

============================  =========  ==================================================
variable                      default    meaning
============================  =========  ==================================================
``OCR_UPLOADS_PREFIX``        uploads/   only keys under this prefix are processed ("" = all)
``OCR_RESULTS_PREFIX``        results/   results go to ``<prefix><key>.json`` (long keys:
                                         ``<prefix>_long-keys/<sha256>.json``)
``OCR_RESULTS_BUCKET``        (empty)    write results to this bucket instead of the source
``OCR_MAX_OBJECT_BYTES``      20971520   bigger uploads get an ``image_too_large`` record
``OCR_MAX_REQUEST_BYTES``     6291456    HTTP body limit (Lambda's 6 MB synchronous payload)
``OCR_MAX_BATCH_IMAGES``      16         images per ``POST /ocr/batch``
``OCR_TRACING``               false      X-Ray tracing through Powertools Tracer
============================  =========  ==================================================

Tracing is opt-in because creating a Tracer loads the X-Ray SDK (and botocore), which adds
about 0.6 s to every cold start whether or not tracing is active.

The OCR engine itself reads its own ``OCR_*`` variables (model path, threads...) through
``ocr_engine.config``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ocr_engine.errors import ConfigError
from ocr_service.storage import longest_results_prefix

SERVICE_NAME = "ocr-service"
METRICS_NAMESPACE = "OcrService"


class Engine(Protocol):
    """What the handlers need from :class:`ocr_engine.engine.OcrEngine`."""

    def run(self, image_bytes: bytes, direction: str | None = None) -> Any: ...


@dataclass(frozen=True)
class HandlerSettings:
    """Handler-side settings (the engine has its own config)."""

    uploads_prefix: str = "uploads/"
    results_prefix: str = "results/"
    results_bucket: str | None = None
    max_object_bytes: int = 20 * 1024 * 1024
    max_request_bytes: int = 6 * 1024 * 1024
    max_batch_images: int = 16

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandlerSettings:
        env = os.environ if env is None else env

        def _int(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError as err:
                raise ConfigError(f"{name} must be an integer, got {raw!r}") from err
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
            return value

        results_prefix = env.get("OCR_RESULTS_PREFIX", cls.results_prefix)
        uploads_prefix = env.get("OCR_UPLOADS_PREFIX", cls.uploads_prefix)
        results_bucket = env.get("OCR_RESULTS_BUCKET", "").strip() or None
        if not results_bucket and not results_prefix.strip("/"):
            raise ConfigError("OCR_RESULTS_PREFIX may only be empty with a separate OCR_RESULTS_BUCKET")
        if len(results_prefix.strip("/").encode("utf-8")) > longest_results_prefix():
            raise ConfigError(f"OCR_RESULTS_PREFIX may be at most {longest_results_prefix()} bytes (UTF-8)")
        return cls(
            uploads_prefix=uploads_prefix,
            results_prefix=results_prefix,
            results_bucket=results_bucket,
            max_object_bytes=_int("OCR_MAX_OBJECT_BYTES", cls.max_object_bytes),
            max_request_bytes=_int("OCR_MAX_REQUEST_BYTES", cls.max_request_bytes),
            max_batch_images=_int("OCR_MAX_BATCH_IMAGES", cls.max_batch_images),
        )


class _NoTracer:
    """Stands in for Powertools' Tracer when tracing is off: the decorators do nothing."""

    def capture_lambda_handler(self, lambda_handler: Any = None, **_: Any) -> Any:
        return (lambda fn: fn) if lambda_handler is None else lambda_handler

    def capture_method(self, method: Any = None, **_: Any) -> Any:
        return (lambda fn: fn) if method is None else method


def make_tracer(env: Mapping[str, str] | None = None) -> Any:
    """Powertools ``Tracer`` when ``OCR_TRACING`` is true, else a no-op with the same decorators."""
    env = os.environ if env is None else env
    if env.get("OCR_TRACING", "").strip().lower() in ("1", "true", "yes", "on"):
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE_NAME)
    return _NoTracer()


_lock = threading.Lock()
_engine: Engine | None = None
_engine_info: dict[str, Any] = {}


def set_engine(engine: Engine | None) -> None:
    """Install an engine (tests, the local stack) or clear it (``None``)."""
    global _engine
    with _lock:
        _engine = engine
        _engine_info.clear()


def get_engine() -> Engine:
    """Return the container's engine, creating it on first use (thread safe)."""
    global _engine
    if _engine is not None:
        return _engine
    with _lock:
        if _engine is None:
            from ocr_engine import OcrEngine  # heavy: numpy, cv2, onnxruntime

            start = time.perf_counter()
            _engine = OcrEngine.from_config(_engine_config())
            _engine_info["model_load_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return _engine


def run_engine(image_bytes: bytes, direction: str | None = None) -> Any:
    """OCR with the container's engine; ``direction`` is passed only when one was asked for,
    so engines that take no direction (wrappers, fakes) keep working."""
    engine = get_engine()
    return engine.run(image_bytes) if direction is None else engine.run(image_bytes, direction=direction)


def engine_info() -> dict[str, Any]:
    """Load timing and model metadata of the current engine, for ``/health`` and logs."""
    info = dict(_engine_info)
    engine = _engine
    if engine is not None:
        for attr in ("model_info", "info", "describe"):
            value = getattr(engine, attr, None)
            if callable(value):
                try:
                    value = value()
                except Exception:  # noqa: BLE001 - informational only
                    value = None
            if isinstance(value, Mapping):
                info["model"] = dict(value)
                break
    return info


def _engine_config() -> Any:
    """The engine's config, read from the environment once."""
    from ocr_engine.config import OcrConfig

    return OcrConfig.from_env()


def init_engine(logger: Any) -> None:
    """Create the engine during the init phase; a failure is logged and retried on first use."""
    try:
        get_engine()
        logger.info("engine ready", extra=engine_info())
    except Exception:  # noqa: BLE001 - surfaced again (as a 5xx / retry) on first invocation
        logger.exception("engine init failed; will retry on first invocation")
