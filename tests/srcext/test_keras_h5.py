"""The Keras HDF5 reader on files written here with h5py (no Keras needed): wiring, weights, nested models,
errors that name the layer, the cache. Numbers against Keras itself: test_tensorflow_oracle.py."""
from __future__ import annotations

import json

import h5py
import numpy as np
import onnxruntime
import pytest

from srcext import keras2onnx
from srcext.keras import convert, convert_cached, read_h5
from srcext.tensorflow import TensorflowConversionError

RNG = np.random.default_rng(0)
KERNEL = RNG.normal(size=(4, 3)).astype(np.float32)
BIAS = RNG.normal(size=3).astype(np.float32)


def dense_layer(name: str, activation: str = "softmax") -> dict:
    return {"class_name": "Dense", "config": {"name": name, "units": 3, "activation": activation, "use_bias": True}}


def write_model(path, config: dict, weights: dict[str, dict[str, np.ndarray]]) -> None:
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config)
        group = handle.create_group("model_weights")
        for layer, values in weights.items():
            layer_group = group.create_group(layer)
            layer_group.attrs["weight_names"] = [name.encode() for name in values]
            for name, value in values.items():
                layer_group.create_dataset(name, data=value)


def sequential(*layers: dict) -> dict:
    first = dict(layers[0])
    first["config"] = {**first["config"], "batch_input_shape": [None, 4]}
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": [first, *layers[1:]]}}


def run(model, x):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {model.graph.input[0].name: x})[0]


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_sequential_dense_reads_weights_by_name(tmp_path):
    path = tmp_path / "m.h5"
    write_model(path, sequential(dense_layer("dense_1")),
                {"dense_1": {"dense_1_1/bias:0": BIAS, "dense_1_1/kernel:0": KERNEL}})
    model = convert(path)
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(run(model, x), softmax(x @ KERNEL + BIAS), rtol=1e-5)
    assert [item.name for item in model.graph.output] == ["dense_1"]


def test_nested_model_weights_reach_its_layers(tmp_path):
    def input_layer(name):
        return {"class_name": "InputLayer", "name": name, "config": {"batch_input_shape": [None, 4]},
                "inbound_nodes": []}

    inner_layers = [input_layer("in"), {**dense_layer("d", "linear"), "name": "d",
                                        "inbound_nodes": [[["in", 0, 0, {}]]]}]
    inner = {"class_name": "Functional", "name": "inner", "inbound_nodes": [[["outer_in", 0, 0, {}]]],
             "config": {"name": "inner", "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]],
                        "layers": inner_layers}}
    act = {"class_name": "Activation", "name": "act", "config": {"name": "act", "activation": "tanh"},
           "inbound_nodes": [[["inner", 0, 0, {}]]]}
    outer = {"class_name": "Model", "config": {"name": "outer", "input_layers": [["outer_in", 0, 0]],
                                               "output_layers": [["act", 0, 0]],
                                               "layers": [input_layer("outer_in"), inner, act]}}
    path = tmp_path / "nested.h5"
    write_model(path, outer, {"inner": {"d/kernel:0": KERNEL, "d/bias:0": BIAS}})
    assert read_h5(path).layer("inner").model.layer("d").weights["kernel"].shape == (4, 3)
    x = RNG.normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_allclose(run(convert(path), x), np.tanh(x @ KERNEL + BIAS), rtol=1e-5)


def test_unknown_layer_and_missing_architecture_are_named(tmp_path):
    path = tmp_path / "lambda.h5"
    write_model(path, sequential({"class_name": "Lambda", "config": {"name": "magic"}}), {})
    with pytest.raises(TensorflowConversionError, match=r"layer 'magic' \(Lambda\): layer type not supported"):
        convert(path)
    weights_only = tmp_path / "weights.h5"
    with h5py.File(weights_only, "w") as handle:
        handle.create_dataset("x", data=np.zeros(2))
    with pytest.raises(TensorflowConversionError, match="weights only"):
        convert(weights_only)
    missing = tmp_path / "missing.h5"
    write_model(missing, sequential(dense_layer("dense_1")), {})
    with pytest.raises(TensorflowConversionError, match=r"layer 'dense_1' \(Dense\): weight 'kernel' missing"):
        convert(missing)


def test_cache_and_cli(tmp_path, caplog):
    path = tmp_path / "m.h5"
    write_model(path, sequential(dense_layer("dense_1")),
                {"dense_1": {"dense_1/kernel:0": KERNEL, "dense_1/bias:0": BIAS}})
    target = convert_cached(path)
    assert target == tmp_path / "m.onnx"
    stamp = target.stat().st_mtime_ns
    assert convert_cached(path).stat().st_mtime_ns == stamp
    assert keras2onnx.main([str(path), str(tmp_path / "cli.onnx")]) == 0
    assert (tmp_path / "cli.onnx").read_bytes() == target.read_bytes()
    assert keras2onnx.main([str(tmp_path / "absent.h5"), str(tmp_path / "x.onnx")]) == 1
    assert "conversion failed" in caplog.text
