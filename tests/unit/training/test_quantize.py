"""The INT8 export of the committed float model: static INT8 convolutions that onnxruntime fuses,
metadata carried over, and the same argmax as the float model on synthetic validation lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from crnn.export import best_classes
from crnn.quantize import (
    SERVING_DISABLED_OPTIMIZERS,
    calibration_images,
    quantize_int8,
    to_batches,
)
from crnn.synth import VALIDATION_SEED_BASE
from ocr_engine.recognition.recognizer import DISABLED_OPTIMIZERS

FLOAT = Path(__file__).resolve().parents[3] / "engine" / "ocr_engine" / "weights" / "crnn_zh_en.onnx"


def _session(path: Path, disabled: tuple[str, ...] = DISABLED_OPTIMIZERS, save: Path | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    if save is not None:  # extended level: the QDQ fusions, without hardware-specific layouts
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        opts.optimized_model_filepath = str(save)
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"], disabled_optimizers=list(disabled))


@pytest.fixture(scope="module")
def int8(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("int8") / "m.int8.onnx"
    quantize_int8(FLOAT, out, to_batches(calibration_images(48)))
    return out


@pytest.fixture(scope="module")
def validation() -> list[np.ndarray]:
    return to_batches(calibration_images(48, VALIDATION_SEED_BASE), batch_size=16)


def _optimized_ops(path: Path, tmp_path: Path, disabled: tuple[str, ...]) -> tuple[Counter, onnx.ModelProto]:
    saved = tmp_path / "opt.onnx"
    _session(path, disabled, save=saved)
    graph = onnx.load(str(saved))
    return Counter(n.op_type for n in graph.graph.node), graph


def test_serving_and_export_agree_on_the_disabled_optimizers() -> None:
    assert tuple(DISABLED_OPTIMIZERS) == tuple(SERVING_DISABLED_OPTIMIZERS)


def test_int8_keeps_metadata_and_shrinks(int8: Path) -> None:
    meta_f = _session(FLOAT).get_modelmeta().custom_metadata_map
    assert _session(int8).get_modelmeta().custom_metadata_map == meta_f
    assert int8.stat().st_size < 0.35 * FLOAT.stat().st_size


def test_convolutions_run_as_qlinearconv_after_a_float_first_block(int8: Path, tmp_path: Path) -> None:
    ops, graph = _optimized_ops(int8, tmp_path, DISABLED_OPTIMIZERS)
    assert ops["QLinearConv"] == 5 and ops["Conv"] + ops["FusedConv"] == 1, ops
    assert ops["DynamicQuantizeLSTM"] == 1 and ops["DynamicQuantizeMatMul"] == 1, ops
    # The first max-pool reads the float convolution, not a QuantizeLinear moved above it
    # (that would run the max-pool on UINT8 in NCHW, a slow kernel).
    producer = {o: n.op_type for n in graph.graph.node for o in n.output}
    pool_inputs = [producer.get(n.input[0]) for n in graph.graph.node if n.op_type == "MaxPool"]
    assert pool_inputs and pool_inputs[0] in ("Conv", "FusedConv") and "QuantizeLinear" not in pool_inputs, pool_inputs


def test_int8_argmax_agrees_with_float_on_validation_lines(int8: Path, validation: list[np.ndarray]) -> None:
    sf, sq = _session(FLOAT), _session(int8)
    same, text_same = [], []
    for x in validation:
        assert np.allclose(sq.run(None, {"image": x})[0].sum(-1), 1.0, atol=1e-3)
        af, aq = best_classes(sf, x), best_classes(sq, x)  # plain or gated files alike
        assert af.shape == aq.shape
        same.append((af == aq).ravel())
        text_same.append((af == aq)[af != 0])  # frames the float model reads as a character
    agree, agree_text = np.concatenate(same).mean(), np.concatenate(text_same).mean()
    print(f"argmax agreement with float on {sum(len(x) for x in validation)} validation lines: "
          f"{agree:.4f} (character frames {agree_text:.4f})")
    # Most frames are blank, so the overall rate alone hardly moves (badly calibrated: 0.990 / 0.938).
    assert agree >= 0.99 and agree_text >= 0.96
