"""INFERENCE_BACKEND / INFERENCE_PRECISION: parsing, settings, and OpenVINO behind ONNX Runtime's interface."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from facecore.config import load_settings
from facecore.device import Device, describe_session
from facecore.errors import StartupError
from facecore.inference_runtime import (
    AUTO,
    BF16,
    F32,
    INT8,
    ONNXRUNTIME,
    OPENVINO,
    ModelNotQuantized,
    RuntimeChoice,
    RuntimePlan,
    openvino_installed,
    parse_plan,
    runtimes_noted,
)
from facecore.onnx_session import open_session

needs_openvino = pytest.mark.skipif(not openvino_installed(), reason="needs the openvino package (face-core[openvino])")


def test_a_default_and_overrides_per_plugin():
    plan = parse_plan("onnxruntime calculator:openvino, age:auto", "calculator:bf16")
    assert plan.default == RuntimeChoice(ONNXRUNTIME, F32)
    assert plan.for_slug("calculator") == RuntimeChoice(OPENVINO, BF16)
    assert plan.for_slug("age") == RuntimeChoice(AUTO, F32)
    assert plan.for_slug("detector") == plan.default
    assert parse_plan("", "") == RuntimePlan()


@pytest.mark.parametrize("backend, precision, message", [
    ("tensorrt", "", "is not \\[slug:\\]onnxruntime|openvino|auto"),
    ("openvino", "int4", "INFERENCE_PRECISION"),
    ("Calc-ulator:openvino", "", "is not"),
    ("onnxruntime", "bf16", "needs INFERENCE_BACKEND=openvino"),
    ("openvino calculator:onnxruntime", "calculator:bf16", "bf16 for calculator needs"),
    ("openvino", "calculator:int8", "int8 for calculator runs on ONNX Runtime"),
])
def test_bad_values_are_refused(backend, precision, message):
    with pytest.raises(ValueError, match=message):
        parse_plan(backend, precision)


@needs_openvino
def test_settings_hand_each_plugin_its_runtime():
    settings = load_settings({"INFERENCE_BACKEND": "auto calculator:openvino", "INFERENCE_PRECISION": "age:bf16"})
    assert settings.device.for_plugin("calculator").runtime == RuntimeChoice(OPENVINO, F32)
    assert settings.device.for_plugin("gender", "dlib.GenderDetector").runtime == RuntimeChoice(ONNXRUNTIME, F32)
    assert settings.device.for_plugin("age", "dlib.AgeDetector").runtime == RuntimeChoice(OPENVINO, BF16)
    with pytest.raises(StartupError, match="INFERENCE_BACKEND"):
        load_settings({"INFERENCE_BACKEND": "fast"})


def test_auto_follows_the_measured_table():
    assert RuntimeChoice(AUTO, BF16).resolved(wants_gpu=True) == RuntimeChoice(ONNXRUNTIME, F32)
    assert RuntimeChoice(AUTO, F32).resolved(False, "dlib.Calculator") == RuntimeChoice(ONNXRUNTIME, F32)
    if openvino_installed():
        assert RuntimeChoice(AUTO, F32).resolved(False, "facenet.FaceDetector") == RuntimeChoice(OPENVINO, F32)
        assert RuntimeChoice(AUTO, BF16).resolved(False, "dlib.Calculator") == RuntimeChoice(OPENVINO, BF16)


def dynamic_conv() -> bytes:
    rng = np.random.default_rng(1)
    weights = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], rng.normal(size=108).astype(np.float32))
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"]),
         helper.make_node("ReduceMean", ["y"], ["m"], axes=[2, 3], keepdims=0)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, "h", "w"]),
         helper.make_tensor_value_info("m", TensorProto.FLOAT, ["n", 4])], initializer=[weights])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


@needs_openvino
def test_openvino_session_answers_like_onnxruntime():
    model = dynamic_conv()
    ort = open_session(model, Device(threads=1))
    ov = open_session(model, Device(threads=1, runtime=RuntimeChoice(OPENVINO)))
    assert [i.name for i in ov.get_inputs()] == ["x"] and isinstance(ov.get_inputs()[0].shape[2], str)
    assert [o.name for o in ov.get_outputs()] == ["y", "m"]
    for size in (8, 13):  # dynamic shapes, several sizes through one compiled model
        x = np.random.default_rng(size).normal(size=(2, 3, size, size)).astype(np.float32)
        for a, b in zip(ort.run(None, {"x": x}), ov.run(None, {"x": x})):
            assert a.shape == b.shape and np.max(np.abs(a - b)) < 1e-4
    (mean,) = ov.run(["m"], {"x": x})
    assert mean.shape == (2, 4)


@needs_openvino
def test_openvino_sessions_leave_their_threads_unpinned():
    """Pinned (OpenVINO's default on Linux), each worker process pinned its inference thread to the first core
    of its mask: the same core for every worker."""
    session = open_session(dynamic_conv(), Device(threads=1, runtime=RuntimeChoice(OPENVINO)))
    assert session.compiled.get_property("ENABLE_CPU_PINNING") is False
    assert session.compiled.get_property("INFERENCE_NUM_THREADS") == 1


@needs_openvino
def test_status_names_the_runtime_each_session_uses():
    with runtimes_noted() as noted:
        assert describe_session(open_session(dynamic_conv(), Device(runtime=RuntimeChoice(OPENVINO, BF16)))) == "cpu"
        describe_session(open_session(dynamic_conv(), Device()))
    assert noted == ["openvino bf16", "onnxruntime f32"]


def test_startup_refuses_openvino_when_it_is_not_installed(monkeypatch):
    import facecore.config

    monkeypatch.setattr(facecore.config, "openvino_installed", lambda: False)
    with pytest.raises(StartupError, match="not installed"):
        load_settings({"INFERENCE_BACKEND": "age:openvino"})


@needs_openvino
def test_an_intel_gpu_openvino_does_not_see_falls_back_to_the_cpu(caplog, monkeypatch):
    import openvino

    from facecore.inference_runtime import openvino_device

    assert openvino_device(-1) == "CPU"
    monkeypatch.setattr(openvino.Core, "available_devices", property(lambda self: ["CPU", "GPU.0", "GPU.1"]))
    assert openvino_device(1) == "GPU.1"
    monkeypatch.setattr(openvino.Core, "available_devices", property(lambda self: ["CPU"]))
    assert openvino_device(0) == "CPU" and "running on the CPU" in caplog.text


def test_int8_runs_on_onnxruntime_even_under_auto():
    plan = parse_plan("auto", "calculator:int8")
    assert plan.for_slug("calculator").resolved(False, "dlib.Calculator") == RuntimeChoice(ONNXRUNTIME, INT8)
    assert plan.for_slug("age") == RuntimeChoice(AUTO, F32)


def test_int8_refuses_a_model_that_is_not_quantized():
    with pytest.raises(ModelNotQuantized, match="no int8 copy"):
        open_session(dynamic_conv(), Device(runtime=RuntimeChoice(ONNXRUNTIME, INT8)))
