"""The container's OCR engine, shared by the handlers.

It is created once, when a handler module is imported (Lambda's init phase), from the
engine's own ``OCR_*`` variables (:meth:`ocr_engine.config.OcrConfig.from_env`), and reused
by every invocation the container serves. The handlers use it through :class:`Engine`;
tests and the local stack install another one with :func:`set_engine`.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ocr_engine.schema import OcrResult


class Engine(Protocol):
    """What the handlers need of :class:`ocr_engine.OcrEngine`."""

    def run(self, image_bytes: bytes, direction: str | None = None) -> OcrResult:
        """OCR one encoded image; ``direction=None`` is the configured text direction."""
        ...

    def model_info(self) -> dict[str, Any]:
        """Model name, version and the like, for ``/health`` and logs."""
        ...


_lock = threading.Lock()
_engine: Engine | None = None
_load_ms: float | None = None


def set_engine(engine: Engine | None) -> None:
    """Install an engine (tests, the local stack) or clear it (``None``)."""
    global _engine, _load_ms
    with _lock:
        _engine, _load_ms = engine, None


def get_engine() -> Engine:
    """Return the container's engine, creating it on first use (thread safe)."""
    global _engine, _load_ms
    if _engine is not None:
        return _engine
    with _lock:
        if _engine is None:
            from ocr_engine import OcrConfig, OcrEngine  # heavy: numpy, cv2, onnxruntime

            start = time.perf_counter()
            _engine = OcrEngine.from_config(OcrConfig.from_env())
            _load_ms = round((time.perf_counter() - start) * 1000, 1)
    return _engine


def engine_info() -> dict[str, Any]:
    """Load time and model metadata of the current engine, for ``/health`` and logs."""
    info: dict[str, Any] = {}
    if _load_ms is not None:
        info["model_load_ms"] = _load_ms
    engine = _engine
    if engine is not None:
        info["model"] = dict(engine.model_info())
    return info


def init_engine(logger: Logger) -> None:
    """Create the engine during the init phase; a failure is logged and retried on first use."""
    try:
        get_engine()
        logger.info("engine ready", extra=engine_info())
    except Exception:  # noqa: BLE001 - surfaced again (as a 5xx / retry) on first invocation
        logger.exception("engine init failed; will retry on first invocation")
