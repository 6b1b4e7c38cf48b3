"""INT8 version of the exported float model: static INT8 convolutions, dynamic INT8 LSTM and classifier.

Convolutions get per-channel INT8 weights and UINT8 activations whose ranges are calibrated
(min/max) on synthetic lines (QDQ format); onnxruntime fuses each ``DequantizeLinear → Conv →
QuantizeLinear`` group, the ReLU included, into one ``QLinearConv`` (VNNI on x86). The first
convolution stays float: with one input channel its INT8 GEMM is slower than the float kernel.
The LSTM and the classifier MatMul keep dynamic INT8 weights (a static MatMul measured slower);
the blank gate (:mod:`crnn.gate`) stays float.
Calibration lines use seeds from :data:`CALIBRATION_SEED_BASE`, disjoint from the training
seeds (0 up) and the validation seeds (``crnn.synth.VALIDATION_SEED_BASE``).

Serving note: onnxruntime's ``QDQPropagationTransformer`` moves the first QuantizeLinear above
the float max-pool, whose UINT8 kernel is slow; ``ocr_service`` disables that transformer
(the file stays correct, and no slower than dynamic INT8, without it).

Example:
    >>> from pathlib import Path
    >>> from crnn.quantize import quantize_int8
    >>> quantize_int8(Path("crnn_zh_en.onnx"), Path("crnn_zh_en.int8.onnx"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx

CALIBRATION_SEED_BASE = 2 * 10**9
CALIBRATION_LINES = 256
MIN_INT8_CONV_CHANNELS = 8
SERVING_DISABLED_OPTIMIZERS = ("QDQPropagationTransformer",)


def calibration_images(count: int = CALIBRATION_LINES, seed_base: int = CALIBRATION_SEED_BASE) -> list[np.ndarray]:
    """Synthetic uint8 ``[32, W]`` lines for seeds ``seed_base .. seed_base + count - 1``."""
    from crnn.synth import LineGenerator

    gen = LineGenerator()
    return [gen.sample(seed_base + i).image for i in range(count)]


def to_batches(images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
    """Normalised ``[N, 1, 32, W]`` float32 batches of lines of similar width (edge-padded)."""
    from crnn.data import to_tensor

    ordered = sorted(images, key=lambda im: im.shape[1])
    return [to_tensor(list(ordered[i : i + batch_size])).numpy() for i in range(0, len(ordered), batch_size)]


def float_conv_nodes(model: onnx.ModelProto) -> list[str]:
    """Convolutions with fewer than :data:`MIN_INT8_CONV_CHANNELS` input channels, and their ReLUs."""
    weights = {t.name: t for t in model.graph.initializer}
    names: list[str] = []
    for node in model.graph.node:
        w = weights.get(node.input[1]) if node.op_type == "Conv" else None
        if w is not None and w.dims[1] < MIN_INT8_CONV_CHANNELS:
            names.append(node.name)
            names += [n.name for n in model.graph.node if n.op_type == "Relu" and n.input[0] == node.output[0]]
    return names


def gate_nodes(model: onnx.ModelProto) -> list[str]:
    """The blank gate's nodes (:mod:`crnn.gate`): they stay float, its threshold was set in float.

    The quantizer first rewrites a ``Gemm`` as ``<name>_MatMul`` + ``<name>_Add`` and matches the
    exclusions against those names, so both spellings are listed.
    """
    names = [n.name for n in model.graph.node if n.name.startswith("/gate/")]
    return names + [f"{n}_MatMul" for n in names]


def _carry_metadata(src: Path, dst: Path) -> None:
    proto, meta = onnx.load(str(dst)), onnx.load(str(src)).metadata_props
    del proto.metadata_props[:]
    proto.metadata_props.extend(meta)
    onnx.save(proto, str(dst))


def quantize_int8(src: Path, dst: Path, calibration: Sequence[np.ndarray] | None = None,
                  static_convs: bool = True) -> None:
    """Write the INT8 model ``dst`` from the float ONNX ``src``; metadata is carried over.

    Args:
        src: Float model written by :func:`crnn.export.export_onnx`.
        dst: Output path.
        calibration: Normalised ``[N, 1, 32, W]`` batches for the activation ranges; default
            :data:`CALIBRATION_LINES` synthetic lines from :func:`calibration_images`.
        static_convs: False: only the dynamic INT8 LSTM and MatMul, convolutions stay float
            (the 0.1.0 file; no calibration).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    keep_float = gate_nodes(onnx.load(str(src)))
    if not static_convs:
        quantize_dynamic(str(src), str(dst), op_types_to_quantize=["MatMul", "LSTM", "Gemm"],
                         weight_type=QuantType.QInt8, nodes_to_exclude=keep_float)
        _carry_metadata(src, dst)
        return
    batches = list(calibration) if calibration is not None else to_batches(calibration_images())

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it: Iterator[np.ndarray] = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {"image": x}

    static = dst.with_name(dst.name + ".convs.tmp")
    try:
        quantize_static(
            str(src), str(static), Reader(), quant_format=QuantFormat.QDQ, op_types_to_quantize=["Conv", "Relu"],
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=float_conv_nodes(onnx.load(str(src))),
        )
        quantize_dynamic(str(static), str(dst), op_types_to_quantize=["MatMul", "LSTM", "Gemm"],
                         weight_type=QuantType.QInt8, nodes_to_exclude=keep_float)
    finally:
        static.unlink(missing_ok=True)
    _carry_metadata(src, dst)
