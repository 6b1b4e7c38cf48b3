"""HTTP statuses of the error codes: the one place where an error code becomes a status.

The engine's errors carry a ``code`` and a message only; the app answers (and records) each
with the status below. A code not listed takes the status of its nearest listed base class
(a new kind of :class:`~ocr_engine.errors.InvalidInput` is a 400), else 500.

Example:
    >>> from ocr_engine.errors import ImageTooLarge, UndecodableImage
    >>> http_status(ImageTooLarge("too big")), http_status(UndecodableImage("truncated"))
    (413, 422)

Documents (PDF, multi-page TIFF) add ``too_many_pages``, ``page_too_large`` and
``document_too_large`` (413, like any input over a limit), ``encrypted_document`` and ``undecodable_document`` (422: a
supported format that cannot be read). ``result_too_large`` (413) is an answer that would
not fit in Lambda's response payload.
"""

from __future__ import annotations

from ocr_engine.errors import OcrError

STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 400,
    "empty_image": 400,
    "too_many_images": 400,
    "image_too_large": 413,
    "too_many_pages": 413,
    "page_too_large": 413,
    "document_too_large": 413,
    "result_too_large": 413,
    "unsupported_image_type": 415,
    "unsupported_media_type": 415,
    "undecodable_image": 422,
    "undecodable_document": 422,
    "encrypted_document": 422,
    "image_too_small": 422,
    "model_error": 500,
    "config_error": 500,
    "ocr_error": 500,
}


def http_status(err: OcrError) -> int:
    """The HTTP status that answers ``err``."""
    for cls in type(err).__mro__:
        if issubclass(cls, OcrError) and cls.code in STATUS_BY_CODE:
            return STATUS_BY_CODE[cls.code]
    return 500
