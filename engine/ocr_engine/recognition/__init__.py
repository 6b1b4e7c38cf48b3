"""Text-line recognition with the project's ONNX CRNN (CTC).

One module per stage: :mod:`~.session` (the onnxruntime session and the model contract),
:mod:`~.batching` (crops to model inputs), :mod:`~.ctc`, :mod:`~.lm` and :mod:`~.beam`
(decoding, composed by :mod:`~.decoding`), :mod:`~.text` and :mod:`~.results` (clean-up and
positions), and :mod:`~.recognizer`, which composes them; :mod:`~.calibration` turns a
reading's character confidences into the chance that the line is right (what the engine reports).

Example:
    >>> from ocr_engine.recognition import Recognizer  # doctest: +SKIP
    >>> rec = Recognizer("engine/ocr_engine/weights/crnn_zh_en.onnx")  # doctest: +SKIP
    >>> rec.recognize([gray_line_crop])[0].text  # doctest: +SKIP
    'Hello 世界'
"""

from ocr_engine.recognition.ctc import CtcChar, CtcDecoded, ctc_greedy_decode
from ocr_engine.recognition.model_meta import ModelMeta
from ocr_engine.recognition.recognizer import Recognizer
from ocr_engine.recognition.results import CharResult, LineResult
from ocr_engine.recognition.session import ModelSession

__all__ = [
    "CharResult",
    "CtcChar",
    "CtcDecoded",
    "LineResult",
    "ModelMeta",
    "ModelSession",
    "Recognizer",
    "ctc_greedy_decode",
]
