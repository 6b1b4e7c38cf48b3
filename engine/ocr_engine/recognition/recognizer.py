"""The :class:`Recognizer`: one onnxruntime session, batched line recognition.

Example:
    >>> rec = Recognizer("engine/ocr_engine/weights/crnn_zh_en.onnx", intra_op_threads=1)  # doctest: +SKIP
    >>> [r.text for r in rec.recognize([crop_a, crop_b])]  # doctest: +SKIP
    ['第一行', 'second line']
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocr_engine.errors import ModelError
from ocr_engine.preprocess import to_gray, trim_to_ink_rows
from ocr_engine.recognition.beam import BeamSettings, BeamSpans, beam_apply, beam_spans
from ocr_engine.recognition.ctc import (
    CtcDecoded,
    best_path,
    decode_best_path,
    gated_best_path,
    line_confidence,
)
from ocr_engine.recognition.lm import CharLM, LmCandidates, lm_apply, lm_candidates
from ocr_engine.recognition.model_meta import ModelMeta

# The INT8 model keeps its first convolution and max-pool float (see models/crnn/quantize.py);
# this onnxruntime pass would move the next QuantizeLinear above that max-pool, onto a slow
# UINT8 NCHW kernel (measured: batch of 8 lines of 1344 px, 1 thread, ~20 % slower).
DISABLED_OPTIMIZERS = ("QDQPropagationTransformer",)
# A reading with fewer model frames per character than this is "dense": close thin letters
# (``ll``, ``in``) may have merged, since CTC needs a blank frame between two equal letters.
DENSE_FRAMES_PER_CHAR = 3.5
# A dense line read below ``dense_below`` confidence is read again this much wider.
DENSE_STRETCH = 1.3
# The outputs of a model with a blank gate (see CONTRACTS.md); otherwise one output, ``probs``.
GATED_OUTPUTS = ("frame_probs", "frame_index", "blank_prob")
# One line of a batch: its input index, the probability rows of its classified frames, their frame
# numbers (None: every frame), best class and its probability per frame, frames in the batch.
LineFrames = tuple[int, np.ndarray, "np.ndarray | None", np.ndarray, np.ndarray, int]


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


def resize_to_height(gray: np.ndarray, height: int, min_width: int, max_width: int,
                     stretch: float = 1.0) -> np.ndarray:
    """Resize a line to ``height`` keeping its aspect ratio (times ``stretch``), width clamped.

    Example:
        >>> resize_to_height(np.zeros((64, 100), np.uint8), 32, 8, 1000).shape
        (32, 50)
        >>> resize_to_height(np.zeros((64, 100), np.uint8), 32, 8, 1000, stretch=1.2).shape
        (32, 60)
    """
    h, w = gray.shape[:2]
    new_w = int(round(w * stretch * height / max(h, 1)))
    new_w = min(max(new_w, min_width), max_width)
    if (h, w) == (height, new_w):
        return gray
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(gray, (new_w, height), interpolation=interp)


_SPACES = re.compile(r"\s+")


def _full_width(ch: str, category: str) -> bool:
    return unicodedata.category(ch) == category and unicodedata.east_asian_width(ch) in ("F", "W")


def stray_spaces(text: str) -> set[int]:
    """Positions of the spaces a reading should not have.

    Spaces at either end (blank margins beside the text can read as one), and spaces just
    inside full-width brackets, whose glyphs carry their own blank half (``（ 成品包材）``).
    Spaces outside brackets stay: mixed text often has them (``（成品） ODM``).

    Example:
        >>> sorted(stray_spaces(" （ 成品包材） a b "))
        [0, 2, 12]
    """
    stray: set[int] = set()
    for run in _SPACES.finditer(text):
        a, b = run.span()
        if a == 0 or b == len(text) or _full_width(text[a - 1], "Ps") or _full_width(text[b], "Pe"):
            stray.update(range(a, b))
    return stray


# Two equal wide (CJK) characters whose centres are closer than this many crop heights are
# one glyph read twice (a real pair such as 谢谢 stands about a glyph width, ~0.7 crop heights, apart).
SPLIT_GLYPH = 0.4


def split_glyph_repeats(text: str, xs: Sequence[float], height: float) -> set[int]:
    """Positions of characters that repeat the wide character before them within one glyph.

    CTC can emit a wide character twice, once at each side of its glyph (``回落落到``); the
    two readings stand a fraction of a glyph apart, where a real doubled character (``谢谢``)
    stands a whole glyph further.

    Example:
        >>> sorted(split_glyph_repeats("回落落到谢谢", [10, 24, 27, 40, 55, 70], 20))
        [2]
    """
    return {i for i in range(1, len(text))
            if text[i] == text[i - 1] and text[i].isalpha() and unicodedata.east_asian_width(text[i]) == "W"
            and abs(xs[i] - xs[i - 1]) < SPLIT_GLYPH * height}


class Recognizer:
    """Recognise text-line crops with the project's ONNX CTC model.

    Owns one ``onnxruntime.InferenceSession`` created once in the constructor.
    Reads the charset and input specification from the model metadata. Lines
    are grouped into batches of similar width (width buckets); each line is
    decoded only over its own frames, so padding never adds characters.

    Args:
        model_path: Path of the ``.onnx`` file.
        intra_op_threads: onnxruntime intra-op threads (0: onnxruntime default).
        inter_op_threads: onnxruntime inter-op threads.
        max_batch: Most lines per inference call.
        bucket_width: Padded batch widths are multiples of this.
        max_width: Longer lines are squeezed to this width after resizing.
        line_stretch: Lines are widened by this factor after scaling to the model's height.
        rotate_below: Lines read with a confidence below this are read again
            turned 180°, and the better reading is kept (0 disables).
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
            True (:class:`~ocr_engine.recognition.beam.BeamSettings` defaults), settings, or
            False (the default; ``OcrConfig.lm_beam``, ``OCR_LM_BEAM``).

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
        max_batch: int = 8,
        bucket_width: int = 64,
        max_width: int = 2400,
        line_stretch: float = 1.0,
        rotate_below: float = 0.0,
        rotate_margin: float = 0.1,
        dense_below: float = 0.0,
        trim_margins: bool = True,
        lm_path: str | os.PathLike[str] | None = None,
        lm_weight: float = 0.35,
        lm_beam: bool | BeamSettings = False,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"recognition model not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(0, int(intra_op_threads))
        opts.inter_op_num_threads = max(0, int(inter_op_threads))
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(path),
                sess_options=opts,
                providers=["CPUExecutionProvider"],
                disabled_optimizers=list(DISABLED_OPTIMIZERS),
            )
        except Exception as err:  # onnxruntime raises several unrelated types
            raise ModelError(f"cannot load recognition model {path}: {err}") from err
        self.meta = ModelMeta.from_mapping(self._session.get_modelmeta().custom_metadata_map)
        if self.meta.input_channels != 1:
            raise ModelError("only 1-channel (grayscale) recognition models are supported")
        inputs = self._session.get_inputs()
        outputs = [o.name for o in self._session.get_outputs()]
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError("recognition model must have one input and a probs output")
        self._input_name = inputs[0].name
        self.gated = all(name in outputs for name in GATED_OUTPUTS)
        self._output_names = (list(GATED_OUTPUTS) if self.gated
                              else [next((o for o in outputs if o == "probs"), outputs[0])])
        self.model_path = path
        self.max_batch = max(1, int(max_batch))
        self.bucket_width = max(self.meta.width_stride, int(bucket_width))
        self.max_width = max(8, int(max_width))
        self.line_stretch = float(line_stretch)
        self.min_width = max(8, self.meta.width_stride)
        self.rotate_below = float(rotate_below)
        self.rotate_margin = float(rotate_margin)
        self.dense_below = float(dense_below)
        self.trim_margins = bool(trim_margins)
        self.lm = CharLM.load(lm_path, self.meta.charset) if lm_path is not None else None
        self.lm_weight = float(lm_weight)
        self.lm_beam = BeamSettings() if lm_beam is True else (lm_beam or None)

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
        x = gray.astype(np.float32) * np.float32(1.0 / 255.0)
        return (x - np.float32(self.meta.norm_mean)) / np.float32(self.meta.norm_std)

    def _batches(self, widths: Sequence[int]) -> list[tuple[list[int], int]]:
        """Group line indices by padded width: ``[(indices, padded_width), ...]``."""
        order = sorted(range(len(widths)), key=lambda i: widths[i])
        out: list[tuple[list[int], int]] = []
        for i in order:
            padded = int(math.ceil(widths[i] / self.bucket_width) * self.bucket_width)
            if out and out[-1][1] == padded and len(out[-1][0]) < self.max_batch:
                out[-1][0].append(i)
            else:
                out.append(([i], padded))
        return out

    def _infer(self, inputs: Sequence[np.ndarray]) -> list[tuple[CtcDecoded, float]]:
        """Run the model over prepared inputs; decode each one.

        Returns:
            Per input: the decoding and the number of input pixels per output frame.
        """
        widths = [x.shape[1] for x in inputs]
        decoded: list[tuple[CtcDecoded, float] | None] = [None] * len(inputs)
        use_lm = self.lm is not None and self.meta.blank_index == 0 and self.lm_weight > 0
        use_beam = use_lm and self.lm_beam is not None
        candidates: list[LmCandidates | None] = [None] * len(inputs)
        spans: list[BeamSpans | None] = [None] * len(inputs)
        for idx, padded in self._batches(widths):
            batch = np.stack(
                [np.pad(inputs[i], ((0, 0), (0, padded - widths[i])), mode="edge") for i in idx]
            )[:, None, :, :]
            out = self._session.run(self._output_names, {self._input_name: batch})
            lines = (self._gated_lines(out, idx, widths, padded) if self.gated
                     else self._dense_lines(out[0], idx, widths, padded))
            for i, rows, frames, best, best_p, t_out in lines:
                dec = decode_best_path(best, best_p, self.meta.charset, self.meta.blank_index)
                if use_beam:
                    spans[i] = beam_spans(rows, dec, self.lm, self.lm_beam, frames=frames, best=best, best_p=best_p)
                elif use_lm:
                    candidates[i] = lm_candidates(rows, dec, self.lm, frames=frames)
                decoded[i] = (dec, padded / t_out)
        done = [d for d in decoded if d is not None]
        if use_beam:  # one search over the unsure spans of all lines (kept small, like the candidates)
            fixed = beam_apply([(d, sp) for (d, _), sp in zip(done, spans)], self.lm, self.lm_beam)
            done = [(f, px) for f, (_, px) in zip(fixed, done)]
        elif use_lm:  # one LM search over all lines (kept small: the candidates, not the probs)
            fixed = lm_apply([(d, c) for (d, _), c in zip(done, candidates)], self.lm, self.lm_weight)
            done = [(f, px) for f, (_, px) in zip(fixed, done)]
        return done

    def _check_classes(self, probs: np.ndarray, ndim: int) -> None:
        if probs.ndim != ndim or probs.shape[-1] != self.meta.num_classes:
            raise ModelError(
                f"model output shape {probs.shape} does not match {self.meta.num_classes} classes"
            )

    @staticmethod
    def _valid_frames(width: int, t_out: int, padded: int) -> int:
        """Frames of a line ``width`` pixels wide in a batch padded to ``padded`` (``t_out`` frames)."""
        return min(t_out, max(1, int(math.ceil(width * t_out / padded))))

    def _dense_lines(self, probs: np.ndarray, idx: list[int], widths: Sequence[int],
                     padded: int) -> Iterator[LineFrames]:
        """Per line of a ``probs [N, T, C]`` batch: ``(i, rows, None, best, best_p, T)``."""
        self._check_classes(probs, 3)
        t_out = probs.shape[1]
        for row, i in enumerate(idx):
            frames = probs[row, :self._valid_frames(widths[i], t_out, padded)]
            yield (i, frames, None, *best_path(frames), t_out)

    def _gated_lines(self, out: list[np.ndarray], idx: list[int], widths: Sequence[int],
                     padded: int) -> Iterator[LineFrames]:
        """Per line of a gated batch: ``(i, rows, frames, best, best_p, T)``, rows of its classified frames."""
        probs, index, blank = out
        self._check_classes(probs, 2)
        t_out = blank.shape[1]
        for row, i in enumerate(idx):
            valid = self._valid_frames(widths[i], t_out, padded)
            lo, hi = np.searchsorted(index, [row * t_out, row * t_out + valid])
            rows, frames = probs[lo:hi], index[lo:hi] - row * t_out
            yield (i, rows, frames, *gated_best_path(rows, frames, blank[row, :valid], self.meta.blank_index), t_out)

    @staticmethod
    def _to_line(
        dec: CtcDecoded, crop_w: int, in_w: int, in_px_per_frame: float, rotated: bool, crop_h: int = 0
    ) -> LineResult:
        """Map frame positions back to crop pixels, without :func:`stray_spaces` and
        :func:`split_glyph_repeats` (``crop_h``: the crop's height; 0 skips those).

        (The confidence is then that of the characters kept.)
        """
        px_per_frame = in_px_per_frame * crop_w / max(in_w, 1)
        xs = np.array([c.frame_start + c.frame_end + 1 for c in dec.chars], np.float64) * (px_per_frame / 2)
        if rotated:
            xs = crop_w - xs
        positions = xs.tolist()
        chars = [CharResult(c.char, c.confidence, x) for c, x in zip(dec.chars, positions)]
        dropped = stray_spaces(dec.text) | split_glyph_repeats(dec.text, positions, crop_h)
        if not dropped:
            return LineResult(dec.text, dec.confidence, tuple(chars), rotated)
        kept = [c for i, c in enumerate(chars) if i not in dropped]
        conf = line_confidence([c.confidence for c in kept], np.array([])) if kept else 0.0
        return LineResult("".join(c.char for c in kept), conf, tuple(kept), rotated)

    def recognize(self, crops: Sequence[np.ndarray], *, one_page: bool = False) -> list[LineResult]:
        """Read a list of line crops (gray, BGR or BGRA ``uint8`` arrays).

        Args:
            crops: The line crops.
            one_page: The crops are the lines of one page, which has one orientation: when
                most of them read upside down, the others are read turned too, and the more
                confident reading of each is kept.

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
            low = [i for i, r in enumerate(results) if r.confidence < self.rotate_below]
            self._retry_turned(grays, inputs, results, low, self.rotate_margin)
            if one_page and self._mostly_turned(results):
                rest = [i for i, r in enumerate(results) if not r.rotated_180]
                self._retry_turned(grays, inputs, results, rest, 0.0)
        if self.dense_below > 0:
            self._retry_dense(grays, inputs, results)
        return results

    @staticmethod
    def _mostly_turned(results: Sequence[LineResult]) -> bool:
        """Whether at least two, and most, of the lines read came out upside down."""
        read = [r for r in results if r.text]
        turned = sum(r.rotated_180 for r in read)
        return turned >= 2 and 2 * turned > len(read)

    def _retry_turned(self, grays: list[np.ndarray], inputs: list[np.ndarray], results: list[LineResult],
                      which: Sequence[int], margin: float) -> None:
        """Read lines ``which`` turned 180°; keep a turned reading ``margin`` more confident (in place)."""
        if not which:
            return
        turned = [cv2.rotate(grays[i], cv2.ROTATE_180) for i in which]
        turned_inputs = [self.prepare(g) for g in turned]
        again = self._read(turned, turned_inputs, rotated=True)
        for i, g, x, r in zip(which, turned, turned_inputs, again):
            if r.text and r.confidence > results[i].confidence + margin:
                results[i], grays[i], inputs[i] = r, g, x

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

    def _read(
        self, grays: Sequence[np.ndarray], inputs: Sequence[np.ndarray], rotated: bool
    ) -> list[LineResult]:
        """Infer and convert to :class:`LineResult` in crop coordinates."""
        decoded = self._infer(inputs)
        return [
            self._to_line(d, g.shape[1], x.shape[1], px, rotated, g.shape[0])
            for (d, px), g, x in zip(decoded, grays, inputs)
        ]

    def recognize_one(self, crop: np.ndarray) -> LineResult:
        """Read a single line crop. See :meth:`recognize`."""
        return self.recognize([crop])[0]
