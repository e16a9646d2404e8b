"""Converters for the neural-network layers: convolutions, normalisation, activations, pooling, dense."""
from __future__ import annotations

import math

import numpy as np

from .attrs import Attrs
from .builder import GraphBuilder, Shape
from .registry import converts

CONV_KEYS = ("kernel", "stride", "dilate", "pad", "num_filter", "num_group", "no_bias", "layout")
LAYOUTS = ("None", "NCW", "NCHW", "NCDHW")


def _window(attrs: Attrs, rank: int) -> tuple[Shape, Shape, Shape, Shape]:
    kernel = attrs.ints("kernel")
    if len(kernel) != rank:
        raise attrs.error(f"kernel must have {rank} values for a rank-{rank + 2} input", "kernel")
    attrs.choice("layout", "None", LAYOUTS)
    return (kernel, attrs.spatial("stride", rank, 1), attrs.spatial("dilate", rank, 1), attrs.spatial("pad", rank, 0))


@converts("Convolution", known=CONV_KEYS)
def convolution(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    x = b.shape(inputs[0])
    kernel, stride, dilate, pad = _window(attrs, len(x) - 2)
    filters = attrs.integer("num_filter", 0)
    use_bias = not attrs.boolean("no_bias", False) and len(inputs) > 2
    spatial = [(size + 2 * p - d * (k - 1) - 1) // s + 1
               for size, k, s, d, p in zip(x[2:], kernel, stride, dilate, pad)]
    return b.node("Conv", inputs[:3] if use_bias else inputs[:2], (x[0], filters, *spatial), out,
                  kernel_shape=list(kernel), strides=list(stride), dilations=list(dilate), pads=list(pad) * 2,
                  group=attrs.integer("num_group", 1))


@converts("Deconvolution", known=CONV_KEYS + ("adj", "target_shape"))
def deconvolution(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    x = b.shape(inputs[0])
    rank = len(x) - 2
    kernel, stride, dilate, pad = _window(attrs, rank)
    if any(attrs.ints("target_shape")):
        raise attrs.error("target_shape is not supported; give pad and adj instead", "target_shape")
    adj = attrs.spatial("adj", rank, 0)
    filters = attrs.integer("num_filter", 0)
    use_bias = not attrs.boolean("no_bias", True) and len(inputs) > 2  # MXNet's default here is no_bias=True
    spatial = [(size - 1) * s - 2 * p + d * (k - 1) + 1 + a
               for size, k, s, d, p, a in zip(x[2:], kernel, stride, dilate, pad, adj)]
    return b.node("ConvTranspose", inputs[:3] if use_bias else inputs[:2], (x[0], filters, *spatial), out,
                  kernel_shape=list(kernel), strides=list(stride), dilations=list(dilate), pads=list(pad) * 2,
                  output_padding=list(adj), group=attrs.integer("num_group", 1))


@converts("BatchNorm", known=("eps", "momentum", "fix_gamma", "use_global_stats", "output_mean_var", "axis",
                              "min_calib_range", "max_calib_range"))
def batch_norm(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """Inference BatchNorm always uses the moving statistics; ``fix_gamma`` (default True) means gamma = 1."""
    if attrs.integer("axis", 1) != 1:
        raise attrs.error("only axis=1 is supported", "axis")
    if attrs.boolean("output_mean_var", False):
        raise attrs.error("output_mean_var=True is not supported", "output_mean_var")
    data, gamma, beta, mean, var = inputs[:5]
    if attrs.boolean("fix_gamma", True):
        gamma = b.const("gamma_fixed", np.ones(b.shape(gamma), np.float32))
    return b.node("BatchNormalization", [data, gamma, beta, mean, var], b.shape(data), out,
                  epsilon=attrs.number("eps", 1e-3))


ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softrelu": "Softplus", "softsign": "Softsign"}


@converts("Activation", known=("act_type",))
def activation(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    kind = attrs.choice("act_type", "", ACTIVATIONS)
    return b.node(ACTIVATIONS[kind], inputs[:1], b.shape(inputs[0]), out)


@converts("relu", "sigmoid", "tanh", known=())
def named_activation(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    return b.node(ACTIVATIONS[attrs.node.op], inputs[:1], b.shape(inputs[0]), out)


def _prelu_slope(b: GraphBuilder, gamma: str, rank: int) -> str:
    """Reshape gamma (C,) to (C, 1, ..., 1) so that it broadcasts over axis 1 as MXNet does."""
    shape = (-1,) + (1,) * (rank - 2) if rank > 2 else (-1,)
    value = b.value(gamma)
    if value is not None:
        return b.const("slope", value.reshape(shape) if value.size > 1 else value.reshape(()))
    target = (b.shape(gamma)[0],) + shape[1:]
    return b.node("Reshape", [gamma, b.const("shape", shape, np.int64)], target)


@converts("LeakyReLU", known=("act_type", "slope", "lower_bound", "upper_bound"))
def leaky_relu(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    kind = attrs.choice("act_type", "leaky", ("leaky", "prelu", "elu", "selu", "gelu", "rrelu"))
    x = inputs[0]
    shape = b.shape(x)
    slope = attrs.number("slope", 0.25)
    if kind == "prelu":
        return b.node("PRelu", [x, _prelu_slope(b, inputs[1], len(shape))], shape, out)
    if kind == "leaky":
        return b.node("LeakyRelu", [x], shape, out, alpha=slope)
    if kind == "rrelu":  # inference uses the mean of the random range
        middle = (attrs.number("lower_bound", 0.125) + attrs.number("upper_bound", 0.334)) / 2
        return b.node("LeakyRelu", [x], shape, out, alpha=middle)
    if kind == "elu":
        return b.node("Elu", [x], shape, out, alpha=slope)
    if kind == "selu":
        return b.node("Selu", [x], shape, out, alpha=1.6732632423543772, gamma=1.0507009873554805)
    scaled = b.node("Erf", [b.node("Mul", [x, b.const("rsqrt2", 1 / math.sqrt(2))], shape)], shape)
    half = b.node("Mul", [x, b.node("Add", [scaled, b.const("one", 1.0)], shape)], shape)
    return b.node("Mul", [half, b.const("half", 0.5)], shape, out)


@converts("FullyConnected", known=("num_hidden", "no_bias", "flatten"))
def fully_connected(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    x = inputs[0]
    shape = b.shape(x)
    hidden = attrs.integer("num_hidden", 0)
    use_bias = not attrs.boolean("no_bias", False) and len(inputs) > 2
    if attrs.boolean("flatten", True):
        if len(shape) != 2:
            x = b.node("Flatten", [x], (shape[0], int(np.prod(shape[1:]))), axis=1)
        return b.node("Gemm", [x, inputs[1]] + inputs[2:3] * use_bias, (shape[0], hidden), out, transB=1)
    weight = b.value(inputs[1])
    if weight is not None:
        transposed = b.const("weight_t", weight.T)
    else:
        transposed = b.node("Transpose", [inputs[1]], b.shape(inputs[1])[::-1], perm=[1, 0])
    result_shape = shape[:-1] + (hidden,)
    product = b.node("MatMul", [x, transposed], result_shape, None if use_bias else out)
    return b.node("Add", [product, inputs[2]], result_shape, out) if use_bias else product


@converts("Dropout", "BlockGrad", "stop_gradient", "identity", "_copy",
          known=("p", "mode", "axes", "cudnn_off"))
def identity(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """Dropout is the identity at inference; the result simply aliases the input tensor."""
    return inputs[0]


@converts("L2Normalization", known=("eps", "mode"))
def l2_normalization(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    x = inputs[0]
    shape = b.shape(x)
    mode = attrs.choice("mode", "instance", ("instance", "channel", "spatial"))
    axes = {"instance": range(1, len(shape)), "channel": [1], "spatial": range(2, len(shape))}[mode]
    reduced = tuple(1 if axis in axes else dim for axis, dim in enumerate(shape))
    squares = b.node("ReduceSumSquare", [x], reduced, axes=list(axes), keepdims=1)
    norm = b.node("Sqrt", [b.node("Add", [squares, b.const("eps", attrs.number("eps", 1e-10))], reduced)], reduced)
    return b.node("Div", [x, norm], shape, out)


def _softmax(b: GraphBuilder, x: str, axis: int, out: str) -> str:
    return b.node("Softmax", [x], b.shape(x), out, axis=axis)


@converts("softmax", known=("axis", "temperature", "dtype", "use_length"))
def softmax(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    if attrs.boolean("use_length", False):
        raise attrs.error("use_length=True is not supported", "use_length")
    attrs.choice("dtype", "None", ("None", "float32"))
    x = inputs[0]
    temperature = attrs.number("temperature", 1.0)
    if temperature != 1.0:
        x = b.node("Div", [x, b.const("temperature", temperature)], b.shape(x))
    return _softmax(b, x, attrs.integer("axis", -1), out)


@converts("SoftmaxActivation", known=("mode",))
def softmax_activation(b: GraphBuilder, attrs: Attrs, inputs: list[str], out: str) -> str:
    """``channel`` mode: softmax over axis 1. ``instance`` (default): MXNet 1.9 normalises over the last axis
    (checked against MXNet; the same as "all values of a sample" for the usual (N, K) input)."""
    channel = attrs.choice("mode", "instance", ("instance", "channel")) == "channel"
    return _softmax(b, inputs[0], 1 if channel else -1, out)
