import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from crnn.charset import CHARSET, NUM_CLASSES
from crnn.export import export_onnx, model_metadata, parity, quantize_int8
from crnn.model import CRNN


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = CRNN(NUM_CLASSES).eval()
    # Random weights give near-uniform outputs; sharpen them so parity is tested on peaked probs.
    with torch.no_grad():
        model.fc.weight.mul_(20)
    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    export_onnx(model, path, model_metadata("0.0.1-test"))
    return model, path


def test_onnx_matches_pytorch_for_batches_and_widths(exported):
    model, path = exported
    torch.manual_seed(1)
    for n, w in [(1, 32), (3, 200), (2, 517)]:
        images = torch.rand(n, 1, 32, w) * 2 - 1
        diff = parity(model, path, images)
        print(f"batch {n} width {w}: max|torch-onnx| = {diff:.2e}")
        assert diff < 1e-4


def test_metadata_carries_charset_and_input_spec(exported):
    _, path = exported
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert json.loads(meta["charset"]) == CHARSET
    assert meta["input_height"] == "32" and meta["input_channels"] == "1" and meta["width_stride"] == "4"
    assert float(meta["norm_mean"]) == 0.5 and float(meta["norm_std"]) == 0.5
    assert meta["model_version"] == "0.0.1-test" and meta["blank_index"] == "0"


def test_int8_keeps_metadata_shrinks_and_agrees(exported, tmp_path):
    _, path = exported
    q = tmp_path / "m.int8.onnx"
    calibration = [np.random.default_rng(i).uniform(-1, 1, (2, 1, 32, 96 + 32 * i)).astype(np.float32) for i in range(3)]
    quantize_int8(path, q, calibration)
    assert q.stat().st_size < 0.6 * path.stat().st_size
    sf = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    sq = ort.InferenceSession(str(q), providers=["CPUExecutionProvider"])
    assert sq.get_modelmeta().custom_metadata_map == sf.get_modelmeta().custom_metadata_map
    x = np.random.default_rng(0).uniform(-1, 1, (2, 1, 32, 160)).astype(np.float32)
    pf, pq = sf.run(None, {"image": x})[0], sq.run(None, {"image": x})[0]
    assert pq.shape == pf.shape == (2, 40, NUM_CLASSES)
    assert np.allclose(pq.sum(-1), 1.0, atol=1e-3)
    assert (pf.argmax(-1) == pq.argmax(-1)).mean() > 0.8
