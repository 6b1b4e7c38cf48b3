"""Text-line recognition with the project's ONNX CRNN (CTC).

Example:
    >>> from ocr_engine.recognition import Recognizer  # doctest: +SKIP
    >>> rec = Recognizer("engine/ocr_engine/weights/crnn_zh_en.onnx")  # doctest: +SKIP
    >>> rec.recognize([gray_line_crop])[0].text  # doctest: +SKIP
    'Hello 世界'
"""

from ocr_engine.recognition.ctc import CtcChar, CtcDecoded, ctc_greedy_decode
from ocr_engine.recognition.model_meta import ModelMeta
from ocr_engine.recognition.recognizer import CharResult, LineResult, Recognizer

__all__ = [
    "CharResult",
    "CtcChar",
    "CtcDecoded",
    "LineResult",
    "ModelMeta",
    "Recognizer",
    "ctc_greedy_decode",
]
