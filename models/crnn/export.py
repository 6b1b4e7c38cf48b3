"""Export a checkpoint to ONNX (float and INT8), with the charset and input spec in metadata.

::

    python -m crnn.export runs/crnn/best.pt --out engine/ocr_engine/weights --version 1.0.0

writes ``crnn_zh_en.onnx`` (float32), ``crnn_zh_en.int8.onnx`` (static INT8 convolutions calibrated
on synthetic lines, dynamic INT8 LSTM and classifier: see :mod:`crnn.quantize`) and
``crnn_zh_en.pt`` (the weights a later run resumes from), then prints the float-vs-PyTorch and
INT8-vs-float agreement. The exported graph carries a blank gate (:mod:`crnn.gate`, fitted here)
that skips the classifier on frames that are surely blank; ``--no-gate`` exports the plain
``probs`` graph. See ``CONTRACTS.md`` for the model file's contract.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import torch

from crnn.charset import CHARSET
from crnn.data import NORM_MEAN, NORM_STD, WIDTH_STRIDE, to_tensor
from crnn.gate import GATE_LINES, BlankGate, CRNNGatedForExport, fit_blank_gate, synthetic_gate_images
from crnn.model import CRNN, CRNNForExport
from crnn.quantize import quantize_int8
from crnn.synth import HEIGHT, VALIDATION_SEED_BASE, LineGenerator
from crnn.train import load_model

MODEL_NAME = "crnn_zh_en"
__all__ = ["export_onnx", "model_metadata", "parity", "quantize_int8"]


def model_metadata(version: str, extra: dict | None = None) -> dict[str, str]:
    """The metadata the serving recogniser reads (see CONTRACTS.md)."""
    meta = {
        "charset": json.dumps(CHARSET, ensure_ascii=False),
        "input_height": str(HEIGHT),
        "input_channels": "1",
        "norm_mean": str(NORM_MEAN),
        "norm_std": str(NORM_STD),
        "width_stride": str(WIDTH_STRIDE),
        "blank_index": "0",
        "model_name": MODEL_NAME,
        "model_version": version,
    }
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    return meta


def export_onnx(model: CRNN, path: Path, metadata: dict[str, str], gate: BlankGate | None = None) -> None:
    """Write ``model`` as ONNX with dynamic batch and width and the given metadata.

    Without ``gate`` the output is ``probs`` ``[N, T, C]``; with it, the gated outputs
    ``frame_probs``, ``frame_index`` and ``blank_prob`` (see :mod:`crnn.gate`).
    """
    model = model.eval().to(memory_format=torch.contiguous_format)
    dummy = torch.zeros(2, 1, HEIGHT, 160)
    if gate is None:
        module, outputs = CRNNForExport(model), ["probs"]
        axes = {"probs": {0: "batch", 1: "steps"}}
    else:
        module, outputs = CRNNGatedForExport(model, gate), ["frame_probs", "frame_index", "blank_prob"]
        axes = {"frame_probs": {0: "frames"}, "frame_index": {0: "frames"}, "blank_prob": {0: "batch", 1: "steps"}}
    # An eval-mode wrapper: the exporter restores the wrapper's mode afterwards, and a new module
    # is in training mode, which would leave ``model`` in training mode (dropout, batch statistics).
    torch.onnx.export(
        module.eval(), dummy, str(path), dynamo=False, opset_version=17,
        input_names=["image"], output_names=outputs, dynamic_axes={"image": {0: "batch", 3: "width"}, **axes},
    )
    write_metadata(path, metadata, "CNN + BiLSTM + CTC recogniser")


def write_metadata(path: Path, metadata: dict[str, str], description: str, check: bool = False) -> None:
    """Replace an exported ONNX file's metadata with ``metadata`` and its doc string with
    ``"<model_name> <model_version>: <description>"``; ``check`` runs ONNX's checker first."""
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for k, v in metadata.items():
        proto.metadata_props.add(key=k, value=v)
    proto.doc_string = f"{metadata['model_name']} {metadata['model_version']}: {description}"
    if check:
        onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def parity(model: CRNN, onnx_path: Path, images: torch.Tensor) -> float:
    """Max abs difference between PyTorch and onnxruntime probabilities on ``images``.

    For a gated file, over the frames it classifies (whether those are the frames the PyTorch
    gate keeps is checked by the caller: ``tests/models/test_export_parity.py``).
    """
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = torch.softmax(model.eval()(images), -1).numpy()
    out = sess.run(None, {"image": images.numpy()})
    if len(out) == 1:
        return float(np.abs(ref - out[0]).max())
    probs, index = out[0], out[1]
    flat = ref.reshape(-1, ref.shape[-1])
    return float(np.abs(flat[index] - probs).max()) if probs.size else 0.0


def best_classes(session, images: np.ndarray) -> np.ndarray:
    """The best class of every frame, ``[N, T]``, from a plain or a gated file (skipped frames: 0)."""
    out = session.run(None, {"image": images})
    if len(out) == 1:
        return out[0].argmax(-1)
    probs, index, blank = out
    best = np.zeros(blank.size, np.int64)
    best[index] = probs.argmax(-1)
    return best.reshape(blank.shape)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default="engine/ocr_engine/weights")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--int8", choices=("static", "dynamic"), default="static",
                   help="static: INT8 convolutions calibrated on synthetic lines (default); dynamic: LSTM/MatMul only")
    p.add_argument("--no-gate", action="store_true", help="export the plain probs graph (no blank gate)")
    args = p.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, ckpt = load_model(args.checkpoint)
    model.eval()
    info = {k: ckpt.get(k) for k in ("samples_seen", "train_hours", "step")}
    if ckpt.get("extended_from"):  # trained on an earlier charset: the added classes are untrained
        info["classes_trained"] = ckpt["extended_from"]
    if ckpt.get("val"):
        info.update({f"synthetic_val_{k}": v for k, v in ckpt["val"].items()})
    extra = {"training": json.dumps(info)}
    gate = None
    if not args.no_gate:
        gate = fit_blank_gate(model, synthetic_gate_images())
        extra["blank_gate"] = json.dumps({"threshold": round(gate.threshold, 4), "lines": GATE_LINES,
                                          "skip_rate": round(gate.skip_rate, 4),
                                          "keep_recall": round(gate.keep_recall, 5)})
        print(f"blank gate: skips {gate.skip_rate:.1%} of synthetic frames, keeps {gate.keep_recall:.3%} "
              f"of character frames")
    meta = model_metadata(args.version, extra)

    float_path, int8_path = out / f"{MODEL_NAME}.onnx", out / f"{MODEL_NAME}.int8.onnx"
    export_onnx(model, float_path, meta, gate)
    quantize_int8(float_path, int8_path, static_convs=args.int8 == "static")
    weights = {"config": model.config.to_dict(), "charset": CHARSET, "model": model.state_dict(), **info,
               "val": ckpt.get("val")}
    torch.save(weights, out / f"{MODEL_NAME}.pt")

    gen = LineGenerator()
    images = to_tensor([gen.sample(VALIDATION_SEED_BASE + i).image for i in range(16)])
    print(f"float32 {float_path} {float_path.stat().st_size / 1e6:.2f} MB; max|torch-onnx| = {parity(model, float_path, images):.2e}")
    import onnxruntime as ort

    f = best_classes(ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"]), images.numpy())
    q = best_classes(ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"]), images.numpy())
    agree = float((f == q).mean())
    agree_text = float((f == q)[f != 0].mean())
    print(f"int8    {int8_path} {int8_path.stat().st_size / 1e6:.2f} MB; argmax agreement with float = {agree:.4f} "
          f"(character frames {agree_text:.4f})")
    print(f"weights {out / (MODEL_NAME + '.pt')} {(out / (MODEL_NAME + '.pt')).stat().st_size / 1e6:.2f} MB; {json.dumps(info)}")


if __name__ == "__main__":
    main()
