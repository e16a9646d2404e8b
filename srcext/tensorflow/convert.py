"""Frozen TensorFlow graph -> ONNX ``ModelProto`` (opset 13), one converter per TensorFlow op.

The graph is cut at the given inputs (any node may be one: FaceNet's ``input`` is an Identity of a queue,
not a Placeholder) and at the given constants, and only what the outputs depend on is converted. Control flow
of ``tf.cond`` is folded at conversion time: a ``Switch`` whose predicate is known forwards its data to one
port and marks the other dead; a node with a dead data or control input is dead; a ``Merge`` forwards its
first live input. So ``phase_train = False`` removes the training branches (queues, random dropout masks,
batch-statistics updates) before any of them is converted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import onnx
from onnx import helper
from onnx.reference import ReferenceEvaluator

from . import ops_nn, ops_tensor  # noqa: F401 (they fill the registry)
from .builder import GraphBuilder, onnx_type
from .errors import TensorflowConversionError, node_error
from .graphdef import TfNode, numpy_dtype, read_graph
from .registry import CONVERTERS, Converter, OpContext, Value

CONVERTER_VERSION = "1"
OPSET = 13
IR_VERSION = 8


class _Dead:
    """The value of a tensor on a branch that a folded ``Switch`` did not take."""


DEAD = _Dead()


class _Missing:
    """An output no converter produces (a batch norm's batch mean), kept as the error it becomes when a live
    node computes with it; ``Switch``, ``Merge`` and ``Identity`` may carry it towards dead branches."""

    def __init__(self, error: TensorflowConversionError) -> None:
        self.error = error


Slot = Value | _Dead | _Missing
CARRIERS = ("Switch", "Merge", "Identity")


def split_ref(ref: str) -> tuple[str, int]:
    """``name`` -> (name, 0); ``name:1`` -> (name, 1); a leading ``^`` (control edge) is dropped."""
    ref = ref.lstrip("^")
    name, colon, port = ref.rpartition(":")
    if colon and port.isdigit():
        return name, int(port)
    return ref, 0


def _order(by_name: dict[str, TfNode], outputs: Sequence[str], cut: set[str]) -> list[TfNode]:
    """The nodes the outputs depend on (through data and control edges, stopping at ``cut``), inputs first."""
    order: list[TfNode] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in outputs:
        stack = [(root, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                state[name] = 2
                order.append(by_name[name])
                continue
            if state.get(name):
                if state[name] == 1:
                    raise TensorflowConversionError(f"the graph has a cycle through {name!r} (a while loop?)")
                continue
            if name not in by_name:
                raise TensorflowConversionError(f"node {name!r} is referenced but not in the graph")
            state[name] = 1
            stack.append((name, True))
            if name not in cut:
                stack.extend((split_ref(ref)[0], False) for ref in reversed(by_name[name].inputs)
                             if state.get(split_ref(ref)[0]) != 2)
    return order


def _fold(node: TfNode, data: list[np.ndarray], converter: Converter) -> list[Value]:
    """A node whose inputs are all known is computed now, by its own converter's ONNX nodes run in ONNX's
    reference evaluator, so shape arithmetic and parameter transforms (``abs(v) + eps``) reach the
    converters that need constants."""
    scratch = GraphBuilder()
    scratch.scope = node.name
    results = converter.fn(OpContext(scratch, node, list(data), converter.known))
    pending = [index for index, value in enumerate(results) if not isinstance(value, np.ndarray)]
    if not pending:
        return results
    names = [str(results[index]) for index in pending]
    outputs = [helper.make_tensor_value_info(name, onnx_type(scratch.dtypes[name]), None) for name in names]
    graph = helper.make_graph(scratch.nodes, "fold", [], outputs, initializer=scratch.tensors())
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    computed = ReferenceEvaluator(model).run(None, {})
    for index, value in zip(pending, computed):
        results[index] = np.asarray(value)
    return results


def _node_dtype(node: TfNode) -> np.dtype:
    for key in ("dtype", "T"):
        if isinstance(node.attrs.get(key), int):
            return np.dtype(numpy_dtype(node.attrs[key]))
    return np.dtype(np.float32)


class _Converter:
    def __init__(self, nodes: Sequence[TfNode], inputs: Mapping[str, Sequence[int]],
                 constants: Mapping[str, Any]) -> None:
        self.by_name = {node.name: node for node in nodes}
        self.inputs = {name: tuple(int(dim) for dim in dims) for name, dims in inputs.items()}
        self.constants = dict(constants)
        self.b = GraphBuilder()
        self.values: dict[tuple[str, int], Slot] = {}
        self.ports: dict[str, int] = {}  # how many outputs of each node the graph reads
        for node in nodes:
            for ref in node.data_inputs:
                source, port = split_ref(ref)
                self.ports[source] = max(self.ports.get(source, 1), port + 1)

    def _input(self, node: TfNode, ref: str) -> Slot:
        key = split_ref(ref)
        if key not in self.values:
            source = self.by_name[key[0]]
            return _Missing(node_error(node.name, node.op, f"reads output {key[1]} of {source.name!r} "
                                                           f"(op {source.op}), which the converter does not produce"))
        return self.values[key]

    def _visit(self, node: TfNode) -> None:
        name = node.name
        if name in self.inputs:
            self.b.dtypes[name] = _node_dtype(node)
            self.values[(name, 0)] = name
            return
        if name in self.constants:
            self.values[(name, 0)] = np.asarray(self.constants[name], dtype=_node_dtype(node))
            return
        data = [self._input(node, ref) for ref in node.data_inputs]
        control_dead = any(self.values.get((source, 0)) is DEAD or (source, 1) in self.values and all(
            self.values.get((source, port)) is DEAD for port in (0, 1)) for source in node.control_inputs)
        if node.op == "Merge":
            live = [index for index, value in enumerate(data) if value is not DEAD]
            self.values[(name, 0)] = data[live[0]] if live and not control_dead else DEAD
            self.values[(name, 1)] = np.array(live[0], np.int32) if live and not control_dead else DEAD
            return
        if control_dead or any(value is DEAD for value in data):
            for port in range(max(1, self._port_count(node))):
                self.values[(name, port)] = DEAD
            return
        missing = next((value for value in data if isinstance(value, _Missing)), None)
        if missing is not None and (node.op not in CARRIERS or node.op == "Switch" and missing is data[1]):
            raise missing.error
        if node.op == "Switch":
            if not isinstance(data[1], np.ndarray):
                raise node_error(name, node.op, f"predicate {node.data_inputs[1]!r} is not known at conversion "
                                                "time; give it a value (--constant NODE=VALUE)")
            taken = 1 if bool(data[1]) else 0
            self.values[(name, taken)] = data[0]
            self.values[(name, 1 - taken)] = DEAD
            return
        if node.op == "Const":
            self.values[(name, 0)] = np.asarray(node.attrs["value"])
            return
        if node.op == "Identity" and missing is not None:
            self.values[(name, 0)] = missing
            return
        if node.op in ("Placeholder", "PlaceholderV2"):
            raise node_error(name, node.op, "placeholder has no value: declare it an input or a constant")
        converter = CONVERTERS.get(node.op)
        if converter is None:
            raise node_error(name, node.op, "operator not supported by the converter")
        if data and all(isinstance(value, np.ndarray) for value in data):
            results = _fold(node, data, converter)  # type: ignore[arg-type]
        else:
            self.b.scope = name
            results = converter.fn(OpContext(self.b, node, data, converter.known))  # type: ignore[arg-type]
        for port, value in enumerate(results):
            self.values[(name, port)] = value

    def _port_count(self, node: TfNode) -> int:
        return self.ports.get(node.name, 1)

    def run(self, outputs: Sequence[str]) -> onnx.ModelProto:
        missing = [name for name in list(self.inputs) + list(self.constants) if name not in self.by_name]
        if missing:
            raise TensorflowConversionError(f"no node named {missing[0]!r} in the graph")
        heads = [split_ref(ref) for ref in outputs]
        for node in _order(self.by_name, [name for name, _ in heads], set(self.inputs) | set(self.constants)):
            self._visit(node)
        graph_outputs = []
        self.b.scope = "outputs"
        for ref, key in zip(outputs, heads):
            value = self.values.get(key, DEAD)
            if isinstance(value, _Missing):
                raise value.error
            if isinstance(value, _Dead):
                raise TensorflowConversionError(f"output {ref!r} is not computed with the given constants "
                                                "(it lies on a branch that is not taken)")
            tensor = self.b.const(value, hint="value") if isinstance(value, np.ndarray) else value
            self.b.node("Identity", [tensor], self.b.dtypes[tensor], ref)
            graph_outputs.append(helper.make_tensor_value_info(ref, onnx_type(self.b.dtypes[ref]), None))
        graph_inputs = [helper.make_tensor_value_info(name, onnx_type(self.b.dtypes[name]),
                                                      [dim if dim >= 0 else f"{name}_dim{axis}"
                                                       for axis, dim in enumerate(dims)])
                        for name, dims in self.inputs.items() if name in self.b.dtypes]
        graph = helper.make_graph(self.b.nodes, "tensorflow_converted", graph_inputs, graph_outputs,
                                  initializer=self.b.tensors())
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                                  producer_name="srcext.tensorflow", producer_version=CONVERTER_VERSION)
        return with_output_shapes(model, self.inputs)


def with_output_shapes(model: onnx.ModelProto, inputs: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """ONNX wants a shape on every graph output. ONNX's shape inference loses the rank behind a Reshape whose
    shape is computed in the graph, so the ranks come from one run on zeros (dynamic dims as 1), and every
    output dim is declared symbolic."""
    import onnxruntime  # pylint: disable=import-outside-toplevel (heavy, only needed here)

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {item.name: np.zeros([max(dim, 1) for dim in inputs[item.name]], _numpy_of(item.type))
             for item in model.graph.input}
    for output, value in zip(model.graph.output, session.run([item.name for item in model.graph.output], feeds)):
        dims = [f"{output.name}_dim{axis}" for axis in range(np.ndim(value))]
        output.type.CopyFrom(helper.make_tensor_type_proto(output.type.tensor_type.elem_type, dims))
    onnx.checker.check_model(model)
    return model


def _numpy_of(type_proto: onnx.TypeProto) -> np.dtype:
    return np.dtype(helper.tensor_dtype_to_np_dtype(type_proto.tensor_type.elem_type))


def convert(graph: Sequence[TfNode] | str | Path, inputs: Mapping[str, Sequence[int]], outputs: Sequence[str],
            constants: Mapping[str, Any] | None = None) -> onnx.ModelProto:
    """Convert a frozen graph. ``inputs`` maps node names to shapes (-1: a dynamic dim) and become the ONNX
    inputs; ``constants`` maps node names (placeholders such as ``phase_train``) to values fixed at conversion;
    ``outputs`` are node names (``name`` or ``name:1``), which the ONNX outputs keep."""
    nodes = read_graph(graph) if isinstance(graph, (str, Path)) else graph
    if not outputs:
        raise TensorflowConversionError("name at least one output node")
    return _Converter(nodes, inputs, constants or {}).run(outputs)
