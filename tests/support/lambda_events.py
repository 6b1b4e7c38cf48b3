"""Helpers for the handler unit tests: fake AWS credentials, moto, a fake OCR engine.

The handler modules are imported once per test session with a fake engine installed, so
these tests exercise the adapters (events, S3, HTTP, errors) without the model. The
end-to-end tests in ``tests/e2e`` run the real engine.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "events"
# sys.path and the fake AWS environment come from tests/conftest.py.

import moto  # noqa: E402,F401  (installs botocore's stubber before any client is created)

from ocr_engine.errors import UndecodableImage, UnsupportedImageType  # noqa: E402
from ocr_engine.schema import Line, ModelInfo, OcrResult  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class FakeEngine:
    """Stands in for ``OcrEngine`` (an ``ocr_service.handlers.runtime.Engine``): classifies
    bytes instead of reading them.

    * PNG/JPEG magic and at least 64 bytes → two lines, the second one Chinese;
    * PNG/JPEG magic but shorter → ``UndecodableImage`` (422);
    * ``b"BOOM"`` prefix → ``RuntimeError`` (an unexpected, retryable failure);
    * anything else → ``UnsupportedImageType`` (415).

    It has the detectors a service with the learned model has (``detectors``); the result's
    ``detector`` is the one asked for (``opencv`` by default; ``auto`` picks ``learned``).
    """

    detectors = {"opencv": None, "learned": None, "auto": None}

    def __init__(self) -> None:
        self.calls: list[bytes] = []
        self.directions: list[str | None] = []
        self.detectors_asked: list[str | None] = []

    def run(self, image_bytes: bytes, direction: str | None = None, detector: str | None = None) -> OcrResult:
        self.calls.append(image_bytes)
        self.directions.append(direction)
        self.detectors_asked.append(detector)
        if image_bytes.startswith(b"BOOM"):
            raise RuntimeError("simulated crash")
        if not image_bytes.startswith((PNG_MAGIC, JPEG_MAGIC)):
            raise UnsupportedImageType("not a PNG, JPEG, BMP, TIFF or WebP image")
        if len(image_bytes) < 64:
            raise UndecodableImage("truncated image")
        return OcrResult(
            width=200,
            height=80,
            lines=[
                Line("Hello <b>world</b>", 0.98, [[2.0, 3.0], [150.0, 3.0], [150.0, 30.0], [2.0, 30.0]]),
                Line("你好 世界", 0.91, [[2.0, 40.0], [120.0, 40.0], [120.0, 70.0], [2.0, 70.0]]),
            ],
            model=ModelInfo(name="fake", version="0"),
            timings_ms={"total": 1.0},
            detector={None: "opencv", "auto": "learned"}.get(detector, detector or "opencv"),
        )

    def model_info(self) -> dict[str, Any]:
        return {"name": "fake", "version": "0"}


def png_bytes(width: int = 40, height: int = 20) -> bytes:
    """A real, small PNG (decodable by the real engine too)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return buf.getvalue()


def corrupt_png() -> bytes:
    return PNG_MAGIC + b"truncated"


def load_event(name: str, **subs: str) -> dict[str, Any]:
    """Read ``tests/events/<name>`` and replace ``__KEY__`` placeholders."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    for key, value in subs.items():
        text = text.replace(f"__{key.upper()}__", value)
    return json.loads(text)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
