"""ArcFace's backbone (InsightFace's improved-residual ResNet, "IResNet" / "LResNet-E-IR") as an ONNX graph
with random weights: for counting FLOPs and timing the architecture, never for embeddings.

The recognition models CompreFace and InsightFace ship (``arcface_r100_v1``, ``glintr100``, ``w600k_r50``)
cannot be downloaded here; their cost depends only on the architecture, which this rebuilds from its
published description: a 112x112 RGB face; a 3x3 stem of 64 channels with BN and PReLU; four stages of
64, 128, 256 and 512 channels, each block BN -> 3x3 conv -> BN -> PReLU -> 3x3 conv (stride 2 in a stage's
first block) -> BN, plus a strided 1x1 projection where the shape changes; then BN, a 7x7x512 -> 512
fully connected layer and BN: the 512-float embedding.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Blocks per stage of the depths InsightFace publishes.
DEPTHS: dict[int, tuple[int, int, int, int]] = {50: (3, 4, 14, 3), 100: (3, 13, 30, 3)}
WIDTHS = (64, 128, 256, 512)
EMBEDDING = 512
INPUT = "data"


@dataclass
class _Graph:
    rng: np.random.Generator
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    weights: list[onnx.TensorProto] = field(default_factory=list)
    count: int = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def tensor(self, values: np.ndarray) -> str:
        name = self.name("w")
        self.weights.append(numpy_helper.from_array(values.astype(np.float32), name))
        return name

    def weight(self, shape: tuple[int, ...], scale: float = 0.05) -> str:
        return self.tensor(self.rng.normal(0.0, scale, shape))

    def op(self, kind: str, inputs: list[str], **attributes: object) -> str:
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attributes))
        return out

    def conv(self, x: str, cin: int, cout: int, kernel: int, stride: int) -> str:
        pad = kernel // 2
        return self.op("Conv", [x, self.weight((cout, cin, kernel, kernel))], kernel_shape=[kernel, kernel],
                       strides=[stride, stride], pads=[pad] * 4)

    def batchnorm(self, x: str, channels: int) -> str:
        ones = np.ones(channels)
        bias, mean = self.weight((channels,), 0.01), self.weight((channels,), 0.01)
        return self.op("BatchNormalization", [x, self.tensor(ones), bias, mean, self.tensor(ones)], epsilon=2e-5)

    def prelu(self, x: str, channels: int) -> str:
        return self.op("PRelu", [x, self.weight((channels, 1, 1), 0.25)])


def _block(graph: _Graph, x: str, cin: int, cout: int, stride: int) -> str:
    y = graph.batchnorm(x, cin)
    y = graph.conv(y, cin, cout, 3, 1)
    y = graph.prelu(graph.batchnorm(y, cout), cout)
    y = graph.batchnorm(graph.conv(y, cout, cout, 3, stride), cout)
    shortcut = x if stride == 1 and cin == cout else graph.batchnorm(graph.conv(x, cin, cout, 1, stride), cout)
    return graph.op("Add", [y, shortcut])


def build_iresnet(depth: int = 100, seed: int = 0) -> onnx.ModelProto:
    """The IResNet-``depth`` (50 or 100) graph: input ``data`` (N, 3, 112, 112), output (N, 512)."""
    if depth not in DEPTHS:
        raise ValueError(f"IResNet depth {depth} is not one of {sorted(DEPTHS)}")
    graph = _Graph(np.random.default_rng(seed))
    x = graph.prelu(graph.batchnorm(graph.conv(INPUT, 3, WIDTHS[0], 3, 1), WIDTHS[0]), WIDTHS[0])
    channels = WIDTHS[0]
    for blocks, width in zip(DEPTHS[depth], WIDTHS):
        for index in range(blocks):
            x = _block(graph, x, channels, width, 2 if index == 0 else 1)
            channels = width
    x = graph.op("Flatten", [graph.batchnorm(x, channels)], axis=1)
    fc_weight = graph.weight((EMBEDDING, channels * 7 * 7), 0.01)
    x = graph.op("Gemm", [x, fc_weight, graph.weight((EMBEDDING,), 0.01)], transB=1)
    x = graph.batchnorm(x, EMBEDDING)
    output = helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", EMBEDDING])
    data = helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, 112, 112])
    model = helper.make_model(helper.make_graph(graph.nodes, f"iresnet{depth}", [data], [output], graph.weights),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model
