"""A tiny hand-built ONNX model that follows the detection-model contract (CONTRACTS.md).

Its probability map is ``sigmoid(K * (-mean over channels of the normalised input) - B)``:
dark pixels (ink) are text, light ones background. Draw filled dark bars where tests want
"lines"; the detector's threshold, region score and growth then behave as on a real map.
"""

from __future__ import annotations

from pathlib import Path

K = 4.0
B = 2.0


def build_toy_db(path: Path, *, metadata: dict[str, str] | None = None, channels: int = 3) -> Path:
    """Write the toy detection model to ``path`` (``channels`` other than 3 breaks the contract)."""
    import pytest

    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, None, None])
    y = helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, None, None])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    k = helper.make_tensor("k", TensorProto.FLOAT, [], [-K])
    b = helper.make_tensor("b", TensorProto.FLOAT, [], [B])
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=1),
        helper.make_node("Mul", ["m", "k"], ["s"]),
        helper.make_node("Sub", ["s", "b"], ["t"]),
        helper.make_node("Sigmoid", ["t"], ["prob"]),
    ]
    graph = helper.make_graph(nodes, "toy_db", [x], [y], initializer=[axes, k, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    for key, value in (metadata or {"model_name": "toy_db"}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path
