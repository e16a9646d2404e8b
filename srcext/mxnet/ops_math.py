"""Converters for arithmetic: element-wise and broadcast binary ops, ``_*_scalar`` ops, sums and clip."""
from __future__ import annotations

import numpy as np

from .attrs import Attrs
from .builder import GraphBuilder
from .registry import converts

BINARY = {
    "Add": ("elemwise_add", "_plus", "_Plus", "_add", "broadcast_add", "broadcast_plus"),
    "Sub": ("elemwise_sub", "_minus", "_Minus", "_sub", "broadcast_sub", "broadcast_minus"),
    "Mul": ("elemwise_mul", "_mul", "_Mul", "broadcast_mul"),
    "Div": ("elemwise_div", "_div", "_Div", "broadcast_div"),
    "Max": ("_maximum", "_Maximum", "broadcast_maximum"),
    "Min": ("_minimum", "_Minimum", "broadcast_minimum"),
    "Pow": ("_power", "_Power", "broadcast_power"),
}
BINARY_OPS = {mxnet_op: onnx_op for onnx_op, names in BINARY.items() for mxnet_op in names}

# MXNet scalar op -> (ONNX op, scalar goes first?)
SCALAR = {
    "_plus_scalar": ("Add", False), "_PlusScalar": ("Add", False),
    "_minus_scalar": ("Sub", False), "_MinusScalar": ("Sub", False),
    "_rminus_scalar": ("Sub", True), "_RMinusScalar": ("Sub", True),
    "_mul_scalar": ("Mul", False), "_MulScalar": ("Mul", False),
    "_div_scalar": ("Div", False), "_DivScalar": ("Div", False),
    "_rdiv_scalar": ("Div", True), "_RDivScalar": ("Div", True),
    "_maximum_scalar": ("Max", False), "_MaximumScalar": ("Max", False),
    "_minimum_scalar": ("Min", False), "_MinimumScalar": ("Min", False),
    "_power_scalar": ("Pow", False), "_PowerScalar": ("Pow", False),
    "_rpower_scalar": ("Pow", True), "_RPowerScalar": ("Pow", True),
}


@converts(*BINARY_OPS, known=())
def binary(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    left, right = inputs[:2]
    shape = np.broadcast_shapes(b.shape(left), b.shape(right))
    return b.node(BINARY_OPS[attrs.node.op], [left, right], shape, out)


@converts(*SCALAR, known=("scalar", "is_int"))
def scalar(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """MXNet casts the scalar to the tensor's dtype (float32 here) before the operation."""
    op, reverse = SCALAR[attrs.node.op]
    if not attrs.has("scalar"):
        raise attrs.error("missing", "scalar")
    constant = b.const("scalar", attrs.number("scalar", 0.0))
    operands = [constant, inputs[0]] if reverse else [inputs[0], constant]
    return b.node(op, operands, b.shape(inputs[0]), out)


@converts("add_n", "ElementWiseSum", known=("num_args",))
def add_n(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    return b.node("Sum", inputs, b.shape(inputs[0]), out)


@converts("clip", known=("a_min", "a_max"))
def clip(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    for key in ("a_min", "a_max"):
        if not attrs.has(key):
            raise attrs.error("missing", key)
    low, high = b.const("a_min", attrs.number("a_min", 0.0)), b.const("a_max", attrs.number("a_max", 0.0))
    return b.node("Clip", [inputs[0], low, high], b.shape(inputs[0]), out)
