"""Chinese + English OCR core: image bytes in, a typed :class:`~ocr_service.schema.OcrResult` out.

The core has no AWS code. Entry points (Lambda handlers, HTTP API, CLI) call
:class:`ocr_service.pipeline.OcrEngine`.

Example:
    >>> from ocr_service.pipeline import OcrEngine  # doctest: +SKIP
    >>> engine = OcrEngine.from_config()            # doctest: +SKIP
    >>> print(engine.run(open("page.png", "rb").read()).text)  # doctest: +SKIP
"""

from ocr_service import opencv_limits  # noqa: F401  (sets OpenCV's size limits before cv2 loads)

__version__ = "0.1.0"
