"""Text-line recognition with the project's ONNX CRNN (CTC).

Example:
    >>> from ocr_service.recognition import Recognizer  # doctest: +SKIP
    >>> rec = Recognizer("models/weights/crnn_zh_en.onnx")  # doctest: +SKIP
    >>> rec.recognize([gray_line_crop])[0].text  # doctest: +SKIP
    'Hello 世界'
"""

from ocr_service.recognition.ctc import CtcChar, CtcDecoded, ctc_greedy_decode
from ocr_service.recognition.model_meta import ModelMeta
from ocr_service.recognition.recognizer import CharResult, LineResult, Recognizer

__all__ = [
    "CharResult",
    "CtcChar",
    "CtcDecoded",
    "LineResult",
    "ModelMeta",
    "Recognizer",
    "ctc_greedy_decode",
]
