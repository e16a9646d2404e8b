"""Keras layers -> ONNX, each written as the TensorFlow ops Keras runs for it in inference (Conv2D + BiasAdd,
FusedBatchNorm, ...), so the layer converters reuse ``srcext.tensorflow``'s op converters and stay NHWC."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from srcext.tensorflow.builder import GraphBuilder
from srcext.tensorflow.errors import TensorflowConversionError
from srcext.tensorflow.graphdef import TfNode
from srcext.tensorflow.registry import CONVERTERS, OpContext, Value

from .model import KerasLayer

LayerFn = Callable[[GraphBuilder, KerasLayer, list[str]], str]
LAYERS: dict[str, LayerFn] = {}
FLOAT = 1  # TensorFlow's DT_FLOAT


def layer_error(layer: KerasLayer, message: str, key: str | None = None) -> TensorflowConversionError:
    where = f"layer {layer.name!r} ({layer.class_name})" + (f", config {key!r}" if key else "")
    return TensorflowConversionError(f"{where}: {message}")


def registers(*names: str) -> Callable[[LayerFn], LayerFn]:
    def register(fn: LayerFn) -> LayerFn:
        for name in names:
            LAYERS[name] = fn
        return fn
    return register


def tf_op(b: GraphBuilder, layer: KerasLayer, op: str, values: Sequence[Value], **attrs: Any) -> str:
    """Run TensorFlow op ``op``'s converter on ``values``; returns its first output as an ONNX tensor."""
    node = TfNode(f"{layer.name}/{op}", op, [f"in{index}" for index in range(len(values))], {"T": FLOAT, **attrs})
    b.scope = node.name
    converter = CONVERTERS[op]
    out = converter.fn(OpContext(b, node, list(values), converter.known))[0]
    return b.const(out, hint="value") if isinstance(out, np.ndarray) else out


def weight(layer: KerasLayer, key: str) -> np.ndarray:
    if key not in layer.weights:
        raise layer_error(layer, f"weight {key!r} missing from the file")
    return layer.weights[key].astype(np.float32)


def check_channels_last(layer: KerasLayer) -> None:
    if layer.config.get("data_format", "channels_last") != "channels_last":
        raise layer_error(layer, "only channels_last is supported", "data_format")


def _pair(layer: KerasLayer, key: str, default: int) -> list[int]:
    value = layer.config.get(key, default)
    values = [value, value] if isinstance(value, int) else list(value)
    return [1, int(values[0]), int(values[1]), 1]


def _padding(layer: KerasLayer) -> bytes:
    padding = layer.config.get("padding", "valid")
    if padding not in ("valid", "same"):
        raise layer_error(layer, f"padding {padding!r} is not supported", "padding")
    return padding.upper().encode()


ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax", "elu": "Elu",
               "softplus": "Softplus", "softsign": "Softsign", "relu6": "Relu6", "exponential": "Exp"}


def activate(b: GraphBuilder, layer: KerasLayer, x: str, name: str | None) -> str:
    if name in (None, "linear"):
        return x
    if name not in ACTIVATIONS:
        raise layer_error(layer, f"activation {name!r} is not supported", "activation")
    return tf_op(b, layer, ACTIVATIONS[name], [x])


def _bias(b: GraphBuilder, layer: KerasLayer, x: str) -> str:
    if not layer.config.get("use_bias", True):
        return x
    return tf_op(b, layer, "BiasAdd", [x, weight(layer, "bias")])


@registers("Conv2D", "Convolution2D")
def conv2d(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    check_channels_last(layer)
    if layer.config.get("groups", 1) != 1:
        raise layer_error(layer, "grouped convolution is not supported", "groups")
    y = tf_op(b, layer, "Conv2D", [inputs[0], weight(layer, "kernel")], strides=_pair(layer, "strides", 1),
              dilations=_pair(layer, "dilation_rate", 1), padding=_padding(layer))
    return activate(b, layer, _bias(b, layer, y), layer.config.get("activation"))


@registers("DepthwiseConv2D")
def depthwise_conv2d(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    check_channels_last(layer)
    y = tf_op(b, layer, "DepthwiseConv2dNative", [inputs[0], weight(layer, "depthwise_kernel")],
              strides=_pair(layer, "strides", 1), dilations=_pair(layer, "dilation_rate", 1), padding=_padding(layer))
    return activate(b, layer, _bias(b, layer, y), layer.config.get("activation"))


@registers("SeparableConv2D", "SeparableConvolution2D")
def separable_conv2d(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    check_channels_last(layer)
    y = tf_op(b, layer, "DepthwiseConv2dNative", [inputs[0], weight(layer, "depthwise_kernel")],
              strides=_pair(layer, "strides", 1), dilations=_pair(layer, "dilation_rate", 1), padding=_padding(layer))
    y = tf_op(b, layer, "Conv2D", [y, weight(layer, "pointwise_kernel")], strides=[1, 1, 1, 1], padding=b"VALID")
    return activate(b, layer, _bias(b, layer, y), layer.config.get("activation"))


@registers("BatchNormalization")
def batch_norm(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    axis = layer.config.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, 3):
        raise layer_error(layer, f"axis {axis} is not supported (channels last only)", "axis")
    mean = weight(layer, "moving_mean")
    gamma = weight(layer, "gamma") if layer.config.get("scale", True) else np.ones_like(mean)
    beta = weight(layer, "beta") if layer.config.get("center", True) else np.zeros_like(mean)
    return tf_op(b, layer, "FusedBatchNorm", [inputs[0], gamma, beta, mean, weight(layer, "moving_variance")],
                 epsilon=float(layer.config.get("epsilon", 1e-3)), is_training=False, data_format=b"NHWC")


@registers("Activation")
def activation(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    return activate(b, layer, inputs[0], layer.config.get("activation"))


@registers("ReLU")
def relu(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    if layer.config.get("negative_slope") or layer.config.get("threshold"):
        raise layer_error(layer, "negative_slope/threshold are not supported")
    if layer.config.get("max_value") in (None,):
        return tf_op(b, layer, "Relu", inputs[:1])
    if float(layer.config["max_value"]) != 6.0:
        raise layer_error(layer, "only max_value 6 is supported", "max_value")
    return tf_op(b, layer, "Relu6", inputs[:1])


@registers("Softmax")
def softmax(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    if layer.config.get("axis", -1) != -1:
        raise layer_error(layer, "only axis -1 is supported", "axis")
    return tf_op(b, layer, "Softmax", inputs[:1])


@registers("Dense")
def dense(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    b.scope = layer.name
    y = b.node("MatMul", [inputs[0], b.const(weight(layer, "kernel"), hint="kernel")], np.float32)
    return activate(b, layer, _bias(b, layer, y), layer.config.get("activation"))


def _pool(b: GraphBuilder, layer: KerasLayer, inputs: list[str], op: str) -> str:
    check_channels_last(layer)
    size = _pair(layer, "pool_size", 2)
    strides = _pair(layer, "strides", 2) if layer.config.get("strides") is not None else size
    return tf_op(b, layer, op, inputs[:1], ksize=size, strides=strides, padding=_padding(layer))


@registers("MaxPooling2D", "MaxPool2D")
def max_pool(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    return _pool(b, layer, inputs, "MaxPool")


@registers("AveragePooling2D", "AvgPool2D")
def avg_pool(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    return _pool(b, layer, inputs, "AvgPool")


@registers("GlobalAveragePooling2D", "GlobalMaxPooling2D")
def global_pool(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    check_channels_last(layer)
    op = "Mean" if layer.class_name.startswith("GlobalAverage") else "Max"
    return tf_op(b, layer, op, [inputs[0], np.array([1, 2], np.int32)],
                 keep_dims=bool(layer.config.get("keepdims", False)))


@registers("Add", "Multiply", "Maximum", "Minimum", "Subtract")
def merge(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    op = {"Add": "AddV2", "Multiply": "Mul", "Maximum": "Maximum", "Minimum": "Minimum", "Subtract": "Sub"}
    y = inputs[0]
    for other in inputs[1:]:
        y = tf_op(b, layer, op[layer.class_name], [y, other])
    return y


@registers("Concatenate")
def concatenate(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    return tf_op(b, layer, "ConcatV2", [*inputs, np.array(layer.config.get("axis", -1), np.int32)],
                 N=len(inputs))


@registers("Flatten")
def flatten(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    b.scope = layer.name
    return b.node("Flatten", inputs[:1], b.dtypes[inputs[0]], axis=1)


@registers("Reshape")
def reshape(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    b.scope = layer.name
    shape = b.const(np.array([0, *layer.config["target_shape"]], np.int64))  # ONNX: 0 keeps the batch dim
    return b.node("Reshape", [inputs[0], shape], b.dtypes[inputs[0]])


@registers("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization")
def inference_identity(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    return inputs[0]


@registers("ZeroPadding2D")
def zero_padding(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    check_channels_last(layer)
    padding = layer.config.get("padding", 1)
    if isinstance(padding, int):
        rows = cols = (padding, padding)
    else:
        rows, cols = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
    pads = np.array([[0, 0], rows, cols, [0, 0]], np.int32)
    return tf_op(b, layer, "Pad", [inputs[0], pads])


@registers("LeakyReLU")
def leaky_relu(b: GraphBuilder, layer: KerasLayer, inputs: list[str]) -> str:
    alpha = layer.config.get("alpha", layer.config.get("negative_slope", 0.3))
    return tf_op(b, layer, "LeakyRelu", inputs[:1], alpha=float(alpha))
