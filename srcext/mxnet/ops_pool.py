"""Pooling with MXNet's output-size conventions and its averaging divisor.

MXNet sizes each axis as ``1 + floor((x + 2p - k) / s)`` (``valid``) or ``1 + ceil(...)`` (``full``, i.e.
ceil mode). We express ``full`` as extra end padding instead of ONNX ``ceil_mode`` so that no runtime's
window-dropping rule can differ. For averages MXNet divides by the window clipped to the padded input
(``count_include_pad``, the default) or to the real input; ONNX averages over real elements
(``count_include_pad=0``) and a constant map rescales where the two divisors differ.
"""
from __future__ import annotations

import math

import numpy as np

from .attrs import Attrs
from .builder import GraphBuilder
from .registry import converts

POOL_KEYS = ("kernel", "pool_type", "global_pool", "pooling_convention", "stride", "pad", "count_include_pad",
             "layout", "p_value")


def output_size(size: int, kernel: int, stride: int, pad: int, convention: str) -> int:
    span = size + 2 * pad - kernel
    return 1 + (math.ceil(span / stride) if convention == "full" else span // stride)


def window_counts(size: int, kernel: int, stride: int, pad: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output position along one axis: (real elements in the window, MXNet's count_include_pad divisor)."""
    start = np.arange(out) * stride - pad
    padded_end = np.minimum(start + kernel, size + pad)
    real = np.minimum(start + kernel, size) - np.maximum(start, 0)
    return real, padded_end - start


def _rescale(real: list[np.ndarray], wanted: list[np.ndarray]) -> np.ndarray:
    """Outer product over axes of real/wanted: turns a mean over real elements into MXNet's quotient."""
    ratio = np.ones((1, 1), np.float64)
    for axis_real, axis_wanted in zip(real, wanted):
        safe = np.divide(axis_real, axis_wanted, out=np.ones(len(axis_real)), where=axis_wanted != 0)
        ratio = np.multiply.outer(ratio, safe)
    return ratio.reshape((1, 1) + tuple(len(axis) for axis in real)).astype(np.float32)


@converts("Pooling", known=POOL_KEYS)
def pooling(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    x = inputs[0]
    shape = b.shape(x)
    rank = len(shape) - 2
    kind = attrs.choice("pool_type", "max", ("max", "avg", "sum"))
    attrs.choice("layout", "None", ("None", "NCW", "NCHW", "NCDHW"))
    if attrs.boolean("global_pool", False):
        pooled = b.node("GlobalMaxPool" if kind == "max" else "GlobalAveragePool", [x], shape[:2] + (1,) * rank,
                        None if kind == "sum" else out)
        if kind != "sum":
            return pooled
        return b.node("Mul", [pooled, b.const("area", float(np.prod(shape[2:])))], shape[:2] + (1,) * rank, out)
    kernel = attrs.ints("kernel")
    if len(kernel) != rank:
        raise attrs.error(f"kernel must have {rank} values", "kernel")
    stride, pad = attrs.spatial("stride", rank, 1), attrs.spatial("pad", rank, 0)
    convention = attrs.choice("pooling_convention", "valid", ("valid", "full"))
    sizes = [output_size(n, k, s, p, convention) for n, k, s, p in zip(shape[2:], kernel, stride, pad)]
    extra = [max(0, (o - 1) * s + k - (n + 2 * p)) for o, n, k, s, p in zip(sizes, shape[2:], kernel, stride, pad)]
    pads = list(pad) + [p + e for p, e in zip(pad, extra)]
    if any(value >= k for value, k in zip(pads, kernel * 2)):
        raise attrs.error(f"padding {pads} reaches a whole kernel {kernel}; not expressible in ONNX", "pad")
    out_shape = shape[:2] + tuple(sizes)
    window = dict(kernel_shape=list(kernel), strides=list(stride), pads=pads)
    if kind == "max":
        return b.node("MaxPool", [x], out_shape, out, **window)
    counts = [window_counts(n, k, s, p, o) for n, k, s, p, o in zip(shape[2:], kernel, stride, pad, sizes)]
    real = [axis_real for axis_real, _ in counts]
    if kind == "sum":
        wanted = [np.ones_like(axis_real) for axis_real in real]
    elif attrs.boolean("count_include_pad", True):
        wanted = [axis_wanted for _, axis_wanted in counts]
    else:
        wanted = real
    ratio = _rescale(real, wanted)
    exact = bool(np.all(ratio == 1.0))
    mean = b.node("AveragePool", [x], out_shape, out if exact else None, count_include_pad=0, **window)
    return mean if exact else b.node("Mul", [mean, b.const("divisor_fix", ratio)], out_shape, out)
