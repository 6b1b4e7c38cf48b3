"""A tiny hand-built ONNX model that follows the recognition-model contract.

Each output frame looks at a 4-pixel-wide column band and at the mean of its top
and bottom halves (normalised: white = 1, black = -1):

- both halves white  -> blank
- top dark only      -> "a" (confident)
- both halves dark   -> "b" (confident)
- bottom dark only   -> "c" (weak, about 0.58): an upside-down "a"

so tests can draw lines with known text and orientation. ``gated=True`` builds the same model
with the blank-gate outputs of the contract (``frame_probs``, ``frame_index``, ``blank_prob``):
frames whose blank probability is at least ``gate`` are not classified.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

K = 10.0
CHARSET = ["a", "b", "c"]


def build_toy_model(path: Path, *, with_charset: bool = True, height: int = 32, gated: bool = False,
                    gate: float = 0.5) -> Path:
    """Write the toy model to ``path`` and return it (skips the test without ``onnx``)."""
    import pytest

    onnx = pytest.importorskip("onnx", reason="onnx (dev extra) builds the toy model")
    from onnx import TensorProto, helper, numpy_helper

    weights = np.array(
        [
            [K / 2, -K / 2, -K / 2, 0.05 * K],  # feature: top mean
            [K / 2, K / 2, -K / 2, -0.05 * K],  # feature: bottom mean
        ],
        dtype=np.float32,
    )
    nodes = [
        helper.make_node(
            "AveragePool", ["image"], ["pooled"], kernel_shape=[height // 2, 4], strides=[height // 2, 4]
        ),
        helper.make_node("Squeeze", ["pooled", "axis1"], ["sq"]),
        helper.make_node("Transpose", ["sq"], ["feat"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["feat", "W"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=2),
    ]
    classes = len(CHARSET) + 1
    outputs = [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", "T", classes])]
    initializer = [
        numpy_helper.from_array(weights, "W"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    if gated:
        nodes += [
            helper.make_node("Gather", ["probs", "zero"], ["blank_prob"], axis=2),  # [N, T]
            helper.make_node("Less", ["blank_prob", "gate"], ["keep"]),
            helper.make_node("Reshape", ["keep", "flat1"], ["keep_flat"]),
            helper.make_node("NonZero", ["keep_flat"], ["nz"]),
            helper.make_node("Squeeze", ["nz", "axis0"], ["frame_index"]),
            helper.make_node("Reshape", ["probs", "flat2"], ["probs_flat"]),
            helper.make_node("Gather", ["probs_flat", "frame_index"], ["frame_probs"], axis=0),
        ]
        initializer += [
            numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
            numpy_helper.from_array(np.array(gate, dtype=np.float32), "gate"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat1"),
            numpy_helper.from_array(np.array([-1, classes], dtype=np.int64), "flat2"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        ]
        outputs = [
            helper.make_tensor_value_info("frame_probs", TensorProto.FLOAT, ["M", classes]),
            helper.make_tensor_value_info("frame_index", TensorProto.INT64, ["M"]),
            helper.make_tensor_value_info("blank_prob", TensorProto.FLOAT, ["N", "T"]),
        ]
    graph = helper.make_graph(
        nodes,
        "toy_ctc",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, height, "W"])],
        outputs,
        initializer=initializer,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {
        "input_height": str(height),
        "input_channels": "1",
        "norm_mean": "0.5",
        "norm_std": "0.5",
        "width_stride": "4",
        "model_name": "toy_ctc",
        "model_version": "0.0.1",
        "blank_index": "0",
    }
    if with_charset:
        meta["charset"] = json.dumps(CHARSET)
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def draw_line(frames: str, height: int = 32, pad_frames: int = 1) -> np.ndarray:
    """Draw a uint8 crop whose frames spell ``frames``.

    Each character of ``frames`` is one 4-px frame: ``a`` top dark, ``b`` all dark,
    ``c`` bottom dark, anything else white.

    Example:
        >>> draw_line("aa.b").shape
        (32, 24)
    """
    cols = "." * pad_frames + frames + "." * pad_frames
    img = np.full((height, 4 * len(cols)), 255, np.uint8)
    half = height // 2
    for i, f in enumerate(cols):
        x = slice(4 * i, 4 * i + 4)
        if f in "ab":
            img[:half, x] = 0
        if f in "bc":
            img[half:, x] = 0
    return img


WIDE = 3  # each toy mark is 3 frames wide so crops survive resizing


def page_of_lines(lines: list[str]) -> np.ndarray:
    """White page with toy-model lines (see :func:`draw_line`), one every 48 px.

    Every line needs a full-height ``b`` mark so its box spans the line height.
    """
    page = np.full((60 + 48 * len(lines), 40 + 12 * WIDE * max(map(len, lines)) + 40), 255, np.uint8)
    for i, frames in enumerate(lines):
        crop = draw_line("".join(f * WIDE for f in frames), pad_frames=0)
        page[30 + 48 * i : 30 + 48 * i + 32, 40 : 40 + crop.shape[1]] = crop
    return page
