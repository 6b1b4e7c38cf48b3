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

from ocr_engine.errors import InvalidInput
from ocr_engine.schema import OcrResult


class Engine(Protocol):
    """What the handlers need of :class:`ocr_engine.OcrEngine`.

    The handlers pass ``detector`` (to ``run`` and ``run_document``) only when a request chose
    one (see :func:`chosen_detector`), so an engine without that setting serves the others.
    """

    def run(self, image_bytes: bytes, direction: str | None = None, detector: str | None = None) -> OcrResult:
        """OCR one encoded image; ``direction=None`` is the configured text direction,
        ``detector=None`` the configured line finder."""
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


def check_request_detector(value: str, *, name: str = "detector") -> str:
    """``value`` if a request may choose it (``opencv``, ``learned``, ``auto``) and the
    container's engine has it (an engine that lists no ``detectors`` is not asked).

    Checked before the upload is read, so that neither a batch nor a fanned-out document
    fails item by item for it.

    Raises:
        InvalidInput: Another value (the message names the allowed ones), or a detector this
            engine lacks (the learned one without its model file).
    """
    from ocr_engine.config import check_detector

    check_detector(value, name=name)
    available = getattr(get_engine(), "detectors", None)
    if available is not None and value not in available:
        choices = ", ".join(d for d in sorted(available) if d != "whole")  # whole: configuration only
        raise InvalidInput(f"{name} {value!r} is not available here (available: {choices})")
    return value


def chosen_detector(detector: str | None) -> dict[str, str]:
    """The keyword a handler adds to ``run`` / ``run_document``: ``{"detector": detector}`` when
    the request chose one, else none (the engine's configured detector)."""
    return {} if detector is None else {"detector": detector}


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
