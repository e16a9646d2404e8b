"""The int8 copy of a network answers close to the float one on inputs like its calibration's."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from tools.benchmarks.quantize import quantize_int8


def conv_net(path) -> None:
    rng = np.random.default_rng(0)
    weights = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], rng.normal(size=216).astype(np.float32) / 10)
    dense = helper.make_tensor("d", TensorProto.FLOAT, [8, 4], rng.normal(size=32).astype(np.float32))
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("GlobalAveragePool", ["r"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("MatMul", ["f", "d"], ["y"])],
        "net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])], initializer=[weights, dense])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))


def test_int8_copy_is_quantized_and_close(tmp_path):
    import onnxruntime

    conv_net(tmp_path / "f32.onnx")
    rng = np.random.default_rng(1)
    batches = [rng.uniform(0, 255, (4, 3, 16, 16)).astype(np.float32) for _ in range(4)]
    int8 = quantize_int8(tmp_path / "f32.onnx", tmp_path / "int8" / "q.onnx", batches)
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in onnx.load(str(int8)).graph.node}
    x = rng.uniform(0, 255, (2, 3, 16, 16)).astype(np.float32)
    want = onnxruntime.InferenceSession(str(tmp_path / "f32.onnx")).run(None, {"x": x})[0]
    got = onnxruntime.InferenceSession(str(int8)).run(None, {"x": x})[0]
    assert np.max(np.abs(want - got)) < 0.05 * np.max(np.abs(want))
    assert not np.array_equal(want, got)  # it really is another network
