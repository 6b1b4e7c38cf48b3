"""Chinese + English OCR on CPU: image bytes in, a typed :class:`OcrResult` out.

The engine is a plain library (numpy, OpenCV, onnxruntime); the shipped recognition model
and its character LM are package data, so ``OcrEngine()`` works right after installing.

Example:
    >>> from ocr_engine import OcrEngine  # doctest: +SKIP
    >>> engine = OcrEngine()              # doctest: +SKIP
    >>> print(engine.run(open("page.png", "rb").read()).text)  # doctest: +SKIP

Stages, one module each: :mod:`~ocr_engine.image` (header checks, limits, decoding),
:mod:`~ocr_engine.preprocess`, :mod:`~ocr_engine.detection` (line finders),
:mod:`~ocr_engine.layout` (reading order), :mod:`~ocr_engine.recognition` (onnxruntime
session, CTC, LM, text clean-up), :mod:`~ocr_engine.orientation` (every 90°/180° decision),
:mod:`~ocr_engine.geometry`, :mod:`~ocr_engine.engine` (the composition),
:mod:`~ocr_engine.schema` (the result), :mod:`~ocr_engine.errors`, :mod:`~ocr_engine.config`
and :mod:`~ocr_engine.cli` (the ``ocr`` command).
"""

from ocr_engine.image import limits as _limits  # noqa: F401, I001  (OpenCV's size limits, before cv2 loads)

from ocr_engine.config import OcrConfig
from ocr_engine.engine import OcrEngine
from ocr_engine.errors import OcrError
from ocr_engine.schema import Char, DocumentResult, Line, ModelInfo, OcrResult

__version__ = "0.2.0"

__all__ = ["Char", "DocumentResult", "Line", "ModelInfo", "OcrConfig", "OcrEngine", "OcrError", "OcrResult", "__version__"]
