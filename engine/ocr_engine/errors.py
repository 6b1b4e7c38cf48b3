"""Typed errors raised by the OCR core.

Every refusal is an :class:`OcrError` with a short machine-readable ``code``, an
``http_status`` that an HTTP front end can return as is, and a clear message.

Example:
    >>> try:
    ...     raise ImageTooLarge("image is 30000000 bytes; the limit is 20000000")
    ... except OcrError as err:
    ...     (err.code, err.http_status)
    ('image_too_large', 413)
"""

from __future__ import annotations


class OcrError(Exception):
    """Base class of every error the OCR core raises on purpose.

    Attributes:
        code: Short snake_case identifier, stable across versions.
        http_status: HTTP status an API should answer with.
        message: Human-readable explanation.
    """

    code: str = "ocr_error"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """Return ``{"error": code, "message": message, "status": http_status}``."""
        return {"error": self.code, "message": self.message, "status": self.http_status}


class InvalidInput(OcrError):
    """The request itself is malformed (empty body, wrong type...)."""

    code = "invalid_input"
    http_status = 400


class EmptyImage(InvalidInput):
    """Zero bytes were given."""

    code = "empty_image"
    http_status = 400


class ImageTooLarge(OcrError):
    """Too many bytes, or too many pixels (decompression-bomb guard)."""

    code = "image_too_large"
    http_status = 413


class UnsupportedImageType(OcrError):
    """The bytes are not one of the supported formats (JPEG, PNG, BMP, TIFF, WebP, GIF)."""

    code = "unsupported_image_type"
    http_status = 415


class UndecodableImage(OcrError):
    """The format is supported but the data is corrupt or truncated."""

    code = "undecodable_image"
    http_status = 422


class ImageTooSmall(OcrError):
    """The image is smaller than the configured minimum side."""

    code = "image_too_small"
    http_status = 422


class ModelError(OcrError):
    """The recognition model is missing, unreadable or breaks the model contract."""

    code = "model_error"
    http_status = 500


class ConfigError(OcrError):
    """A configuration value (or environment override) is invalid."""

    code = "config_error"
    http_status = 500
