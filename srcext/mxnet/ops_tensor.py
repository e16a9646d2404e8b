"""Converters for shape and data-movement ops: flatten, reshape, concat, transpose, slices, crop, upsampling."""
from __future__ import annotations

import numpy as np

from . import reshape as reshape_codes
from .attrs import Attrs
from .builder import GraphBuilder
from .registry import converts

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@converts("Flatten", "flatten", known=())
def flatten(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    shape = b.shape(inputs[0])
    return b.node("Flatten", inputs[:1], (shape[0], int(np.prod(shape[1:]))), out, axis=1)


@converts("Reshape", "reshape", known=("shape", "reverse", "target_shape", "keep_highest"))
def reshape(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    if any(attrs.ints("target_shape")) or attrs.boolean("keep_highest", False):
        raise attrs.error("the deprecated target_shape/keep_highest form is not supported", "target_shape")
    try:
        dims = reshape_codes.resolve(b.shape(inputs[0]), attrs.ints("shape"), attrs.boolean("reverse", False))
    except (ValueError, IndexError) as error:
        raise attrs.error(f"cannot apply to input shape {b.shape(inputs[0])}: {error}", "shape") from error
    target, symbolic = reshape_codes.onnx_shape(dims)
    b.batch_static |= not symbolic
    shape = tuple(dim.size for dim in dims)
    return b.node("Reshape", [inputs[0], b.const("shape", target, np.int64)], shape, out)


@converts("Concat", "concat", known=("dim", "num_args"))
def concat(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    shapes = [b.shape(name) for name in inputs]
    axis = attrs.integer("dim", 1) % len(shapes[0])
    shape = list(shapes[0])
    shape[axis] = sum(item[axis] for item in shapes)
    return b.node("Concat", inputs, tuple(shape), out, axis=axis)


@converts("transpose", known=("axes",))
def transpose(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    shape = b.shape(inputs[0])
    perm = [axis % len(shape) for axis in attrs.ints("axes")] or list(range(len(shape)))[::-1]
    return b.node("Transpose", inputs[:1], tuple(shape[axis] for axis in perm), out, perm=perm)


def _slice(b: GraphBuilder, x: str, starts: list[int], ends: list[int], axes: list[int], steps: list[int],
           out: str | None) -> str:
    shape = list(b.shape(x))
    for start, end, axis, step in zip(starts, ends, axes, steps):
        shape[axis] = len(range(*slice(start, end, step).indices(shape[axis])))
    consts = [b.const(label, values, np.int64) for label, values in
              (("starts", starts), ("ends", ends), ("axes", axes), ("steps", steps))]
    return b.node("Slice", [x] + consts, tuple(shape), out)


def _open_end(step: int) -> int:
    return INT64_MAX if step > 0 else INT64_MIN


@converts("slice", "crop", known=("begin", "end", "step"))
def slice_op(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    begin, end = attrs.optional_ints("begin"), attrs.optional_ints("end")
    step = attrs.optional_ints("step") or (None,) * len(begin)
    if len(end) != len(begin) or len(step) != len(begin):
        raise attrs.error("begin, end and step must have the same length", "end")
    steps = [1 if value is None else value for value in step]
    if 0 in steps:
        raise attrs.error("step must not be 0", "step")
    starts = [(0 if s > 0 else -1) if value is None else value for value, s in zip(begin, steps)]
    ends = [_open_end(s) if value is None else value for value, s in zip(end, steps)]
    return _slice(b, inputs[0], starts, ends, list(range(len(begin))), steps, out)


@converts("slice_axis", known=("axis", "begin", "end"))
def slice_axis(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    axis = attrs.integer("axis", 0) % len(b.shape(inputs[0]))
    end = attrs.integer("end", 0) if attrs.has("end") else INT64_MAX
    return _slice(b, inputs[0], [attrs.integer("begin", 0)], [end], [axis], [1], out)


@converts("Crop", known=("num_args", "offset", "h_w", "center_crop"))
def crop(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """Spatial crop of an NCHW tensor to ``h_w`` or to the size of the second input."""
    shape = b.shape(inputs[0])
    height, width = b.shape(inputs[1])[2:4] if len(inputs) > 1 else attrs.ints("h_w", (0, 0))
    if attrs.boolean("center_crop", False):
        top, left = (shape[2] - height) // 2, (shape[3] - width) // 2
    else:
        top, left = attrs.ints("offset", (0, 0))
    if top + height > shape[2] or left + width > shape[3] or min(height, width) <= 0:
        raise attrs.error(f"crop {height}x{width} at ({top}, {left}) does not fit {shape}", "h_w")
    return _slice(b, inputs[0], [top, left], [top + height, left + width], [2, 3], [1, 1], out)


@converts("UpSampling", known=("scale", "num_filter", "sample_type", "multi_input_mode", "num_args", "workspace"))
def upsampling(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """Nearest upsampling by an integer factor; several inputs are brought to the first one's output size."""
    attrs.choice("sample_type", "nearest", ("nearest",))
    mode = attrs.choice("multi_input_mode", "concat", ("concat", "sum"))
    scale = attrs.integer("scale", 1)
    first = b.shape(inputs[0])
    size = (first[2] * scale, first[3] * scale)
    results = []
    for index, name in enumerate(inputs):
        shape = b.shape(name)
        if size[0] % shape[2] or size[1] % shape[3]:
            raise attrs.error(f"input {index} of size {shape[2:]} does not divide {size}", "scale")
        scales = b.const("scales", [1.0, 1.0, size[0] / shape[2], size[1] / shape[3]])
        results.append(b.node("Resize", [name, "", scales], shape[:2] + size, out if len(inputs) == 1 else None,
                              mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    if len(results) == 1:
        return results[0]
    if mode == "sum":
        return b.node("Sum", results, b.shape(results[0]), out)
    channels = sum(b.shape(name)[1] for name in results)
    return b.node("Concat", results, (first[0], channels) + size, out, axis=1)
