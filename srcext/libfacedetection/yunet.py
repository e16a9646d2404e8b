"""YuNet as libfacedetection 3.x runs it, rebuilt as an ONNX graph from the library's own weights.

The topology is libfacedetection's ``objectdetect_cnn``: a 3x3 stride-2 convolution of the image, then
blocks of "DP" pairs (a 1x1 convolution without activation followed by a 3x3 depthwise one, ReLU after it
where the layer table says so) with 2x2 max-pooling between stages; three feature maps at strides 8, 16 and
32 are merged top-down (nearest 2x upsampling and addition), and each gets four heads (cls, obj, bbox, kps),
each a DP pair without ReLU. The graph takes a BGR float image, 0..255, whose sides are multiples of 32
(the library pads with zeros to that), and gives OpenCV zoo's YuNet outputs, so
:class:`plugins.insightface.yunet.YunetDecoder` decodes them: ``cls_<s>``/``obj_<s>`` (N, cells, 1) after
the sigmoid, ``bbox_<s>`` (N, cells, 4), ``kps_<s>`` (N, cells, 10), cells in row-major order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from srcext.libfacedetection.elf import ElfFile
from srcext.libfacedetection.layers import ConvLayer, LayoutError, read_layers

OPSET = 13
IR_VERSION = 8  # what onnxruntime >= 1.11 reads
LAYER_COUNT = 53
#: Layer indices in the table, as objectdetect_cnn uses them.
HEAD_CONV = 0
STEM = (1, 2)
STAGES = ((3, 4, 5, 6), (7, 8, 9, 10), (11, 12, 13, 14), (15, 16, 17, 18), (19, 20, 21, 22))
POOL_BEFORE_STAGE = (False, False, True, True, True)  # after the stem there is always one pool
NECK = {8: (23, 24), 16: (25, 26), 32: (27, 28)}
HEADS = {  # stride -> head -> (pointwise, depthwise)
    8: {"cls": (29, 30), "bbox": (35, 36), "obj": (41, 42), "kps": (47, 48)},
    16: {"cls": (31, 32), "bbox": (37, 38), "obj": (43, 44), "kps": (49, 50)},
    32: {"cls": (33, 34), "bbox": (39, 40), "obj": (45, 46), "kps": (51, 52)},
}
HEAD_WIDTHS = {"cls": 1, "obj": 1, "bbox": 4, "kps": 10}
IMAGE_PATCH = 27  # 3x3 pixels x 3 colours; the first layer's 32 inputs hold these then 5 zeros


class _Graph:
    """Nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []

    def const(self, value: np.ndarray, name: str) -> str:
        from onnx import numpy_helper

        full = f"{name}_{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), full))
        return full

    def node(self, op: str, inputs: Sequence[str], output: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        out = output or f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out


def check_layers(layers: list[ConvLayer]) -> None:
    """Refuse a table that is not the YuNet this module knows: the graph would be silently wrong."""
    if len(layers) != LAYER_COUNT:
        raise LayoutError(f"the layer table has {len(layers)} layers, YuNet in libfacedetection 3.x has {LAYER_COUNT}")
    first = layers[HEAD_CONV]
    if first.depthwise or first.channels != 32 or np.any(first.weights.reshape(first.filters, 32)[:, IMAGE_PATCH:]):
        raise LayoutError("the first layer is not the 3x3 image convolution as 27 (+5 zero) pointwise inputs")
    for pointwise, depthwise in [STEM, *[(s[0], s[1]) for s in STAGES], *[(s[2], s[3]) for s in STAGES],
                                 *NECK.values(), *[p for h in HEADS.values() for p in h.values()]]:
        p, d = layers[pointwise], layers[depthwise]
        if p.depthwise or not d.depthwise or p.filters != d.channels or d.channels != d.filters:
            raise LayoutError(f"layers {pointwise}/{depthwise} are not a pointwise + depthwise pair")


def _conv(g: _Graph, x: str, layer: ConvLayer, weights: np.ndarray, name: str, **attrs: Any) -> str:
    """One layer of the table as an ONNX Conv (``weights`` already in ONNX's layout), ReLU after it if it has one."""
    x = g.node("Conv", [x, g.const(weights, f"{name}_w"), g.const(layer.biases, f"{name}_b")], **attrs)
    return g.node("Relu", [x]) if layer.relu else x


def _pointwise(g: _Graph, x: str, layer: ConvLayer) -> str:
    return _conv(g, x, layer, layer.weights.reshape(layer.filters, layer.channels, 1, 1), f"pw{layer.index}")


def _depthwise(g: _Graph, x: str, layer: ConvLayer) -> str:
    weights = layer.weights.reshape(9, layer.filters).T.reshape(layer.filters, 1, 3, 3)
    return _conv(g, x, layer, weights, f"dw{layer.index}", group=layer.filters, kernel_shape=[3, 3],
                 pads=[1, 1, 1, 1])


def _pair(g: _Graph, x: str, layers: list[ConvLayer], indices: tuple[int, int]) -> str:
    return _depthwise(g, _pointwise(g, x, layers[indices[0]]), layers[indices[1]])


def _image_conv(g: _Graph, x: str, layer: ConvLayer) -> str:
    patch = layer.weights.reshape(layer.filters, 32)[:, :IMAGE_PATCH].reshape(layer.filters, 3, 3, 3)
    weights = patch.transpose(0, 3, 1, 2)  # (out, ky, kx, colour) -> ONNX's (out, colour, ky, kx)
    return _conv(g, x, layer, weights, "conv0", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


def build_graph(layers: list[ConvLayer]) -> bytes:
    """The serialised ONNX model of YuNet with ``layers`` (the library's table, checked)."""
    import onnx
    from onnx import TensorProto, helper

    check_layers(layers)
    g = _Graph()
    x = _image_conv(g, "input", layers[HEAD_CONV])
    x = _pair(g, x, layers, STEM)
    x = g.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    features: list[str] = []
    for stage, pool in zip(STAGES, POOL_BEFORE_STAGE):
        if pool:
            x = g.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
        x = _pair(g, _pair(g, x, layers, stage[:2]), layers, stage[2:])
        features.append(x)
    maps = {8: features[2], 16: features[3], 32: features[4]}
    scales = g.const(np.array([1, 1, 2, 2], np.float32), "upsample")
    merged = {32: _pair(g, maps[32], layers, NECK[32])}
    for stride in (16, 8):
        up = g.node("Resize", [merged[stride * 2], "", scales], mode="nearest")
        merged[stride] = _pair(g, g.node("Add", [up, maps[stride]]), layers, NECK[stride])
    outputs = []
    for stride in (8, 16, 32):
        for head, indices in HEADS[stride].items():
            y = _pair(g, merged[stride], layers, indices)
            if head in ("cls", "obj"):
                y = g.node("Sigmoid", [y])
            y = g.node("Transpose", [y], perm=[0, 2, 3, 1])
            name = f"{head}_{stride}"
            g.node("Reshape", [y, g.const(np.array([0, -1, HEAD_WIDTHS[head]], np.int64), "shape")], name)
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", f"cells_{stride}",
                                                                                   HEAD_WIDTHS[head]]))
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, "h", "w"])
    graph = helper.make_graph(g.nodes, "yunet_libfacedetection", [image], outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="facecore")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def graph_from_library(path: Path) -> bytes:
    """YuNet's ONNX graph from the weights inside ``libfacedetection.so`` at ``path``."""
    return build_graph(read_layers(ElfFile.read(path)))
