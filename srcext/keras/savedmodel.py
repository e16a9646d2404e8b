"""Keras models saved as a SavedModel directory (``saved_model.pb`` + ``variables/``), read without TensorFlow.

The architecture is the Keras config that Keras stores with the model: in ``keras_metadata.pb`` (TF >= 2.5)
or in the root object's ``user_object.metadata`` of ``saved_model.pb``'s object graph (TF 2.1-2.4, as
CompreFace's mask model). The weights are in the TensorBundle ``variables/variables.index``, keyed by the
object path Keras gives them: ``layer_with_weights-<k>/.../<attribute>/.ATTRIBUTES/VARIABLE_VALUE``, where ``k``
counts the layers that hold weights, in the model's layer order (``layer-<n>`` counts all layers).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from srcext.tensorflow.checkpoint import read_checkpoint
from srcext.tensorflow.errors import TensorflowConversionError
from srcext.tensorflow.wire import Message

from .model import KerasLayer, KerasModel, parse_model_config

VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
WEIGHTED = {"Conv2D", "Convolution2D", "Dense", "BatchNormalization", "DepthwiseConv2D", "SeparableConv2D",
            "SeparableConvolution2D"}


def _root_metadata(folder: Path) -> dict[str, Any]:
    keras_metadata = folder / "keras_metadata.pb"
    if keras_metadata.is_file():
        for node in Message(keras_metadata.read_bytes()).messages(1):
            if node.string(3) == "root":
                return json.loads(node.string(5))
    saved = folder / "saved_model.pb"
    if not saved.is_file():
        raise TensorflowConversionError(f"{folder} is not a SavedModel directory (no saved_model.pb)")
    meta_graph = Message(saved.read_bytes()).message(2)
    nodes = meta_graph.message(7).messages(1)
    if not nodes:
        raise TensorflowConversionError(f"{saved} has no object graph (not saved by TensorFlow 2)")
    metadata = nodes[0].message(4).string(3)
    if not metadata:
        raise TensorflowConversionError(f"{saved}: the root object has no Keras metadata (not a Keras model)")
    return json.loads(metadata)


def _plain(value: Any) -> Any:
    """Keras's metadata JSON writes tuples as ``{"class_name": "__tuple__", "items": [...]}``: make them lists."""
    if isinstance(value, dict):
        if value.get("class_name") == "__tuple__" and "items" in value:
            return [_plain(item) for item in value["items"]]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _model_config(metadata: dict[str, Any]) -> dict[str, Any]:
    if "model_config" in metadata:
        return _plain(metadata["model_config"])
    if "config" in metadata and "class_name" in metadata:
        return _plain({"class_name": metadata["class_name"], "config": metadata["config"]})
    raise TensorflowConversionError("the SavedModel's Keras metadata holds no model config")


def _has_weights(layer: KerasLayer) -> bool:
    if layer.model is not None:
        return any(_has_weights(inner) for inner in layer.model.layers)
    return layer.class_name in WEIGHTED


def _step(model: KerasModel, part: str) -> KerasLayer:
    kind, _, number = part.rpartition("-")
    if not number.isdigit() or kind not in ("layer", "layer_with_weights"):
        raise TensorflowConversionError(f"variable path part {part!r} names no layer of model {model.name!r}")
    layers = model.layers if kind == "layer" else [layer for layer in model.layers if _has_weights(layer)]
    if int(number) >= len(layers):
        raise TensorflowConversionError(f"model {model.name!r} has no {part}")
    return layers[int(number)]


def assign_variables(model: KerasModel, variables: dict[str, np.ndarray]) -> None:
    """Give each layer its weights from the checkpoint keys (optimizer slots and counters are skipped)."""
    for key, value in variables.items():
        if not key.endswith(VALUE_SUFFIX) or not key.startswith("layer"):
            continue
        *path, attribute = key[:-len(VALUE_SUFFIX)].split("/")
        current: KerasModel | None = model
        layer: KerasLayer | None = None
        for part in path:
            if current is None:
                raise TensorflowConversionError(f"variable {key!r}: {part!r} below a layer that is not a model")
            layer = _step(current, part)
            current = layer.model
        if layer is None:
            raise TensorflowConversionError(f"variable {key!r} belongs to no layer")
        layer.weights[attribute] = value


def read_keras_savedmodel(folder: str | Path, variables: str | Path | None = None) -> KerasModel:
    """Architecture and weights of a Keras model saved with ``model.save(dir)`` (TensorFlow format);
    ``variables`` is the checkpoint index when it is not at ``<folder>/variables/variables.index``."""
    folder = Path(folder)
    model = parse_model_config(_model_config(_root_metadata(folder)))
    assign_variables(model, read_checkpoint(variables or folder / "variables" / "variables.index"))
    return model
