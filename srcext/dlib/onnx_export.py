"""Build an ONNX graph that computes exactly what dlib computes for a parsed, topology-resolved net.

dlib semantics carried over (dlib/dnn/layers.h, cpu_dlib.cpp):
- input: ``(pixel - mean) / 256`` per RGB channel; done inside the graph, so the model takes RGB
  pixels 0..255 as float32 NCHW;
- ``con_``: zero-padded cross-correlation (ONNX Conv); ``affine_``: per-channel ``x * gamma + beta``;
- pools: floor output size; a window of 0 is a global pool; average pools divide by the
  in-image count (ONNX ``count_include_pad=0``);
- ``add_prev_``: when the two tensors differ in channels/rows/columns the sum has the larger
  size of each and the smaller one is zero-extended at the end (``tt::add`` bounds checks), which
  dlib's face ResNet relies on (a 3x3 block output is added into a 4x4 pooled shortcut);
- ``fc_``: ``flatten(x) @ W (+ b)`` with W stored (inputs, outputs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from srcext.dlib.layers import AddPrev, Affine, Conv, FullyConnected, Pool, Relu
from srcext.dlib.netfile import DlibNet, Marker
from srcext.dlib.serial import DlibFormatError

OPSET = 17
IR_VERSION = 8  # loadable by onnxruntime >= 1.14


@dataclass(frozen=True)
class Value:
    """A graph value and its static shape after the batch axis (None where dynamic)."""

    name: str
    shape: tuple[int | None, ...]


def _out_size(size: int | None, window: int, stride: int, pad: int) -> int | None:
    return None if size is None else (size + 2 * pad - window) // stride + 1


class GraphBuilder:
    """Accumulates nodes and initializers with deterministic names."""

    def __init__(self) -> None:
        import onnx  # noqa: F401  (fail early if absent)

        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, array: np.ndarray | np.generic) -> str:
        from onnx import numpy_helper

        name = self._name(stem)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], stem: str, *, out: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        out = out or self._name(stem)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # --- dlib layers ---------------------------------------------------------------------------

    def input_norm(self, value: Value, mean_rgb: tuple[float, float, float]) -> Value:
        mean = np.asarray(mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
        centred = self.node("Sub", [value.name, self.const("input_mean", mean)], "centred")
        scaled = self.node("Mul", [centred, self.const("input_scale", np.float32(1.0 / 256.0))], "input_norm")
        return Value(scaled, value.shape)

    def conv(self, value: Value, layer: Conv) -> Value:
        out_c, in_c, kh, kw = layer.weights.shape
        if value.shape[0] != in_c:
            raise DlibFormatError(f"conv expects {in_c} channels, gets {value.shape[0]}")
        (sy, sx), (py, px) = layer.stride, layer.padding
        inputs = [value.name, self.const("conv_w", layer.weights), self.const("conv_b", layer.bias)]
        out = self.node("Conv", inputs, "conv", kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
        return Value(out, (out_c, _out_size(value.shape[1], kh, sy, py), _out_size(value.shape[2], kw, sx, px)))

    def affine(self, value: Value, layer: Affine) -> Value:
        if layer.conv_mode:
            lead = (1, -1, 1, 1) if len(value.shape) == 3 else (1, -1)
            gamma, beta = layer.gamma.reshape(lead), layer.beta.reshape(lead)
        else:
            gamma, beta = layer.gamma[np.newaxis], layer.beta[np.newaxis]
            if len(value.shape) == 1:
                gamma, beta = gamma.reshape(1, -1), beta.reshape(1, -1)
        scaled = self.node("Mul", [value.name, self.const("affine_gamma", gamma)], "affine_mul")
        return Value(self.node("Add", [scaled, self.const("affine_beta", beta)], "affine"), value.shape)

    def relu(self, value: Value) -> Value:
        return Value(self.node("Relu", [value.name], "relu"), value.shape)

    def pool(self, value: Value, layer: Pool) -> Value:
        (wy, wx), (sy, sx), (py, px) = layer.window, layer.stride, layer.padding
        channels = value.shape[0]
        if wy == 0 and wx == 0:
            op = "GlobalMaxPool" if layer.kind == "max" else "GlobalAveragePool"
            return Value(self.node(op, [value.name], f"{layer.kind}_pool_all"), (channels, 1, 1))
        if wy == 0 or wx == 0:
            raise DlibFormatError("pooling over the whole of only one axis is not supported")
        attrs: dict[str, Any] = {"kernel_shape": [wy, wx], "strides": [sy, sx], "pads": [py, px, py, px]}
        if layer.kind == "max":
            out = self.node("MaxPool", [value.name], "max_pool", **attrs)
        else:
            out = self.node("AveragePool", [value.name], "avg_pool", count_include_pad=0, **attrs)
        return Value(out, (channels, _out_size(value.shape[1], wy, sy, py), _out_size(value.shape[2], wx, sx, px)))

    def fc(self, value: Value, layer: FullyConnected) -> Value:
        num_inputs, num_outputs = layer.weights.shape
        shape = static(value.shape)
        flat_size = int(np.prod(shape)) if shape is not None else None
        if flat_size is not None and flat_size != num_inputs:
            raise DlibFormatError(f"fc expects {num_inputs} inputs, gets {flat_size}")
        flat = self.node("Flatten", [value.name], "flatten", axis=1) if len(value.shape) > 1 else value.name
        inputs = [flat, self.const("fc_w", layer.weights)]
        if layer.bias is not None:
            inputs.append(self.const("fc_b", layer.bias.reshape(num_outputs)))
        return Value(self.node("Gemm", inputs, "fc"), (num_outputs,))

    def add_prev(self, value: Value, other: Value) -> Value:
        if value.shape == other.shape:
            return Value(self.node("Add", [value.name, other.name], "add_prev"), value.shape)
        mine, theirs = static(value.shape), static(other.shape)
        if mine is None or theirs is None or len(mine) != len(theirs):
            raise DlibFormatError("add_prev of differently sized tensors needs static shapes")
        target = tuple(max(a, b) for a, b in zip(mine, theirs))
        padded = [self._zero_extend(value, mine, target), self._zero_extend(other, theirs, target)]
        return Value(self.node("Add", padded, "add_prev"), target)

    def _zero_extend(self, value: Value, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
        if shape == target:
            return value.name
        ends = [t - s for s, t in zip(shape, target)]
        pads = np.array([0] * (len(target) + 1) + [0] + ends, dtype=np.int64)
        return self.node("Pad", [value.name, self.const("pads", pads)], "zero_extend", mode="constant")


def build_graph(net: DlibNet, builder: GraphBuilder, source: Value) -> Value:
    """Add ``net`` (topology resolved) to ``builder`` and return its output value."""
    current = builder.input_norm(source, net.input.mean_rgb)
    tags: dict[int, Value] = {}
    for item in reversed(net.items):  # bottom-up, the order dlib's forward() runs
        if isinstance(item, Marker):
            if item.tag is None:
                raise DlibFormatError("tag/skip marker without a number: apply a topology template first")
            if item.kind == "tag":
                tags[item.tag] = current
            elif item.kind == "skip":
                current = _tagged(tags, item.tag)
            else:
                raise DlibFormatError("unresolved tag/skip marker: apply a topology template first")
        elif isinstance(item, AddPrev):
            if item.tag is None:
                raise DlibFormatError("add_prev without a tag number: apply a topology template first")
            current = builder.add_prev(current, _tagged(tags, item.tag))
        elif isinstance(item, Conv):
            current = builder.conv(current, item)
        elif isinstance(item, Affine):
            current = builder.affine(current, item)
        elif isinstance(item, Relu):
            current = builder.relu(current)
        elif isinstance(item, Pool):
            current = builder.pool(current, item)
        elif isinstance(item, FullyConnected):
            current = builder.fc(current, item)
        else:
            raise DlibFormatError(f"no ONNX mapping for {type(item).__name__}")
    return current


def static(shape: tuple[int | None, ...]) -> tuple[int, ...] | None:
    """``shape`` when every axis is known, else ``None``."""
    known = tuple(axis for axis in shape if axis is not None)
    return known if len(known) == len(shape) else None


def _tagged(tags: dict[int, Value], number: int) -> Value:
    if number not in tags:
        raise DlibFormatError(f"tag{number} is used before any layer below sets it")
    return tags[number]


def make_model(net: DlibNet, output_name: str, graph_name: str, metadata: dict[str, str]):
    """The ONNX model: input ``input`` float32 [batch, 3, rows, cols] RGB 0..255 -> ``output_name``."""
    from onnx import TensorProto, checker, helper

    rows, cols = net.input.size if net.input.size else (None, None)
    builder = GraphBuilder()
    result = build_graph(net, builder, Value("input", (3, rows, cols)))
    builder.node("Identity", [result.name], output_name, out=output_name)
    dims_in: list[str | int] = ["batch", 3, rows if rows else "height", cols if cols else "width"]
    out_dims: list[str | int] = ["batch", *(d if d is not None else f"out_{i}" for i, d in enumerate(result.shape))]
    graph = helper.make_graph(
        builder.nodes,
        graph_name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims_in)],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, out_dims)],
        builder.initializers,
    )
    model = helper.make_model(graph, producer_name="srcext.dlib", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    helper.set_model_props(model, dict(sorted(metadata.items())))
    checker.check_model(model)
    return model
