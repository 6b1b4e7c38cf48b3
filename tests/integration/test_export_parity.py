import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from crnn.charset import CHARSET, NUM_CLASSES
from crnn.export import best_classes, export_onnx, model_metadata, parity, quantize_int8
from crnn.gate import KEEP_RECALL, CRNNGatedForExport, fit_blank_gate
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


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """A sharpened random model whose blank wins on about half of the frames, its gate, its file."""
    torch.manual_seed(0)
    model = CRNN(NUM_CLASSES).eval()
    images = [torch.rand(1, 1, 32, 64 + 16 * i) * 2 - 1 for i in range(12)]
    with torch.no_grad():
        model.fc.weight.mul_(20)
        from crnn.gate import features

        logits = torch.cat([model.fc(features(model, x)[0]) for x in images])
        margin = logits[:, 1:].max(-1).values - logits[:, 0]
        model.fc.bias[0] += float(margin.median())
    gate = fit_blank_gate(model, images, keep_recall=1.0)
    path = tmp_path_factory.mktemp("onnx") / "gated.onnx"
    export_onnx(model, path, model_metadata("0.0.1-gated"), gate)
    return model, gate, images, path


def test_the_gate_keeps_every_character_frame_it_was_fitted_on(gated):
    model, gate, images, _ = gated
    with torch.no_grad():
        blank = torch.cat([torch.softmax(model(x), -1)[0].argmax(-1) == 0 for x in images])
        _, index, _ = CRNNGatedForExport(model, gate)(torch.cat([x[..., :64] for x in images]))
    assert 0.3 < float(blank.float().mean()) < 0.7
    assert gate.keep_recall == 1.0 and 0.0 < gate.skip_rate < float(blank.float().mean()) + 1e-6
    assert index.numel() < 12 * 16  # something was skipped


def test_the_default_gate_gives_up_a_thousandth_of_the_character_frames_to_skip_more(gated):
    model, strict, images, _ = gated
    gate = fit_blank_gate(model, images)
    assert KEEP_RECALL == 0.999
    assert 0.99 < gate.keep_recall < 1.0  # one frame of ~230 given up
    assert gate.threshold < strict.threshold and gate.skip_rate > strict.skip_rate


def test_gated_onnx_matches_pytorch_on_the_frames_it_classifies(gated):
    model, gate, _, path = gated
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["frame_probs", "frame_index", "blank_prob"]
    torch.manual_seed(2)
    for n, w in [(1, 32), (3, 200), (2, 517)]:
        images = torch.rand(n, 1, 32, w) * 2 - 1
        with torch.no_grad():
            ref_probs, ref_index, ref_blank = CRNNGatedForExport(model, gate)(images)
        probs, index, blank = sess.run(None, {"image": images.numpy()})
        assert index.tolist() == ref_index.tolist()
        assert np.abs(blank - ref_blank.numpy()).max() < 1e-4
        assert parity(model, path, images) < 1e-4
        # Every frame the gate keeps reads as the plain model reads it; skipped ones as blank.
        with torch.no_grad():
            plain = model(images).argmax(-1).numpy()
        best = best_classes(sess, images.numpy())
        kept = np.zeros(best.size, bool)
        kept[index] = True
        assert np.array_equal(best.ravel()[kept], plain.ravel()[kept]) and not best.ravel()[~kept].any()
