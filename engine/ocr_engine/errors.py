"""Typed errors raised by the OCR core.

Every refusal is an :class:`OcrError` with a short machine-readable ``code`` and a clear
message. The engine knows nothing of HTTP: a front end maps codes to its own statuses.

Example:
    >>> try:
    ...     raise ImageTooLarge("image is 30000000 bytes; the limit is 20000000")
    ... except OcrError as err:
    ...     (err.code, err.message)
    ('image_too_large', 'image is 30000000 bytes; the limit is 20000000')
"""

from __future__ import annotations


class OcrError(Exception):
    """Base class of every error the OCR core raises on purpose.

    Attributes:
        code: Short snake_case identifier, stable across versions.
        message: Human-readable explanation.
    """

    code: str = "ocr_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(OcrError):
    """The request itself is malformed (empty body, wrong type...)."""

    code = "invalid_input"


class EmptyImage(InvalidInput):
    """Zero bytes were given."""

    code = "empty_image"


class ImageTooLarge(OcrError):
    """Too many bytes, or too many pixels (decompression-bomb guard)."""

    code = "image_too_large"


class UnsupportedImageType(OcrError):
    """The bytes are not one of the supported formats (JPEG, PNG, BMP, TIFF, WebP, GIF; PDF
    with the ``pdf`` extra)."""

    code = "unsupported_image_type"


class UndecodableImage(OcrError):
    """The format is supported but the data is corrupt or truncated."""

    code = "undecodable_image"


class TooManyPages(ImageTooLarge):
    """A document (PDF, multi-page TIFF) has more pages than the limit."""

    code = "too_many_pages"


class PageTooLarge(ImageTooLarge):
    """A page of a document is too large to render or decode within the limits."""

    code = "page_too_large"


class DocumentTooLarge(ImageTooLarge):
    """A document is too many bytes, or its content would inflate beyond the limits."""

    code = "document_too_large"


class EncryptedDocument(UndecodableImage):
    """A PDF is encrypted (password protected)."""

    code = "encrypted_document"


class UndecodableDocument(UndecodableImage):
    """A document is broken, truncated or malformed (a page tree that loops, a page that
    fails to render...)."""

    code = "undecodable_document"


class ImageTooSmall(OcrError):
    """The image is smaller than the configured minimum side."""

    code = "image_too_small"


class ModelError(OcrError):
    """The recognition model is missing, unreadable or breaks the model contract."""

    code = "model_error"


class ConfigError(OcrError):
    """A configuration value (or environment override) is invalid."""

    code = "config_error"
