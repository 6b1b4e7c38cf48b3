"""The handlers' settings: one frozen model, read from the environment once (init phase).

============================  =========  ==================================================
variable                      default    meaning
============================  =========  ==================================================
``OCR_UPLOADS_PREFIX``        uploads/   only keys under this prefix are processed ("" = all)
``OCR_RESULTS_PREFIX``        results/   results go to ``<prefix><key>.json`` (long keys:
                                         ``<prefix>_long-keys/<sha256>.json``)
``OCR_RESULTS_BUCKET``        (empty)    write results to this bucket instead of the source
``OCR_MAX_IMAGE_BYTES``       20971520   the engine's image limit; bigger uploads get an
                                         ``image_too_large`` record without a download
``OCR_MAX_REQUEST_BYTES``     6291456    HTTP body limit (Lambda's 6 MB synchronous payload)
``OCR_MAX_BATCH_IMAGES``      16         images per ``POST /ocr/batch``
``OCR_MAX_HTTP_PAGES``        10         pages of a PDF / multi-page TIFF read over HTTP
``OCR_MAX_PAGES``             2000       pages of a document read from the bucket
``OCR_MAX_DOCUMENT_BYTES``    104857600  size limit of a ``.pdf`` / ``.tif`` / ``.tiff`` upload
                                         (other uploads: ``OCR_MAX_IMAGE_BYTES``)
``OCR_PAGES_PER_TASK``        20         a longer document from the bucket is read in page
                                         ranges of this size, fanned out through the queue
``OCR_QUEUE_URL``             (empty)    the queue the page-range tasks are sent to (the
                                         object function's own queue)
``OCR_OUTPUT_FORMATS``        json       formats written for each upload, comma-separated
                                         (``json``, ``text``, ``hocr``, ``alto``, ``pdf``,
                                         ``textract``); JSON is always written
``OCR_TRACING``               false      X-Ray tracing through Powertools Tracer
============================  =========  ==================================================

The engine reads its own ``OCR_*`` variables (model path, threads...) through
:mod:`ocr_engine.config`; ``OCR_MAX_IMAGE_BYTES`` is one of them, and its default is the
engine's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ocr_engine.config import OcrConfig
from ocr_engine.errors import ConfigError
from ocr_service.keys import longest_results_prefix

_TRUE = ("1", "true", "yes", "on")  # OCR_TRACING: anything else is off


def _engine_max_image_bytes() -> int:
    return OcrConfig().limits.max_bytes


@dataclass(frozen=True)
class Settings:
    """Handler-side settings (the engine has its own config)."""

    uploads_prefix: str = "uploads/"
    results_prefix: str = "results/"
    results_bucket: str | None = None
    max_image_bytes: int = field(default_factory=_engine_max_image_bytes)
    max_request_bytes: int = 6 * 1024 * 1024
    max_batch_images: int = 16
    max_http_pages: int = 10
    max_pages: int = 2000
    max_document_bytes: int = 100 * 1024 * 1024
    pages_per_task: int = 20
    queue_url: str | None = None
    output_formats: tuple[str, ...] = ("json",)
    tracing: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Parse the variables above (``os.environ`` by default).

        Raises:
            ConfigError: A value that does not parse, or a results prefix that cannot work.
        """
        env = os.environ if env is None else env

        def positive(name: str, default: int) -> int:
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
        results_bucket = env.get("OCR_RESULTS_BUCKET", "").strip() or None
        if not results_bucket and not results_prefix.strip("/"):
            raise ConfigError("OCR_RESULTS_PREFIX may only be empty with a separate OCR_RESULTS_BUCKET")
        if len(results_prefix.strip("/").encode("utf-8")) > longest_results_prefix():
            raise ConfigError(f"OCR_RESULTS_PREFIX may be at most {longest_results_prefix()} bytes (UTF-8)")
        return cls(
            uploads_prefix=env.get("OCR_UPLOADS_PREFIX", cls.uploads_prefix),
            results_prefix=results_prefix,
            results_bucket=results_bucket,
            max_image_bytes=positive("OCR_MAX_IMAGE_BYTES", _engine_max_image_bytes()),
            max_request_bytes=positive("OCR_MAX_REQUEST_BYTES", cls.max_request_bytes),
            max_batch_images=positive("OCR_MAX_BATCH_IMAGES", cls.max_batch_images),
            max_http_pages=positive("OCR_MAX_HTTP_PAGES", cls.max_http_pages),
            max_pages=positive("OCR_MAX_PAGES", cls.max_pages),
            max_document_bytes=positive("OCR_MAX_DOCUMENT_BYTES", cls.max_document_bytes),
            pages_per_task=positive("OCR_PAGES_PER_TASK", cls.pages_per_task),
            queue_url=env.get("OCR_QUEUE_URL", "").strip() or None,
            output_formats=_formats(env.get("OCR_OUTPUT_FORMATS", "")),
            tracing=env.get("OCR_TRACING", "").strip().lower() in _TRUE,
        )


# The output formats a deployment may ask for (ocr_engine.formats renders them).
OUTPUT_FORMATS = ("json", "text", "hocr", "alto", "pdf", "textract")


def _formats(raw: str) -> tuple[str, ...]:
    """``OCR_OUTPUT_FORMATS``: JSON first and always, then the others named, each once."""
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in OUTPUT_FORMATS]
    if unknown:
        raise ConfigError(f"OCR_OUTPUT_FORMATS: unknown format(s) {', '.join(unknown)}; "
                          f"known: {', '.join(OUTPUT_FORMATS)}")
    return tuple(dict.fromkeys(["json", *names]))


@functools.cache
def get_settings() -> Settings:
    """The container's settings, parsed from ``os.environ`` on first use."""
    return Settings.from_env()
