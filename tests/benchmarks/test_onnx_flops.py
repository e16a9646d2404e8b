"""The FLOP counter on graphs whose multiply-adds are known by hand."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tools.benchmarks.onnx_flops import count_flops, runtime_shapes, with_input_shapes


def _model(nodes, inputs, outputs, inits) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "t", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _conv_model(groups: int = 1, cin: int = 3, cout: int = 4) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", cin, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weight = np.ones((cout, cin // groups, 3, 3), np.float32)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], group=groups)
    return _model([conv], [x], [y], {"w": weight})


def test_conv_counts_output_positions_times_kernel_volume():
    flops = count_flops(_conv_model(), {"x": (1, 3, 8, 8)})
    assert flops.by_op == {"Conv": 2 * 4 * 8 * 8 * 3 * 3 * 3}


def test_batch_and_image_size_scale_the_count():
    assert count_flops(_conv_model(), {"x": (3, 3, 8, 8)}).total == 3 * count_flops(_conv_model(), {"x": (1, 3, 8, 8)}).total
    assert count_flops(_conv_model(), {"x": (1, 3, 16, 8)}).total == 2 * 4 * 16 * 8 * 27


def test_depthwise_conv_counts_one_input_channel_per_output():
    flops = count_flops(_conv_model(groups=4, cin=4, cout=4), {"x": (1, 4, 8, 8)})
    assert flops.total == 2 * 4 * 8 * 8 * 9


def test_gemm_with_transposed_weight_and_batched_matmul():
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 5])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3, 4])
    out1 = helper.make_tensor_value_info("g", TensorProto.FLOAT, None)
    out2 = helper.make_tensor_value_info("m", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Gemm", ["a", "wt"], ["g"], transB=1),
             helper.make_node("MatMul", ["b", "w2"], ["m"]),
             helper.make_node("Relu", ["m"], ["r"])]
    weights = {"wt": np.ones((7, 5), np.float32), "w2": np.ones((4, 6), np.float32)}
    model = _model(nodes, [a, b], [out1, out2], weights)
    flops = count_flops(model, {"a": (2, 5), "b": (2, 3, 4)})
    assert flops.by_op == {"Gemm": 2 * 2 * 7 * 5, "MatMul": 2 * (2 * 3 * 6) * 4}
    assert flops.uncounted["Relu"] == 1


def test_missing_or_wrong_input_shape_is_an_error():
    with pytest.raises(ValueError, match="no shape given"):
        count_flops(_conv_model(), {})
    with pytest.raises(ValueError, match="rank"):
        with_input_shapes(_conv_model(), {"x": (1, 3, 8)})


def test_runtime_shapes_agree_with_static_inference():
    shapes = runtime_shapes(_conv_model(), {"x": (2, 3, 10, 6)}, ["y"])
    assert shapes == {"y": (2, 4, 10, 6)}
