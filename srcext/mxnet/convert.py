"""MXNet symbol + params -> ONNX ``ModelProto`` (opset 13), one converter per MXNet op.

Only nodes that the requested outputs depend on are converted, so training heads (``softmax_label``,
``SoftmaxOutput``) never get in the way of an ``fc1`` output. Floating parameters (float16/float64 too)
become float32 initializers, the dtype MXNet binds them to for a float32 input.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from . import ops_math, ops_nn, ops_pool, ops_tensor  # noqa: F401 (they fill the registry)
from .attrs import Attrs
from .builder import GraphBuilder
from .errors import MxnetConversionError, node_error
from .params import read_params, split_params
from .registry import CONVERTERS
from .symbol import MxNode, MxSymbol, read_symbol

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
OPSET = 13
IR_VERSION = 8
BATCH = "N"

ShapeArg = Sequence[int] | Mapping[str, Sequence[int]]


def _load_params(params: Mapping[str, np.ndarray] | str | Path | bytes) -> dict[str, np.ndarray]:
    raw = params if isinstance(params, Mapping) else read_params(params)
    loaded = {}
    for name, value in split_params(raw).items():
        array = np.asarray(value)
        loaded[name] = array.astype(np.float32) if array.dtype.kind == "f" else array
    return loaded


def _free_variables(symbol: MxSymbol, params: Mapping[str, np.ndarray]) -> list[str]:
    return [node.name for node in symbol.nodes if node.op == "null" and node.name not in params]


def _input_shapes(symbol: MxSymbol, params: Mapping[str, np.ndarray], shape: ShapeArg) -> dict[str, tuple[int, ...]]:
    if isinstance(shape, Mapping):
        return {name: tuple(int(dim) for dim in dims) for name, dims in shape.items()}
    free = _free_variables(symbol, params)
    name = "data" if "data" in free else (free[0] if len(free) == 1 else None)
    if name is None:
        raise MxnetConversionError(f"cannot tell which variable is the input among {free}; pass a dict of shapes")
    return {name: tuple(int(dim) for dim in shape)}


def _output_entry(symbol: MxSymbol, name: str) -> tuple[int, int]:
    """``fc1``, ``fc1_output`` or ``fc1_output0`` -> (node index, output index)."""
    names = {node.name: node.index for node in symbol.nodes}
    if name in names:
        return names[name], 0
    base, marker, suffix = name.rpartition("_output")
    if marker and base in names and (suffix == "" or suffix.isdigit()):
        return names[base], int(suffix or 0)
    raise MxnetConversionError(f"requested output {name!r} names no node of the symbol")


def _reachable(symbol: MxSymbol, heads: Sequence[tuple[int, int]]) -> list[MxNode]:
    seen: set[int] = set()
    stack = [index for index, _ in heads]
    while stack:
        index = stack.pop()
        if index not in seen:
            seen.add(index)
            stack.extend(source for source, _ in symbol.nodes[index].inputs)
    return [node for node in symbol.nodes if node.index in seen]


def _convert_node(b: GraphBuilder, node: MxNode, tensors: dict[tuple[int, int], str]) -> str:
    converter = CONVERTERS.get(node.op)
    if converter is None:
        raise node_error(node.name, node.op, "operator not supported by the converter")
    inputs = []
    for source, output in node.inputs:
        if (source, output) not in tensors:
            raise node_error(node.name, node.op, f"reads output {output} of node {source}, which has only one")
        inputs.append(tensors[(source, output)])
    b.scope = node.name
    return converter.fn(b, Attrs(node, converter.known), inputs, f"{node.name}_output")


def _value_info(name: str, shape: tuple[int, ...], batch: int | None) -> onnx.ValueInfoProto:
    dims: list[Any] = list(shape)
    if batch is not None and dims and dims[0] == batch:
        dims[0] = BATCH
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def convert(symbol: MxSymbol | str | Path | dict[str, Any], params: Mapping[str, np.ndarray] | str | Path | bytes,
            input_shape: ShapeArg, outputs: Sequence[str] | str | None = None,
            dynamic_batch: bool = True) -> onnx.ModelProto:
    """Convert to ONNX. ``input_shape`` is the data shape (or ``{name: shape}``); ``outputs`` are node names
    (``fc1`` or ``fc1_output``), defaulting to the symbol's heads. Graph outputs are ``<node>_output``.
    With ``dynamic_batch`` the batch dim is symbolic (``N``) unless a node needed its concrete value."""
    symbol = symbol if isinstance(symbol, MxSymbol) else read_symbol(symbol)
    values = _load_params(params)
    shapes = _input_shapes(symbol, values, input_shape)
    wanted = [outputs] if isinstance(outputs, str) else outputs
    heads = [_output_entry(symbol, name) for name in wanted] if wanted else list(symbol.heads)
    b = GraphBuilder(values)
    tensors: dict[tuple[int, int], str] = {}
    for node in _reachable(symbol, heads):
        if node.op != "null":
            tensors[(node.index, 0)] = _convert_node(b, node, tensors)
        elif node.name in shapes:
            b.shapes[node.name] = shapes[node.name]
            tensors[(node.index, 0)] = node.name
        elif node.name in values:
            tensors[(node.index, 0)] = node.name
        else:
            raise node_error(node.name, "null", "variable has no value in the params and is not an input")
    graph_outputs = []
    for index, output in heads:
        node = symbol.nodes[index]
        if (index, output) not in tensors:
            raise node_error(node.name, node.op, f"output {output} is not supported (single-output converter)")
        name = f"{node.name}_output" + (str(output) if output else "")
        if tensors[(index, output)] != name:
            b.node("Identity", [tensors[(index, output)]], b.shape(tensors[(index, output)]), name)
        graph_outputs.append(name)
    batches = {dims[0] for dims in shapes.values() if dims}
    batch = next(iter(batches)) if dynamic_batch and not b.batch_static and len(batches) == 1 else None
    if dynamic_batch and batch is None:
        log.warning("batch size stays fixed in the ONNX graph (a node depends on its concrete value)")
    graph = helper.make_graph(
        b.nodes, "mxnet_converted",
        [_value_info(name, dims, batch) for name, dims in shapes.items()],
        [_value_info(name, b.shape(name), batch) for name in graph_outputs],
        initializer=b.tensors())
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              producer_name="srcext.mxnet", producer_version=CONVERTER_VERSION)
    onnx.checker.check_model(model)
    return model
