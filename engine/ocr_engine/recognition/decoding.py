"""From the model's frame probabilities to text: greedy CTC, then the character LM's correction.

The LM searches every line of a call at once, yet the probabilities of a batch are gone once
its lines are decoded; so decoding has two passes: :meth:`LineDecoder.first` for each line as
its batch comes out of the model (the greedy reading, plus the little the LM needs: candidate
characters, or the unsure spans for the prefix search), and :meth:`LineDecoder.finish` over
all the lines.

Example:
    >>> import numpy as np
    >>> from ocr_engine.recognition.ctc import best_path
    >>> from ocr_engine.recognition.model_meta import ModelMeta
    >>> from ocr_engine.recognition.session import LineFrames
    >>> probs = np.array([[0.1, 0.9, 0.0], [0.9, 0.1, 0.0], [0.2, 0.0, 0.8]])
    >>> decoder = LineDecoder(ModelMeta(charset=("a", "b")))
    >>> [d.text for d in decoder.finish([decoder.first(LineFrames(probs, None, *best_path(probs), 4.0))])]
    ['ab']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ocr_engine.recognition.beam import BeamSettings, BeamSpans, beam_apply, beam_spans
from ocr_engine.recognition.ctc import CtcDecoded, decode_best_path
from ocr_engine.recognition.lm import CharLM, LmCandidates, lm_apply, lm_candidates
from ocr_engine.recognition.model_meta import ModelMeta
from ocr_engine.recognition.session import LineFrames

# Weight of the character LM against the model when it re-chooses unsure characters.
LM_WEIGHT = 0.35

# A line after the first pass: its greedy reading and what the LM needs of it (None: nothing).
Pending = tuple[CtcDecoded, "LmCandidates | BeamSpans | None"]


@dataclass(frozen=True)
class LineDecoder:
    """Greedy CTC decoding with an optional LM correction.

    Attributes:
        meta: The model's metadata (charset, blank class).
        lm: Character LM; ``None``: greedy readings only.
        lm_weight: Weight of the LM's re-choice of the greedy characters (0: no correction,
            with either search).
        beam: Settings of the LM's CTC prefix search over unsure spans, used instead of the
            re-choice (it may add or drop a character); ``None``: the re-choice.
    """

    meta: ModelMeta
    lm: CharLM | None = None
    lm_weight: float = LM_WEIGHT
    beam: BeamSettings | None = None

    @property
    def uses_lm(self) -> bool:
        """Whether the LM corrects readings (it needs the blank to be class 0)."""
        return self.lm is not None and self.meta.blank_index == 0 and self.lm_weight > 0

    def first(self, line: LineFrames) -> Pending:
        """The greedy reading of one line, and what the LM needs of its frames."""
        dec = decode_best_path(line.best, line.best_p, self.meta.charset, self.meta.blank_index)
        if self.lm is None or not self.uses_lm:
            return dec, None
        if self.beam is not None:
            return dec, beam_spans(line.rows, dec, self.lm, self.beam, frames=line.frames,
                                   best=line.best, best_p=line.best_p)
        return dec, lm_candidates(line.rows, dec, self.lm, frames=line.frames)

    def finish(self, pending: Sequence[Pending]) -> list[CtcDecoded]:
        """The readings of all lines, corrected by one LM search over all of them."""
        if self.lm is None or not self.uses_lm:
            return [dec for dec, _ in pending]
        if self.beam is not None:
            return beam_apply(pending, self.lm, self.beam)
        return lm_apply(pending, self.lm, self.lm_weight)
