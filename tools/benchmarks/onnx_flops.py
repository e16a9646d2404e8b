"""Count the multiply-adds of an ONNX graph for one concrete input shape.

Only Conv, ConvTranspose, Gemm and MatMul are counted: they hold nearly all of the arithmetic of a
face model, and they are what an sgemm rate bounds. One multiply-add counts as 2 FLOPs.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

COUNTED = ("Conv", "ConvTranspose", "Gemm", "MatMul")


@dataclass
class FlopCount:
    """FLOPs (2 per multiply-add) per counted op type, and how many nodes of other types were left out."""

    by_op: dict[str, int] = field(default_factory=dict)
    uncounted: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_op.values())

    def add(self, op: str, macs: int) -> None:
        self.by_op[op] = self.by_op.get(op, 0) + 2 * int(macs)


def with_input_shapes(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """A copy of ``model`` whose graph inputs have the given concrete shapes (dynamic dims fixed)."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    initializers = {t.name for t in fixed.graph.initializer}
    for value in fixed.graph.input:
        if value.name in initializers:
            continue
        if value.name not in shapes:
            raise ValueError(f"no shape given for input {value.name!r}; inputs: {input_names(model)}")
        dims = value.type.tensor_type.shape.dim
        wanted = list(shapes[value.name])
        if len(dims) != len(wanted):
            raise ValueError(f"input {value.name!r} has rank {len(dims)}, shape given {wanted}")
        for dim, size in zip(dims, wanted):
            dim.Clear()
            dim.dim_value = int(size)
    for value in fixed.graph.output:  # stale symbolic output shapes would only confuse inference
        value.type.tensor_type.ClearField("shape")
    fixed.graph.ClearField("value_info")
    return fixed


def input_names(model: onnx.ModelProto) -> list[str]:
    initializers = {t.name for t in model.graph.initializer}
    return [v.name for v in model.graph.input if v.name not in initializers]


def _known_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    graph = model.graph
    for value in [*graph.input, *graph.value_info, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if value.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    for tensor in graph.initializer:
        shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
    for node in graph.node:  # Constant nodes feeding a MatMul/Gemm
        if node.op_type == "Constant" and node.attribute:
            for attribute in node.attribute:
                if attribute.name == "value":
                    shapes[node.output[0]] = tuple(numpy_helper.to_array(attribute.t).shape)
    return shapes


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for attribute in node.attribute:
        if attribute.name == name:
            return int(attribute.i)
    return default


def _need(shapes: Mapping[str, tuple[int, ...]], name: str, node: onnx.NodeProto) -> tuple[int, ...]:
    if name not in shapes:
        raise ValueError(f"shape of {name!r} (input/output of {node.op_type} {node.name!r}) is unknown")
    return shapes[name]


def _node_macs(node: onnx.NodeProto, shapes: Mapping[str, tuple[int, ...]]) -> int:
    op = node.op_type
    if op == "Conv":
        out = _need(shapes, node.output[0], node)
        weight = _need(shapes, node.input[1], node)  # (Cout, Cin/groups, *kernel)
        return int(np.prod(out, dtype=np.int64) * np.prod(weight[1:], dtype=np.int64))
    if op == "ConvTranspose":
        inp = _need(shapes, node.input[0], node)
        weight = _need(shapes, node.input[1], node)  # (Cin, Cout/groups, *kernel)
        return int(np.prod(inp, dtype=np.int64) * np.prod(weight[1:], dtype=np.int64))
    if op == "Gemm":
        a, b = _need(shapes, node.input[0], node), _need(shapes, node.input[1], node)
        m = a[1] if _attr(node, "transA", 0) else a[0]
        k = a[0] if _attr(node, "transA", 0) else a[1]
        n = b[0] if _attr(node, "transB", 0) else b[1]
        return m * n * k
    if op == "MatMul":
        a, out = _need(shapes, node.input[0], node), _need(shapes, node.output[0], node)
        k = a[-1]
        return int(np.prod(out, dtype=np.int64)) * k
    raise ValueError(f"{op} is not counted")


def runtime_shapes(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]],
                   names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Shapes of ``names`` found by running the graph once on zeros (when static inference cannot tell)."""
    import onnxruntime as ort

    probe = with_input_shapes(model, shapes)
    probe.graph.output.extend(onnx.ValueInfoProto(name=name) for name in names)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every named tensor
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    dtypes = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int64)": np.int64}
    feeds = {i.name: np.zeros(shapes[i.name], dtypes.get(i.type, np.float32)) for i in session.get_inputs()}
    values = session.run(list(names), feeds)
    return {name: tuple(int(d) for d in value.shape) for name, value in zip(names, values)}


def count_flops(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> FlopCount:
    """FLOPs of one run of ``model`` on inputs of ``shapes`` (name -> concrete shape)."""
    inferred = shape_inference.infer_shapes(with_input_shapes(model, shapes), strict_mode=False, data_prop=True)
    known = _known_shapes(inferred)
    missing = [n.output[0] for n in inferred.graph.node if n.op_type in COUNTED and n.output[0] not in known]
    if missing:  # e.g. a Resize whose sizes are computed: ask the runtime instead
        known.update(runtime_shapes(model, shapes, missing))
    result = FlopCount()
    for node in inferred.graph.node:
        if node.op_type in COUNTED:
            result.add(node.op_type, _node_macs(node, known))
        else:
            result.uncounted[node.op_type] += 1
    return result
