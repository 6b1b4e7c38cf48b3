"""The :class:`Recognizer`: line crops in, readings out.

It composes the stages of :mod:`ocr_engine.recognition`: crops to model inputs
(:mod:`~.batching`), the model (:mod:`~.session`), CTC and the LM (:mod:`~.decoding`),
positions and clean-up (:mod:`~.results`); and it reads lines again where a first reading is
weak: turned 180° (the rules are :mod:`ocr_engine.orientation`'s), or wider for dense lines.

Example:
    >>> rec = Recognizer("engine/ocr_engine/weights/crnn_zh_en.onnx", intra_op_threads=1)  # doctest: +SKIP
    >>> [r.text for r in rec.recognize([crop_a, crop_b])]  # doctest: +SKIP
    ['第一行', 'second line']
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import cv2
import numpy as np

from ocr_engine.orientation import (
    PAGE_TURNED_MARGIN,
    ROTATE_BELOW,
    ROTATE_MARGIN,
    lines_to_turn,
    mostly_turned,
    page_is_sure,
    page_sample,
    page_upside_down,
    turned_wins,
    upright_lines,
)
from ocr_engine.preprocess import to_gray, trim_to_ink_rows
from ocr_engine.recognition.batching import (
    BUCKET_WIDTH,
    LINE_STRETCH,
    MAX_BATCH,
    MAX_WIDTH,
    normalise,
    pad_batch,
    resize_to_height,
    width_batches,
)
from ocr_engine.recognition.beam import BeamSettings
from ocr_engine.recognition.ctc import CtcDecoded
from ocr_engine.recognition.decoding import LM_WEIGHT, LineDecoder, Pending
from ocr_engine.recognition.lm import CharLM
from ocr_engine.recognition.results import CharResult, LineResult, line_result
from ocr_engine.recognition.session import DISABLED_OPTIMIZERS, ModelSession

# Dense lines read with less confidence than this are read again wider (0: never).
DENSE_BELOW = 0.95
# A reading with fewer model frames per character than this is "dense": close thin letters
# (``ll``, ``in``) may have merged, since CTC needs a blank frame between two equal letters.
DENSE_FRAMES_PER_CHAR = 3.5
# A dense line read below ``dense_below`` confidence is read again this much wider.
DENSE_STRETCH = 1.3
# Crops whose text fills less than half their height are first cut to the text's rows.
TRIM_MARGINS = True


class Recognizer:
    """Recognise text-line crops with the project's ONNX CTC model.

    Owns one :class:`~ocr_engine.recognition.session.ModelSession`, created in the
    constructor; the charset and input specification come from the model's metadata.

    Args:
        model_path: Path of the ``.onnx`` file.
        intra_op_threads: onnxruntime intra-op threads (0: onnxruntime default).
        inter_op_threads: onnxruntime inter-op threads.
        max_batch: Most lines per inference call.
        bucket_width: Padded batch widths are multiples of this.
        max_width: Longer lines are squeezed to this width after resizing.
        line_stretch: Lines are widened by this factor after scaling to the model's height.
        rotate_below: Lines read with a confidence below this are read again
            turned 180°, and the better reading is kept (0 disables; see
            :mod:`ocr_engine.orientation`).
        rotate_margin: The turned reading must be this much more confident to win
            (a weak model's two guesses are both noise); see also ``one_page`` of
            :meth:`recognize`.
        dense_below: Dense lines (fewer than :data:`DENSE_FRAMES_PER_CHAR` frames per
            character) read with a confidence below this are read again
            :data:`DENSE_STRETCH` times wider, and the more confident reading is kept
            (0 disables).
        trim_margins: Crops whose text fills less than half their height are first cut to
            the text's rows (:func:`~ocr_engine.preprocess.trim_to_ink_rows`).
        lm_path: Character LM (``.npz`` from ``python -m crnn.charlm``) that corrects
            each greedy reading; ``None`` reads greedily.
        lm_weight: Weight of the LM in the correction (0: no correction, with either search).
        lm_beam: Correct with the CTC prefix search over the unsure spans of each line
            (:mod:`~ocr_engine.recognition.beam`: it may also add or drop a character, such
            as a word space; its own weight) instead of re-choosing the greedy characters:
            True (the default: :class:`~ocr_engine.recognition.beam.BeamSettings` defaults),
            settings, or False (the re-choice; ``OcrConfig.lm_beam``, ``OCR_LM_BEAM``).

    The defaults are the engine's: ``Recognizer(path)`` reads as the service does, but
    for the LM, which is read only from ``lm_path``.

    Raises:
        ModelError: If the file is missing or breaks the model contract.

    Example:
        >>> rec = Recognizer("engine/ocr_engine/weights/crnn_zh_en.onnx")  # doctest: +SKIP
        >>> rec.recognize_one(crop).text  # doctest: +SKIP
        'hello'
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
        max_batch: int = MAX_BATCH,
        bucket_width: int = BUCKET_WIDTH,
        max_width: int = MAX_WIDTH,
        line_stretch: float = LINE_STRETCH,
        rotate_below: float = ROTATE_BELOW,
        rotate_margin: float = ROTATE_MARGIN,
        dense_below: float = DENSE_BELOW,
        trim_margins: bool = TRIM_MARGINS,
        lm_path: str | os.PathLike[str] | None = None,
        lm_weight: float = LM_WEIGHT,
        lm_beam: bool | BeamSettings = True,
    ) -> None:
        self.session = ModelSession(model_path, intra_op_threads=intra_op_threads,
                                    inter_op_threads=inter_op_threads)
        self.meta = self.session.meta
        self.model_path = self.session.path
        self.max_batch = max(1, int(max_batch))
        self.bucket_width = max(self.meta.width_stride, int(bucket_width))
        self.max_width = max(8, int(max_width))
        self.line_stretch = float(line_stretch)
        self.min_width = max(8, self.meta.width_stride)
        self.rotate_below = float(rotate_below)
        self.rotate_margin = float(rotate_margin)
        self.dense_below = float(dense_below)
        self.trim_margins = bool(trim_margins)
        self.decoder = LineDecoder(
            self.meta,
            lm=CharLM.load(lm_path, self.meta.charset) if lm_path is not None else None,
            lm_weight=float(lm_weight),
            beam=BeamSettings() if lm_beam is True else (lm_beam or None),
        )

    @property
    def gated(self) -> bool:
        """Whether the model skips sure-blank frames (the gated outputs)."""
        return self.session.gated

    @property
    def lm(self) -> CharLM | None:
        """The character LM, if one corrects the readings."""
        return self.decoder.lm

    @property
    def lm_weight(self) -> float:
        """Weight of the LM's re-choice of the greedy characters."""
        return self.decoder.lm_weight

    @property
    def lm_beam(self) -> BeamSettings | None:
        """Settings of the LM's prefix search; ``None``: the LM re-chooses greedy characters."""
        return self.decoder.beam

    @property
    def input_height(self) -> int:
        """Line height the model expects (from the metadata)."""
        return self.meta.input_height

    def prepare(self, crop: np.ndarray, stretch: float | None = None) -> np.ndarray:
        """Turn one crop into the normalised ``[H, w]`` float32 model input.

        ``stretch`` widens it (default: the recogniser's ``line_stretch``).

        Example:
            >>> rec.prepare(np.full((64, 128), 255, np.uint8)).shape  # doctest: +SKIP
            (32, 64)
        """
        gray = resize_to_height(to_gray(crop), self.meta.input_height, self.min_width, self.max_width,
                                self.line_stretch if stretch is None else stretch)
        return normalise(gray, self.meta)

    def recognize(self, crops: Sequence[np.ndarray], *, one_page: bool = False) -> list[LineResult]:
        """Read a list of line crops (gray, BGR or BGRA ``uint8`` arrays).

        Args:
            crops: The line crops.
            one_page: The crops are the lines of one page, which has one orientation: when a
                sample of them reads better turned 180°
                (:func:`~ocr_engine.orientation.page_upside_down`), or most of them read upside
                down (:func:`~ocr_engine.orientation.mostly_turned`), the others are read
                turned too, and the more confident reading of each is kept.

        Returns:
            One :class:`LineResult` per crop, in input order.

        Example:
            >>> [r.text for r in rec.recognize([c1, c2])]  # doctest: +SKIP
            ['abc', '中文']
        """
        if not crops:
            return []
        grays = [to_gray(c) for c in crops]
        if self.trim_margins:
            grays = [trim_to_ink_rows(g) for g in grays]
        inputs = [self.prepare(g) for g in grays]
        results = self._read(grays, inputs, rotated=False)
        if self.rotate_below > 0:
            weak = lines_to_turn(results, self.rotate_below)
            self._retry_turned(grays, inputs, results, weak, self.rotate_margin)
            if one_page and (mostly_turned(results) or self._page_turned(grays, results)):
                self._retry_turned(grays, inputs, results, upright_lines(results), PAGE_TURNED_MARGIN)
        if self.dense_below > 0:
            self._retry_dense(grays, inputs, results)
        return results

    def recognize_one(self, crop: np.ndarray) -> LineResult:
        """Read a single line crop. See :meth:`recognize`."""
        return self.recognize([crop])[0]

    def _retry_turned(self, grays: list[np.ndarray], inputs: list[np.ndarray], results: list[LineResult],
                      which: Sequence[int], margin: float) -> None:
        """Read lines ``which`` turned 180°; keep a turned reading that wins by ``margin`` (in place)."""
        if not which:
            return
        turned = [cv2.rotate(grays[i], cv2.ROTATE_180) for i in which]
        turned_inputs = [self.prepare(g) for g in turned]
        again = self._read(turned, turned_inputs, rotated=True)
        for i, g, x, r in zip(which, turned, turned_inputs, again):
            if turned_wins(r, results[i], margin):
                results[i], grays[i], inputs[i] = r, g, x

    def _page_turned(self, grays: list[np.ndarray], results: list[LineResult]) -> bool:
        """Whether a sample of the page's lines reads better turned 180° (the page is upside down)."""
        sample = page_sample(results)
        if not sample or page_is_sure(results, sample):
            return False
        turned = [cv2.rotate(grays[i], cv2.ROTATE_180) for i in sample]
        again = self._read(turned, [self.prepare(g) for g in turned], rotated=True)
        return page_upside_down([results[i] for i in sample], again)

    def _frames_per_char(self, x: np.ndarray, read: LineResult) -> float:
        """Model frames per character of a reading of the input ``x`` (inf for no characters)."""
        return x.shape[1] / self.meta.width_stride / len(read.chars) if read.chars else math.inf

    def _retry_dense(self, grays: Sequence[np.ndarray], inputs: Sequence[np.ndarray],
                     results: list[LineResult]) -> None:
        """Read dense, hesitant lines again wider; keep the more confident reading (in place).

        ``grays[i]`` and ``inputs[i]`` are what ``results[i]`` was read from (turned 180° for
        a reading with ``rotated_180``).
        """
        dense = [i for i, r in enumerate(results) if r.confidence < self.dense_below
                 and self._frames_per_char(inputs[i], r) < DENSE_FRAMES_PER_CHAR]
        for rotated in (False, True):
            part = [i for i in dense if results[i].rotated_180 == rotated]
            if not part:
                continue
            wider = [self.prepare(grays[i], self.line_stretch * DENSE_STRETCH) for i in part]
            for i, r in zip(part, self._read([grays[i] for i in part], wider, rotated=rotated)):
                if r.confidence > results[i].confidence:
                    results[i] = r

    def _read(self, grays: Sequence[np.ndarray], inputs: Sequence[np.ndarray], rotated: bool) -> list[LineResult]:
        """Infer and convert to :class:`LineResult` in crop coordinates."""
        return [
            line_result(d, g.shape[1], x.shape[1], px, rotated, g.shape[0])
            for (d, px), g, x in zip(self._infer(inputs), grays, inputs)
        ]

    def _infer(self, inputs: Sequence[np.ndarray]) -> list[tuple[CtcDecoded, float]]:
        """Run the model over prepared inputs, batch by batch; decode each one.

        Returns:
            Per input: the decoding and the number of input pixels per output frame.
        """
        widths = [x.shape[1] for x in inputs]
        pending: list[Pending | None] = [None] * len(inputs)
        px_per_frame = [0.0] * len(inputs)
        for idx, padded in width_batches(widths, self.bucket_width, self.max_batch):
            batch = pad_batch([inputs[i] for i in idx], padded)
            for i, line in zip(idx, self.session.run(batch, [widths[i] for i in idx])):
                pending[i] = self.decoder.first(line)
                px_per_frame[i] = line.px_per_frame
        decoded = self.decoder.finish([p for p in pending if p is not None])
        return list(zip(decoded, px_per_frame))


# With the names other modules import from here (the session's and batching's).
__all__ = ["DISABLED_OPTIMIZERS", "CharResult", "LineResult", "Recognizer", "resize_to_height"]
