"""The recognition model behind one onnxruntime session: loading, the model contract, batches.

:class:`ModelSession` knows the model file, not lines or text: it checks the metadata, inputs
and outputs (CONTRACTS.md, "The recognition model file"), runs a padded batch and gives back,
per line, the class probabilities of that line's own frames, for either output format:
``probs`` (every frame), or the gated outputs of a model that skips sure-blank frames.

Example:
    >>> session = ModelSession("engine/ocr_engine/weights/crnn_zh_en.onnx")  # doctest: +SKIP
    >>> session.meta.input_height, session.gated  # doctest: +SKIP
    (32, True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from ocr_engine.errors import ModelError
from ocr_engine.recognition.ctc import best_path, gated_best_path
from ocr_engine.recognition.model_meta import ModelMeta

# The INT8 model keeps its first convolution and max-pool float (see models/crnn/quantize.py);
# this onnxruntime pass would move the next QuantizeLinear above that max-pool, onto a slow
# UINT8 NCHW kernel (measured: batch of 8 lines of 1344 px, 1 thread, ~20 % slower).
DISABLED_OPTIMIZERS = ("QDQPropagationTransformer",)
# The outputs of a model with a blank gate (see CONTRACTS.md); otherwise one output, ``probs``.
GATED_OUTPUTS = ("frame_probs", "frame_index", "blank_prob")


class LineFrames(NamedTuple):
    """The model's output for one line of a batch, over that line's own frames.

    Attributes:
        rows: Class probabilities of its classified frames (every frame without a gate).
        frames: Their frame numbers; ``None``: every frame, in order.
        best: Best class per frame.
        best_p: Its probability.
        px_per_frame: Input pixels per output frame.
    """

    rows: np.ndarray
    frames: np.ndarray | None
    best: np.ndarray
    best_p: np.ndarray
    px_per_frame: float


def _valid_frames(width: int, t_out: int, padded: int) -> int:
    """Frames of a line ``width`` pixels wide in a batch padded to ``padded`` (``t_out`` frames)."""
    return min(t_out, max(1, int(math.ceil(width * t_out / padded))))


class ModelSession:
    """One ``onnxruntime.InferenceSession`` of a recognition model, created once.

    Args:
        model_path: The ``.onnx`` file.
        intra_op_threads: onnxruntime intra-op threads (0: onnxruntime's default).
        inter_op_threads: onnxruntime inter-op threads.

    Attributes:
        path: The model file.
        meta: Its metadata (charset, input height, normalisation...).
        gated: Whether the model has the gated outputs.

    Raises:
        ModelError: If the file is missing, does not load, or breaks the model contract.
    """

    def __init__(self, model_path: str | os.PathLike[str], *, intra_op_threads: int = 1,
                 inter_op_threads: int = 1) -> None:
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
        self.path = path

    def run(self, batch: np.ndarray, widths: Sequence[int]) -> list[LineFrames]:
        """Run a ``[N, 1, H, W]`` batch whose lines are ``widths`` pixels wide before padding.

        Raises:
            ModelError: If the output does not have one class per charset entry and the blank.
        """
        out = self._session.run(self._output_names, {self._input_name: batch})
        padded = batch.shape[-1]
        lines = self._gated_lines(out, widths, padded) if self.gated else self._dense_lines(out[0], widths, padded)
        return list(lines)

    def _check_classes(self, probs: np.ndarray, ndim: int) -> None:
        if probs.ndim != ndim or probs.shape[-1] != self.meta.num_classes:
            raise ModelError(
                f"model output shape {probs.shape} does not match {self.meta.num_classes} classes"
            )

    def _dense_lines(self, probs: np.ndarray, widths: Sequence[int], padded: int) -> Iterator[LineFrames]:
        """Per line of a ``probs [N, T, C]`` batch."""
        self._check_classes(probs, 3)
        t_out = probs.shape[1]
        for row, width in enumerate(widths):
            frames = probs[row, :_valid_frames(width, t_out, padded)]
            yield LineFrames(frames, None, *best_path(frames), padded / t_out)

    def _gated_lines(self, out: list[np.ndarray], widths: Sequence[int], padded: int) -> Iterator[LineFrames]:
        """Per line of a gated batch: ``frame_probs [K, C]`` of the classified frames, their
        ``frame_index [K]`` in the flattened batch, ``blank_prob [N, T]``."""
        probs, index, blank = out
        self._check_classes(probs, 2)
        t_out = blank.shape[1]
        for row, width in enumerate(widths):
            valid = _valid_frames(width, t_out, padded)
            lo, hi = np.searchsorted(index, [row * t_out, row * t_out + valid])
            rows, frames = probs[lo:hi], index[lo:hi] - row * t_out
            best, best_p = gated_best_path(rows, frames, blank[row, :valid], self.meta.blank_index)
            yield LineFrames(rows, frames, best, best_p, padded / t_out)
