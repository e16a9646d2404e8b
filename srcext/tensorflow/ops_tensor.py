"""Converters that move, reshape, slice, join and reduce tensors, and the elementwise binary ops.

Shape arithmetic stays in the graph (Shape -> StridedSlice -> Pack -> Reshape), so a converted model keeps
a dynamic batch; ONNX Runtime folds it when the shapes are static. Values known at conversion time are
computed here with numpy instead.
"""
from __future__ import annotations

import numpy as np

from .registry import OpContext, Value, converts

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@converts("Identity", "StopGradient", "Snapshot", "PreventGradient", "PlaceholderWithDefault",
          known=("T", "dtype", "shape", "message"))
def identity(ctx: OpContext) -> list[Value]:
    return [ctx.values[0]]


@converts("Shape", known=("T", "out_type"))
def shape(ctx: OpContext) -> list[Value]:
    out_type = ctx.dtype_attr("out_type", np.int32)
    if ctx.is_const(0):
        return [np.array(ctx.const(0).shape, out_type)]
    return [ctx.b.cast(ctx.b.node("Shape", [ctx.tensor(0)], np.int64), out_type)]


@converts("Reshape", known=("T", "Tshape"))
def reshape(ctx: OpContext) -> list[Value]:
    if ctx.is_const(1) and 0 in ctx.const(1).tolist():
        raise ctx.error("a 0 in the target shape (an empty tensor) is not supported")
    if ctx.is_const(0) and ctx.is_const(1):
        return [ctx.const(0).reshape(ctx.const(1).tolist())]
    x = ctx.tensor(0)
    return [ctx.b.node("Reshape", [x, ctx.tensor(1, np.int64)], ctx.b.dtypes[x])]


def _slice_plan(ctx: OpContext) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """StridedSlice's masks -> ONNX Slice starts, ends, axes, steps, and the axes to squeeze."""
    if ctx.attr("ellipsis_mask", 0) or ctx.attr("new_axis_mask", 0):
        raise ctx.error("ellipsis_mask and new_axis_mask are not supported", "ellipsis_mask")
    begin, end, strides = (ctx.const(index, "slice bound").astype(np.int64).tolist() for index in (1, 2, 3))
    begin_mask, end_mask, shrink = (ctx.attr(key, 0) for key in ("begin_mask", "end_mask", "shrink_axis_mask"))
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, (first, last, step) in enumerate(zip(begin, end, strides)):
        if step == 0:
            raise ctx.error("a stride of 0 is not allowed")
        bit = 1 << axis
        if shrink & bit:
            first, last, step = first, (first + 1 if first != -1 else INT64_MAX), 1
            squeeze.append(axis)
        else:
            if begin_mask & bit:
                first = 0 if step > 0 else INT64_MAX
            if end_mask & bit:
                last = INT64_MAX if step > 0 else INT64_MIN
        starts.append(first)
        ends.append(last)
        axes.append(axis)
        steps.append(step)
    return starts, ends, axes, steps, squeeze


@converts("StridedSlice", known=("T", "Index", "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                 "shrink_axis_mask"))
def strided_slice(ctx: OpContext) -> list[Value]:
    starts, ends, axes, steps, squeeze = _slice_plan(ctx)
    if ctx.is_const(0):
        index = [slice(None)] * ctx.const(0).ndim
        for first, last, axis, step in zip(starts, ends, axes, steps):
            index[axis] = slice(first, None if abs(last) >= INT64_MAX else last, step)
        return [np.squeeze(ctx.const(0)[tuple(index)], axis=tuple(squeeze))]
    x = ctx.tensor(0)
    b = ctx.b
    y = b.node("Slice", [x] + [b.const(np.array(values, np.int64)) for values in (starts, ends, axes, steps)],
               b.dtypes[x])
    if squeeze:
        y = b.node("Squeeze", [y, b.const(np.array(squeeze, np.int64))], b.dtypes[x])
    return [y]


@converts("Pack", known=("T", "N", "axis"))
def pack(ctx: OpContext) -> list[Value]:
    axis = int(ctx.attr("axis", 0))
    if all(isinstance(value, np.ndarray) for value in ctx.values):
        return [np.stack(ctx.values, axis=axis)]
    dtype = ctx.dtype_attr()
    axes = ctx.b.const(np.array([axis], np.int64))
    parts = [ctx.b.node("Unsqueeze", [ctx.tensor(index, dtype), axes], dtype) for index in range(len(ctx.values))]
    return [ctx.b.node("Concat", parts, dtype, axis=axis)]


def _concat(ctx: OpContext, indices: list[int], axis: int) -> list[Value]:
    if all(ctx.is_const(index) for index in indices):
        return [np.concatenate([ctx.const(index) for index in indices], axis=axis)]
    dtype = ctx.dtype_attr()
    return [ctx.b.node("Concat", [ctx.tensor(index, dtype) for index in indices], dtype, axis=axis)]


@converts("ConcatV2", known=("T", "N", "Tidx"))
def concat_v2(ctx: OpContext) -> list[Value]:
    return _concat(ctx, list(range(len(ctx.values) - 1)), int(ctx.const(len(ctx.values) - 1, "axis")))


@converts("Concat", known=("T", "N"))
def concat(ctx: OpContext) -> list[Value]:
    return _concat(ctx, list(range(1, len(ctx.values))), int(ctx.const(0, "axis")))


@converts("Squeeze", known=("T", "squeeze_dims", "axis"))
def squeeze(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    axes = list(ctx.attr("squeeze_dims") or ctx.attr("axis") or [])
    inputs = [x, ctx.b.const(np.array(axes, np.int64))] if axes else [x]
    return [ctx.b.node("Squeeze", inputs, ctx.b.dtypes[x])]


@converts("ExpandDims", known=("T", "Tdim"))
def expand_dims(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    axes = ctx.b.const(np.array(ctx.const(1, "axis")).reshape(-1).astype(np.int64))
    return [ctx.b.node("Unsqueeze", [x, axes], ctx.b.dtypes[x])]


@converts("Transpose", known=("T", "Tperm"))
def transpose(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node("Transpose", [x], ctx.b.dtypes[x], perm=[int(v) for v in ctx.const(1, "perm")])]


@converts("Cast", known=("SrcT", "DstT", "Truncate"))
def cast(ctx: OpContext) -> list[Value]:
    target = ctx.dtype_attr("DstT")
    if ctx.is_const(0):
        return [ctx.const(0).astype(target)]
    return [ctx.b.cast(ctx.tensor(0), target)]


@converts("Pad", "PadV2", known=("T", "Tpaddings", "mode"))
def pad(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    pairs = ctx.const(1, "paddings").astype(np.int64)
    inputs = [x, ctx.b.const(np.concatenate([pairs[:, 0], pairs[:, 1]]))]
    if len(ctx.values) > 2:
        inputs.append(ctx.tensor(2, ctx.b.dtypes[x]))
    return [ctx.b.node("Pad", inputs, ctx.b.dtypes[x], mode="constant")]


REDUCTIONS = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin", "Prod": "ReduceProd"}


@converts(*REDUCTIONS, known=("T", "Tidx", "keep_dims"))
def reduce(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    axes = np.array(ctx.const(1, "axes")).reshape(-1).astype(np.int64)
    if axes.size == 0:
        return [x]  # TensorFlow reduces over no axis: the input unchanged
    keep = int(bool(ctx.attr("keep_dims", False)))
    op = REDUCTIONS[ctx.node.op]
    if op == "ReduceSum":  # opset 13 takes ReduceSum's axes as an input, the others' as an attribute
        return [ctx.b.node(op, [x, ctx.b.const(axes)], ctx.b.dtypes[x], keepdims=keep)]
    return [ctx.b.node(op, [x], ctx.b.dtypes[x], axes=axes.tolist(), keepdims=keep)]


BINARY = {"Add": ("Add", np.add), "AddV2": ("Add", np.add), "Sub": ("Sub", np.subtract),
          "Mul": ("Mul", np.multiply), "RealDiv": ("Div", np.divide), "Maximum": ("Max", np.maximum),
          "Minimum": ("Min", np.minimum), "Pow": ("Pow", np.power)}


@converts(*BINARY)
def binary(ctx: OpContext) -> list[Value]:
    op, numpy_fn = BINARY[ctx.node.op]
    dtype = ctx.dtype_attr()
    if ctx.is_const(0) and ctx.is_const(1):
        return [numpy_fn(ctx.const(0), ctx.const(1)).astype(dtype)]
    return [ctx.b.node(op, [ctx.tensor(0, dtype), ctx.tensor(1, dtype)], dtype)]


@converts("SquaredDifference")
def squared_difference(ctx: OpContext) -> list[Value]:
    dtype = ctx.dtype_attr()
    difference = ctx.b.node("Sub", [ctx.tensor(0, dtype), ctx.tensor(1, dtype)], dtype)
    return [ctx.b.node("Mul", [difference, difference], dtype)]
