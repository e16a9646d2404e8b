"""Keras HDF5 files (``model.save("x.h5")``): the architecture JSON in the ``model_config`` attribute and the
weights under ``model_weights/<layer>/`` in the order ``weight_names`` gives. h5py reads HDF5 (the ``tools``
extra); nothing of Keras or TensorFlow is needed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from srcext.tensorflow.errors import TensorflowConversionError

from .model import KerasLayer, KerasModel, parse_model_config


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def _weight_key(name: str) -> tuple[str, str]:
    """``batch_normalization_1_1/moving_mean:0`` -> (``batch_normalization_1_1``, ``moving_mean``)."""
    path = name.rsplit(":", 1)[0]
    owner, _, key = path.rpartition("/")
    return owner, key


def _owner_layer(model: KerasModel, owner: str) -> KerasLayer:
    """The layer of a nested model a weight belongs to: its name, else its name with a ``_<n>`` suffix removed
    (TensorFlow uniquifies name scopes, so layer ``conv2d_1`` may hold ``conv2d_1_1/kernel:0``)."""
    names = {layer.name: layer for layer in model.layers}
    first = owner.split("/")[-1]
    if first in names:
        return names[first]
    stripped = re.sub(r"_\d+$", "", first)
    if stripped in names:
        return names[stripped]
    raise TensorflowConversionError(f"weight {owner!r} belongs to no layer of model {model.name!r}")


def _load_weights(model: KerasModel, group: object) -> None:
    for layer in model.layers:
        if layer.name not in group:  # type: ignore[operator]
            continue
        layer_group = group[layer.name]  # type: ignore[index]
        for raw in layer_group.attrs.get("weight_names", []):
            name = _text(raw)
            value = np.asarray(layer_group[name])
            owner, key = _weight_key(name)
            target = _owner_layer(layer.model, owner) if layer.model is not None else layer
            target.weights[key] = value


def read_h5(path: str | Path) -> KerasModel:
    """Read a Keras HDF5 model file (architecture + weights)."""
    import h5py  # pylint: disable=import-outside-toplevel (an optional dependency: the tools extra)

    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise TensorflowConversionError(f"{path} holds weights only (no model_config): save the whole model")
            model = parse_model_config(json.loads(_text(handle.attrs["model_config"])))
            _load_weights(model, handle["model_weights"] if "model_weights" in handle else handle)
    except OSError as error:
        raise TensorflowConversionError(f"cannot read {path} as HDF5: {error}") from error
    return model
