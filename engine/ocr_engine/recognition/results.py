"""What the recogniser returns: :class:`LineResult` and its :class:`CharResult`, in crop pixels.

:func:`line_result` turns one CTC decoding into a reading of the crop: the characters'
positions go from model frames back to the crop's pixels, and the clean-up of
:mod:`~ocr_engine.recognition.text` drops the characters the text does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr_engine.recognition.ctc import CtcDecoded, line_confidence
from ocr_engine.recognition.text import dropped_characters


@dataclass(frozen=True)
class CharResult:
    """One recognised character.

    Attributes:
        char: The character.
        confidence: Its probability in ``[0, 1]``.
        x: Horizontal centre in the pixel coordinates of the crop as given
            (also when the line was read upside down).
    """

    char: str
    confidence: float
    x: float


@dataclass(frozen=True)
class LineResult:
    """The reading of one line crop.

    Attributes:
        text: Decoded text.
        confidence: Line confidence (mean of the character confidences).
        chars: Characters in reading order.
        rotated_180: True if the crop was read after turning it upside down.
    """

    text: str
    confidence: float
    chars: tuple[CharResult, ...]
    rotated_180: bool = False


def line_result(dec: CtcDecoded, crop_w: int, in_w: int, in_px_per_frame: float, rotated: bool,
                crop_h: int = 0) -> LineResult:
    """The reading of a crop ``crop_w`` pixels wide from the decoding of its model input.

    Args:
        dec: The decoding of the model input.
        crop_w: Width of the crop the input was made from (turned 180° when ``rotated``).
        in_w: Width of the model input.
        in_px_per_frame: Input pixels per model frame.
        rotated: The input was the crop turned 180°: positions are mirrored back.
        crop_h: The crop's height, the scale of a glyph (0 keeps repeated wide characters).

    The characters of :func:`~ocr_engine.recognition.text.dropped_characters` are left out;
    the confidence is then that of the characters kept.

    Example:
        >>> from ocr_engine.recognition.ctc import CtcChar
        >>> dec = CtcDecoded("ab ", 0.8, (CtcChar("a", 0.9, 0, 1), CtcChar("b", 0.7, 4, 4), CtcChar(" ", 0.8, 6, 6)))
        >>> r = line_result(dec, 40, 40, 4.0, rotated=False)
        >>> r.text, round(r.confidence, 2), [c.x for c in r.chars]
        ('ab', 0.8, [4.0, 18.0])
    """
    px_per_frame = in_px_per_frame * crop_w / max(in_w, 1)
    xs = np.array([c.frame_start + c.frame_end + 1 for c in dec.chars], np.float64) * (px_per_frame / 2)
    if rotated:
        xs = crop_w - xs
    positions = xs.tolist()
    chars = [CharResult(c.char, c.confidence, x) for c, x in zip(dec.chars, positions)]
    dropped = dropped_characters(dec.text, positions, crop_h)
    if not dropped:
        return LineResult(dec.text, dec.confidence, tuple(chars), rotated)
    kept = [c for i, c in enumerate(chars) if i not in dropped]
    conf = line_confidence([c.confidence for c in kept], np.array([])) if kept else 0.0
    return LineResult("".join(c.char for c in kept), conf, tuple(kept), rotated)
