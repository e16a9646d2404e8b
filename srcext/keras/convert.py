"""Keras model (HDF5 file or SavedModel directory) -> ONNX, inputs in the model's own NHWC layout and names.

Layers are converted in the order their inputs become available; a nested model is converted inline, its
inputs bound to the tensors its call receives. ONNX inputs and outputs carry the Keras input and output
layer names, with a dynamic batch."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from srcext.tensorflow.builder import GraphBuilder, onnx_type
from srcext.tensorflow.convert import IR_VERSION, OPSET, with_output_shapes
from srcext.tensorflow.errors import TensorflowConversionError

from . import layers as layer_converters
from .h5 import read_h5
from .model import KerasModel, TensorRef
from .savedmodel import read_keras_savedmodel

CONVERTER_VERSION = "1"


def _input_shape(model: KerasModel, name: str) -> list[int]:
    config = model.layer(name).config
    shape = config.get("batch_input_shape") or config.get("batch_shape")
    if not shape:
        raise TensorflowConversionError(f"input layer {name!r} does not say its shape")
    return [-1 if dim is None else int(dim) for dim in shape]


def _convert_model(b: GraphBuilder, model: KerasModel, bound: dict[str, str]) -> list[str]:
    """Emit ``model``'s layers with its input layers bound to ONNX tensors; returns its output tensors."""
    tensors: dict[TensorRef, str] = {(name, 0, 0): tensor for name, tensor in bound.items()}
    pending = [layer for layer in model.layers if layer.class_name != "InputLayer"]
    while pending:
        progressed = False
        for layer in list(pending):
            for call, refs in enumerate(layer.inbound):
                if (layer.name, call, 0) in tensors or not all(ref in tensors for ref in refs):
                    continue
                inputs = [tensors[ref] for ref in refs]
                if layer.model is not None:
                    nested = dict(zip([ref[0] for ref in layer.model.inputs], inputs))
                    outputs = _convert_model(b, layer.model, nested)
                else:
                    converter = layer_converters.LAYERS.get(layer.class_name)
                    if converter is None:
                        raise layer_converters.layer_error(layer, "layer type not supported by the converter")
                    outputs = [converter(b, layer, inputs)]
                for index, tensor in enumerate(outputs):
                    tensors[(layer.name, call, index)] = tensor
                progressed = True
            if all((layer.name, call, 0) in tensors for call in range(len(layer.inbound))):
                pending.remove(layer)
        if not progressed:
            raise layer_converters.layer_error(pending[0], "its inputs are never computed (unsupported wiring)")
    missing = [ref for ref in model.outputs if ref not in tensors]
    if missing:
        raise TensorflowConversionError(f"model {model.name!r}: output {missing[0]} is not computed")
    return [tensors[ref] for ref in model.outputs]


def convert_model(model: KerasModel) -> onnx.ModelProto:
    b = GraphBuilder()
    shapes = {ref[0]: _input_shape(model, ref[0]) for ref in model.inputs}
    for name in shapes:
        b.dtypes[name] = np.dtype(np.float32)
    outputs = _convert_model(b, model, {name: name for name in shapes})
    b.scope = "outputs"
    names = [ref[0] for ref in model.outputs]
    for tensor, name in zip(outputs, names):
        b.node("Identity", [tensor], b.dtypes[tensor], name)
    graph = helper.make_graph(
        b.nodes, model.name,
        [helper.make_tensor_value_info(name, onnx_type(np.float32), [d if d >= 0 else "N" for d in dims])
         for name, dims in shapes.items()],
        [helper.make_tensor_value_info(name, onnx_type(b.dtypes[name]), None) for name in names],
        initializer=b.tensors())
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                                   producer_name="srcext.keras", producer_version=CONVERTER_VERSION)
    return with_output_shapes(onnx_model, shapes)


def read_keras(path: str | Path) -> KerasModel:
    """An HDF5 file or a SavedModel directory."""
    path = Path(path)
    if path.is_dir():
        return read_keras_savedmodel(path)
    return read_h5(path)


def convert(path: str | Path | KerasModel, **_: Any) -> onnx.ModelProto:
    """Convert a Keras model file or directory (or a model already read) to ONNX."""
    return convert_model(path if isinstance(path, KerasModel) else read_keras(path))
