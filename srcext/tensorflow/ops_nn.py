"""Converters for the network layers: convolutions, batch norm, pooling, dense, activations.

TensorFlow's NHWC tensors stay NHWC in the ONNX graph; each convolution and pooling is wrapped in a pair of
Transposes to ONNX's NCHW, which ONNX Runtime's transpose optimizer cancels between consecutive layers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .registry import OpContext, Value, converts

CONV_KEYS = ("T", "strides", "padding", "data_format", "dilations", "use_cudnn_on_gpu", "explicit_paddings")
POOL_KEYS = ("T", "ksize", "strides", "padding", "data_format", "explicit_paddings")


def _spatial(ctx: OpContext, key: str, layout: str) -> list[int]:
    values = list(ctx.attr(key) or [1, 1, 1, 1])
    if len(values) != 4:
        raise ctx.error(f"{key} must have 4 values", key)
    return values[1:3] if layout == "NHWC" else values[2:4]


def _padding(ctx: OpContext, layout: str) -> dict[str, Any]:
    padding = ctx.attr("padding")
    if padding == "SAME":
        return {"auto_pad": "SAME_UPPER"}
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "EXPLICIT":
        pairs = np.asarray(ctx.attr("explicit_paddings"), np.int64).reshape(4, 2)
        rows = pairs[1:3] if layout == "NHWC" else pairs[2:4]
        return {"pads": [int(rows[0, 0]), int(rows[1, 0]), int(rows[0, 1]), int(rows[1, 1])]}
    raise ctx.error(f"padding {padding} is not supported", "padding")


def _in_nchw(ctx: OpContext, layout: str) -> str:
    x = ctx.tensor(0)
    return ctx.b.to_nchw(x) if layout == "NHWC" else x


def _out_layout(ctx: OpContext, y: str, layout: str) -> str:
    return ctx.b.to_nhwc(y) if layout == "NHWC" else y


def _filter(ctx: OpContext, transpose: tuple[int, ...], reshape: tuple[int, ...] | None = None) -> str:
    """The filter as ONNX wants it: transposed (and reshaped) in numpy when constant, by nodes otherwise."""
    if ctx.is_const(1):
        weights = np.transpose(ctx.const(1), transpose)
        return ctx.b.const(weights.reshape(reshape) if reshape else weights, hint="filter")
    name = ctx.b.node("Transpose", [ctx.tensor(1)], ctx.b.dtypes[ctx.tensor(1)], perm=list(transpose))
    if reshape:
        name = ctx.b.node("Reshape", [name, ctx.b.const(np.array(reshape, np.int64))], ctx.b.dtypes[name])
    return name


@converts("Conv2D", known=CONV_KEYS)
def conv2d(ctx: OpContext) -> list[Value]:
    layout = ctx.data_format()
    x = _in_nchw(ctx, layout)
    y = ctx.b.node("Conv", [x, _filter(ctx, (3, 2, 0, 1))], ctx.b.dtypes[x], strides=_spatial(ctx, "strides", layout),
                   dilations=_spatial(ctx, "dilations", layout), **_padding(ctx, layout))
    return [_out_layout(ctx, y, layout)]


@converts("DepthwiseConv2dNative", known=CONV_KEYS)
def depthwise_conv2d(ctx: OpContext) -> list[Value]:
    layout = ctx.data_format()
    height, width, channels, multiplier = ctx.const(1, "filter").shape
    x = _in_nchw(ctx, layout)
    weights = _filter(ctx, (2, 3, 0, 1), (channels * multiplier, 1, height, width))
    y = ctx.b.node("Conv", [x, weights], ctx.b.dtypes[x], group=int(channels),
                   strides=_spatial(ctx, "strides", layout), dilations=_spatial(ctx, "dilations", layout),
                   **_padding(ctx, layout))
    return [_out_layout(ctx, y, layout)]


def _channel_shape(layout: str) -> tuple[int, ...]:
    return (-1,) if layout == "NHWC" else (-1, 1, 1)


@converts("BiasAdd", "BiasAddV1", known=("T", "data_format"))
def bias_add(ctx: OpContext) -> list[Value]:
    layout = ctx.data_format()
    bias = ctx.tensor(1)
    if layout == "NCHW":
        bias = ctx.b.node("Reshape", [bias, ctx.b.const(np.array(_channel_shape(layout), np.int64))],
                          ctx.b.dtypes[bias])
    return [ctx.b.node("Add", [ctx.tensor(0), bias], ctx.b.dtypes[bias])]


@converts("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
          known=("T", "U", "epsilon", "data_format", "is_training", "exponential_avg_factor"))
def fused_batch_norm(ctx: OpContext) -> list[Value]:
    """Inference batch norm folded into one multiply and one add per channel."""
    if ctx.attr("is_training", True):
        raise ctx.error("is_training=True (training-mode batch statistics) cannot be converted", "is_training")
    layout = ctx.data_format()
    scale, offset, mean, variance = (ctx.const(index, "batch-norm parameter").astype(np.float64)
                                     for index in range(1, 5))
    factor = scale / np.sqrt(variance + float(ctx.attr("epsilon", 1e-4)))
    shift = offset - mean * factor
    shape = _channel_shape(layout)
    x = ctx.tensor(0)
    dtype = ctx.b.dtypes[x]
    scaled = ctx.b.node("Mul", [x, ctx.b.const(factor.reshape(shape), dtype, "bn_scale")], dtype)
    return [ctx.b.node("Add", [scaled, ctx.b.const(shift.reshape(shape), dtype, "bn_shift")], dtype)]


def _pool(ctx: OpContext, op: str, **extra: Any) -> list[Value]:
    layout = ctx.data_format()
    x = _in_nchw(ctx, layout)
    y = ctx.b.node(op, [x], ctx.b.dtypes[x], kernel_shape=_spatial(ctx, "ksize", layout),
                   strides=_spatial(ctx, "strides", layout), **_padding(ctx, layout), **extra)
    return [_out_layout(ctx, y, layout)]


@converts("MaxPool", known=POOL_KEYS)
def max_pool(ctx: OpContext) -> list[Value]:
    return _pool(ctx, "MaxPool")


@converts("AvgPool", known=POOL_KEYS)
def avg_pool(ctx: OpContext) -> list[Value]:
    """TensorFlow's SAME average pooling divides by the number of real (unpadded) values."""
    return _pool(ctx, "AveragePool", count_include_pad=0)


@converts("MatMul", known=("T", "transpose_a", "transpose_b"))
def mat_mul(ctx: OpContext) -> list[Value]:
    operands = []
    for index, key in ((0, "transpose_a"), (1, "transpose_b")):
        name = ctx.tensor(index)
        if ctx.attr(key, False):
            name = ctx.b.node("Transpose", [name], ctx.b.dtypes[name], perm=[1, 0])
        operands.append(name)
    return [ctx.b.node("MatMul", operands, ctx.b.dtypes[operands[0]])]


UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
         "Neg": "Neg", "Abs": "Abs", "Floor": "Floor", "Softplus": "Softplus", "Elu": "Elu", "Reciprocal":
         "Reciprocal", "Softsign": "Softsign", "Ceil": "Ceil", "Round": "Round", "Sign": "Sign"}


@converts(*UNARY)
def unary(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node(UNARY[ctx.node.op], [x], ctx.b.dtypes[x])]


@converts("Rsqrt")
def rsqrt(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node("Reciprocal", [ctx.b.node("Sqrt", [x], ctx.b.dtypes[x])], ctx.b.dtypes[x])]


@converts("Square")
def square(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node("Mul", [x, x], ctx.b.dtypes[x])]


@converts("Relu6")
def relu6(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    dtype = ctx.b.dtypes[x]
    return [ctx.b.node("Clip", [x, ctx.b.const(0, dtype), ctx.b.const(6, dtype)], dtype)]


@converts("LeakyRelu", known=("T", "alpha"))
def leaky_relu(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node("LeakyRelu", [x], ctx.b.dtypes[x], alpha=float(ctx.attr("alpha", 0.2)))]


@converts("Softmax")
def softmax(ctx: OpContext) -> list[Value]:
    x = ctx.tensor(0)
    return [ctx.b.node("Softmax", [x], ctx.b.dtypes[x], axis=-1)]
