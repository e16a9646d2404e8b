"""How the SavedModel reader places checkpoint variables on layers (no TensorFlow needed): ``layer_with_weights-k``
counts the layers holding weights, ``layer-n`` all layers, nested models recurse; Keras's tuple encoding."""
from __future__ import annotations

import numpy as np
import pytest

from srcext.keras.model import parse_model_config
from srcext.keras.savedmodel import _plain, assign_variables
from srcext.tensorflow import TensorflowConversionError

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def layer(name, class_name, inbound):
    return {"class_name": class_name, "name": name, "config": {"name": name},
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def model():
    inner = {"class_name": "Functional", "name": "inner", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {
        "name": "inner", "input_layers": [["x", 0, 0]], "output_layers": [["bn", 0, 0]],
        "layers": [layer("x", "InputLayer", None), layer("conv", "Conv2D", "x"), layer("relu", "Activation", "conv"),
                   layer("bn", "BatchNormalization", "relu")]}}
    return parse_model_config({"class_name": "Functional", "config": {
        "name": "outer", "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]],
        "layers": [layer("in", "InputLayer", None), inner, layer("pool", "GlobalAveragePooling2D", "inner"),
                   layer("dense", "Dense", "pool")]}})


def test_variables_reach_their_layers_by_keras_s_object_paths():
    built = model()
    assign_variables(built, {
        "layer_with_weights-0/layer_with_weights-0/kernel" + SUFFIX: np.ones(1),
        "layer_with_weights-0/layer_with_weights-1/moving_mean" + SUFFIX: np.full(1, 2.0),
        "layer-3/bias" + SUFFIX: np.full(1, 3.0),
        "layer_with_weights-1/kernel" + SUFFIX: np.full(1, 4.0),
        "optimizer/iter" + SUFFIX: np.zeros(1),  # not a layer: skipped
        "save_counter" + SUFFIX: np.zeros(1),
    })
    inner = built.layer("inner").model
    assert inner.layer("conv").weights["kernel"][0] == 1 and inner.layer("bn").weights["moving_mean"][0] == 2
    assert built.layer("dense").weights == {"bias": 3.0, "kernel": 4.0}


def test_a_path_past_the_layers_is_an_error():
    with pytest.raises(TensorflowConversionError, match="has no layer_with_weights-5"):
        assign_variables(model(), {"layer_with_weights-5/kernel" + SUFFIX: np.ones(1)})
    with pytest.raises(TensorflowConversionError, match="below a layer that is not a model"):
        assign_variables(model(), {"layer_with_weights-1/layer-0/kernel" + SUFFIX: np.ones(1)})


def test_keras_tuples_become_lists():
    raw = {"batch_input_shape": {"class_name": "__tuple__", "items": [None, {"class_name": "__tuple__", "items": [1]}]}}
    assert _plain(raw) == {"batch_input_shape": [None, [1]]}
