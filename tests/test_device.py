"""GPU_IDX -> ONNX Runtime providers: CUDA with the device id, or a logged fall-back to the CPU."""
from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import TensorProto, helper

from facecore.device import Device, describe_session, onnx_providers
from facecore.onnx_session import open_session


def test_cpu_by_default():
    assert onnx_providers(Device(-1), ["CUDAExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_cuda_with_device_id_when_available():
    providers = onnx_providers(Device(1), ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert providers == [("CUDAExecutionProvider", {"device_id": 1}), "CPUExecutionProvider"]


def test_missing_cuda_is_a_warning_not_silence(caplog):
    with caplog.at_level(logging.WARNING):
        assert onnx_providers(Device(0), ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert "GPU_IDX=0" in caplog.text and "CPU" in caplog.text


def test_session_reports_the_device_it_really_uses():
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    session = open_session(model.SerializeToString(), Device(0))  # no CUDA in this onnxruntime build
    assert describe_session(session) == "cpu"
    assert session.run(None, {"x": np.array([2.0], dtype=np.float32)})[0][0] == 2.0
    assert onnx.checker.check_model(model) is None
