"""The Keras model description both file formats share: layers with their config, weights and wiring.

``KerasLayer.inbound`` lists, per call of the layer, the ``(layer, node index, tensor index)`` it reads;
nested models (a Functional model used as a layer, as transfer-learning heads do) keep their own layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from srcext.tensorflow.errors import TensorflowConversionError

TensorRef = tuple[str, int, int]


@dataclass
class KerasLayer:
    name: str
    class_name: str
    config: dict[str, Any]
    inbound: list[list[TensorRef]] = field(default_factory=list)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    model: "KerasModel | None" = None  # a nested model


@dataclass
class KerasModel:
    name: str
    layers: list[KerasLayer]
    inputs: list[TensorRef]
    outputs: list[TensorRef]

    def layer(self, name: str) -> KerasLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise TensorflowConversionError(f"model {self.name!r} has no layer {name!r}")


MODEL_CLASSES = ("Model", "Functional", "Sequential")


def _refs(entries: list[Any]) -> list[TensorRef]:
    return [(str(entry[0]), int(entry[1]), int(entry[2])) for entry in entries]


def _inbound(raw: list[Any], layer: str) -> list[list[TensorRef]]:
    calls = []
    for call in raw:
        if isinstance(call, dict):
            raise TensorflowConversionError(f"layer {layer!r}: Keras 3 inbound node format is not supported")
        calls.append(_refs(call))
    return calls


def parse_model_config(config: dict[str, Any]) -> KerasModel:
    """A ``model_config`` (``{"class_name": ..., "config": ...}``) -> KerasModel, Sequential made functional."""
    class_name, body = config.get("class_name"), config.get("config")
    if class_name not in MODEL_CLASSES or not isinstance(body, (dict, list)):
        raise TensorflowConversionError(f"model class {class_name!r} is not supported")
    if class_name == "Sequential":
        return _sequential(body)
    if not isinstance(body, dict):
        raise TensorflowConversionError(f"model class {class_name!r} without a config")
    layers = []
    for item in body["layers"]:
        layer = KerasLayer(item.get("name") or item["config"]["name"], item["class_name"], item.get("config", {}),
                           _inbound(item.get("inbound_nodes", []), item.get("name", "?")))
        if layer.class_name in MODEL_CLASSES:
            layer.model = parse_model_config(item)
        layers.append(layer)
    return KerasModel(body.get("name", "model"), layers, _refs(body["input_layers"]), _refs(body["output_layers"]))


def _sequential(body: dict[str, Any] | list[Any]) -> KerasModel:
    items = body["layers"] if isinstance(body, dict) else body
    name = body.get("name", "sequential") if isinstance(body, dict) else "sequential"
    layers: list[KerasLayer] = []
    previous: str | None = None
    for item in items:
        config = item.get("config", {})
        if previous is None and item["class_name"] != "InputLayer":
            shape = config.get("batch_input_shape") or config.get("batch_shape")
            if shape is None:
                raise TensorflowConversionError(f"sequential model {name!r} does not say its input shape")
            previous = f"{name}_input"
            layers.append(KerasLayer(previous, "InputLayer", {"batch_input_shape": shape, "name": previous}))
        layer = KerasLayer(config.get("name", item.get("name")), item["class_name"], config,
                           [[(previous, 0, 0)]] if previous else [])
        if layer.class_name in MODEL_CLASSES:
            layer.model = parse_model_config(item)
        layers.append(layer)
        previous = layer.name
    return KerasModel(name, layers, [(layers[0].name, 0, 0)], [(layers[-1].name, 0, 0)])
