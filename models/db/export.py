"""Export a DB checkpoint to ONNX for the engine's learned line finder.

::

    python -m db.export runs/db/best.pt --out runs/db/export --version 0.1.0

writes ``DIR/db_zh_en.onnx``: input ``image`` ``[1, 3, H, W]`` float32 (H, W dynamic, multiples
of 32; BGR / 255 normalised with ``db_mean`` / ``db_std``), output ``prob`` ``[1, 1, H, W]``
(sigmoid), opset 17, with the metadata of CONTRACTS.md ("The detection model file"): the
normalisation, the post-processing settings validation chose (``db_thresh``,
``db_box_thresh``; else :data:`db.train.DEFAULT_SETTINGS`; ``db_unclip``: ``--unclip``, default
:data:`UNCLIP`, chosen for the recogniser, not for box IoU), ``model_name``,
``model_version``, ``licence``, ``source`` and ``training`` (JSON). It then prints the largest
torch-vs-onnxruntime difference. It refuses to write into ``engine/ocr_engine/weights``: a
``db_zh_en.onnx`` there is preferred by the engine at once, so shipping is a separate step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from crnn.export import write_metadata
from db.model import MEAN, STD, DBForExport, DBNet
from db.train import DEFAULT_SETTINGS, load_model

MODEL_NAME = "db_zh_en"
ENGINE_WEIGHTS = Path(__file__).resolve().parents[2] / "engine" / "ocr_engine" / "weights"
PARITY_TOLERANCE = 1e-4
# The growth written by default. Box IoU against the scenes' tight truth polygons prefers ~1.2,
# but the recogniser reads a line cut that tight badly: on 50 train-split validation scenes
# (``ocr_eval photobench``, model 0.1.0) exact line recall was 41-68 % at 1.2-1.6, 74.7 % at
# 2.0, 73.8 % at 2.2, 75.4 % at 2.4 (more reading-order errors), 71.9 % at 2.8.
UNCLIP = 2.0


def model_metadata(version: str, settings: dict | None = None, extra: dict | None = None) -> dict[str, str]:
    """The metadata the engine's ``DbSession`` reads (and the provenance keys)."""
    s = {"thresh": DEFAULT_SETTINGS.thresh, "box_thresh": DEFAULT_SETTINGS.box_thresh,
         "unclip": DEFAULT_SETTINGS.unclip, **(settings or {})}
    meta = {
        "db_mean": ",".join(str(v) for v in MEAN),
        "db_std": ",".join(str(v) for v in STD),
        "db_thresh": str(s["thresh"]),
        "db_box_thresh": str(s["box_thresh"]),
        "db_unclip": str(s["unclip"]),
        "model_name": MODEL_NAME,
        "model_version": version,
        "licence": "Apache-2.0",
        "source": "trained by this project from scratch on rendered scenes (models/db, ocr_eval.scenes train split)",
    }
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    return meta


def export_onnx(model: DBNet, path: Path, metadata: dict[str, str]) -> None:
    """Write the probability map of ``model`` as ONNX (dynamic H and W) with ``metadata``."""
    model = model.eval().to(memory_format=torch.contiguous_format)
    torch.onnx.export(
        DBForExport(model).eval(), torch.zeros(1, 3, 96, 128), str(path), dynamo=False, opset_version=17,
        input_names=["image"], output_names=["prob"],
        dynamic_axes={"image": {2: "height", 3: "width"}, "prob": {2: "height", 3: "width"}},
    )
    write_metadata(path, metadata, "DB text-line detector (probability map)", check=True)


def parity(model: DBNet, onnx_path: Path, shapes=((96, 128), (160, 96), (224, 320))) -> float:
    """Max abs difference of the probability maps, PyTorch vs onnxruntime, on random inputs."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for h, w in shapes:
        x = rng.normal(0, 1, (1, 3, h, w)).astype(np.float32)
        with torch.no_grad():
            ref = model.eval()(torch.from_numpy(x)).numpy()
        got = sess.run(None, {"image": x})[0]
        if got.shape != ref.shape:
            raise AssertionError(f"ONNX output {got.shape} != torch {ref.shape}")
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default="runs/db/export")
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--calibrate", type=int, default=0, metavar="N",
                   help="choose the settings again on the first N validation scenes (train split) with this code's grid")
    p.add_argument("--cache", default="runs/db/scenes", help="scene cache of --calibrate ('' for none)")
    p.add_argument("--unclip", type=float, default=UNCLIP,
                   help=f"db_unclip written (default {UNCLIP}: chosen end to end, see UNCLIP)")
    args = p.parse_args(argv)

    out = Path(args.out)
    if out.resolve() == ENGINE_WEIGHTS.resolve():
        raise SystemExit(f"refusing to write into {ENGINE_WEIGHTS}: the engine would prefer the file at once")
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    model, ckpt = load_model(args.checkpoint)
    info = {k: ckpt.get(k) for k in ("samples_seen", "scenes_seen", "train_hours", "step")}
    val = ckpt.get("val") or {}
    if val.get("best"):
        info["validation"] = {k: val["best"][k] for k in ("recall", "precision", "hmean", "lines", "scenes")}
    settings = ckpt.get("settings")
    if args.calibrate:
        from db.data import validation_scenes
        from db.train import validate

        best = validate(model, validation_scenes(args.calibrate, args.cache or None))["best"]
        settings = {k: best[k] for k in ("thresh", "box_thresh", "unclip")}
        info["calibration"] = {k: best[k] for k in ("recall", "precision", "hmean", "lines", "scenes")}
        print(f"calibrated on {best['scenes']} validation scenes: {json.dumps(best)}")
    settings = {**(settings or {}), "unclip": args.unclip}
    meta = model_metadata(args.version, settings, {"training": json.dumps(info)})
    path = out / f"{MODEL_NAME}.onnx"
    export_onnx(model, path, meta)
    diff = parity(model, path)
    print(f"{path} {path.stat().st_size:,} bytes; max|torch-onnx| = {diff:.2e}; "
          f"settings thresh {meta['db_thresh']} box_thresh {meta['db_box_thresh']} unclip {meta['db_unclip']}")
    if diff > PARITY_TOLERANCE:
        raise SystemExit(f"parity check failed: {diff:.2e} > {PARITY_TOLERANCE}")


if __name__ == "__main__":
    main()
