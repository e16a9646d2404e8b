"""rude_carnie's age/gender network, as CompreFace builds it, written as TensorFlow ops for its checkpoints.

Inception-v3's convolutional base (TF-slim's layer names and shapes: every conv is Conv2D + inference batch
norm without a scale + ReLU), then an average pool over the whole map, flatten, and ``output`` = x W + b.
CompreFace feeds the 160x160 prewhitened face crop and takes the softmax.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from srcext.tensorflow.graph_writer import FLOAT, GraphWriter

EPSILON = 0.001
SAME, VALID = b"SAME", b"VALID"


class InceptionV3Writer(GraphWriter):
    def conv(self, x: str, scope: str, stride: int = 1, padding: bytes = SAME) -> str:
        """``scope/weights`` (HWIO) then batch norm from ``scope/BatchNorm/{beta,moving_mean,moving_variance}``."""
        y = self.add(f"{scope}/Conv2D", "Conv2D", [x, self.weight(f"{scope}/weights")], T=FLOAT,
                     strides=[1, stride, stride, 1], padding=padding, data_format=b"NHWC", dilations=[1, 1, 1, 1])
        beta = self.weights.get(f"{scope}/BatchNorm/beta")
        channels = self.weights[f"{scope}/weights"].shape[-1]
        gamma = self.const(f"{scope}/BatchNorm/ones", np.ones(channels, np.float32))
        y = self.add(f"{scope}/BatchNorm/FusedBatchNorm", "FusedBatchNorm",
                     [y, gamma, self.weight(f"{scope}/BatchNorm/beta") if beta is not None else
                      self.const(f"{scope}/BatchNorm/zeros", np.zeros(channels, np.float32)),
                      self.weight(f"{scope}/BatchNorm/moving_mean"), self.weight(f"{scope}/BatchNorm/moving_variance")],
                     T=FLOAT, epsilon=EPSILON, is_training=False, data_format=b"NHWC")
        return self.add(f"{scope}/Relu", "Relu", [y], T=FLOAT)

    def pool(self, x: str, scope: str, op: str, stride: int, padding: bytes) -> str:
        return self.add(scope, op, [x], T=FLOAT, ksize=[1, 3, 3, 1], strides=[1, stride, stride, 1], padding=padding,
                        data_format=b"NHWC")

    def concat(self, scope: str, parts: list[str]) -> str:
        return self.add(f"{scope}/concat", "ConcatV2", [*parts, self.const(f"{scope}/axis", 3, np.int32)], T=FLOAT,
                        N=len(parts), Tidx=3)

    def chain(self, x: str, scope: str, names: list[str]) -> str:
        for name in names:
            stride, padding = (2, VALID) if name.rsplit("/", 1)[-1].startswith("Conv2d_1a") else (1, SAME)
            x = self.conv(x, f"{scope}/{name}", stride, padding)
        return x

    def mixed_35(self, x: str, scope: str, five_by_five: list[str]) -> str:
        return self.concat(scope, [
            self.chain(x, scope, ["Branch_0/Conv2d_0a_1x1"]),
            self.chain(x, scope, [f"Branch_1/{name}" for name in five_by_five]),
            self.chain(x, scope, ["Branch_2/Conv2d_0a_1x1", "Branch_2/Conv2d_0b_3x3", "Branch_2/Conv2d_0c_3x3"]),
            self.conv(self.pool(x, f"{scope}/Branch_3/AvgPool_0a_3x3", "AvgPool", 1, SAME),
                      f"{scope}/Branch_3/Conv2d_0b_1x1")])

    def mixed_17(self, x: str, scope: str) -> str:
        return self.concat(scope, [
            self.chain(x, scope, ["Branch_0/Conv2d_0a_1x1"]),
            self.chain(x, scope, ["Branch_1/Conv2d_0a_1x1", "Branch_1/Conv2d_0b_1x7", "Branch_1/Conv2d_0c_7x1"]),
            self.chain(x, scope, ["Branch_2/Conv2d_0a_1x1", "Branch_2/Conv2d_0b_7x1", "Branch_2/Conv2d_0c_1x7",
                                  "Branch_2/Conv2d_0d_7x1", "Branch_2/Conv2d_0e_1x7"]),
            self.conv(self.pool(x, f"{scope}/Branch_3/AvgPool_0a_3x3", "AvgPool", 1, SAME),
                      f"{scope}/Branch_3/Conv2d_0b_1x1")])

    def mixed_8(self, x: str, scope: str, second_1x3: str) -> str:
        b1 = self.chain(x, scope, ["Branch_1/Conv2d_0a_1x1"])
        b1 = self.concat(f"{scope}/Branch_1", [self.conv(b1, f"{scope}/Branch_1/Conv2d_0b_1x3"),
                                               self.conv(b1, f"{scope}/Branch_1/{second_1x3}")])
        b2 = self.chain(x, scope, ["Branch_2/Conv2d_0a_1x1", "Branch_2/Conv2d_0b_3x3"])
        b2 = self.concat(f"{scope}/Branch_2", [self.conv(b2, f"{scope}/Branch_2/Conv2d_0c_1x3"),
                                               self.conv(b2, f"{scope}/Branch_2/Conv2d_0d_3x1")])
        return self.concat(scope, [
            self.chain(x, scope, ["Branch_0/Conv2d_0a_1x1"]), b1, b2,
            self.conv(self.pool(x, f"{scope}/Branch_3/AvgPool_0a_3x3", "AvgPool", 1, SAME),
                      f"{scope}/Branch_3/Conv2d_0b_1x1")])

    def base(self, x: str, root: str = "InceptionV3") -> str:
        x = self.conv(x, f"{root}/Conv2d_1a_3x3", 2, VALID)
        x = self.conv(x, f"{root}/Conv2d_2a_3x3", 1, VALID)
        x = self.conv(x, f"{root}/Conv2d_2b_3x3")
        x = self.pool(x, f"{root}/MaxPool_3a_3x3", "MaxPool", 2, VALID)
        x = self.conv(x, f"{root}/Conv2d_3b_1x1", 1, VALID)
        x = self.conv(x, f"{root}/Conv2d_4a_3x3", 1, VALID)
        x = self.pool(x, f"{root}/MaxPool_5a_3x3", "MaxPool", 2, VALID)
        x = self.mixed_35(x, f"{root}/Mixed_5b", ["Conv2d_0a_1x1", "Conv2d_0b_5x5"])
        x = self.mixed_35(x, f"{root}/Mixed_5c", ["Conv2d_0b_1x1", "Conv_1_0c_5x5"])
        x = self.mixed_35(x, f"{root}/Mixed_5d", ["Conv2d_0a_1x1", "Conv2d_0b_5x5"])
        scope = f"{root}/Mixed_6a"
        x = self.concat(scope, [
            self.conv(x, f"{scope}/Branch_0/Conv2d_1a_1x1", 2, VALID),
            self.chain(x, scope, ["Branch_1/Conv2d_0a_1x1", "Branch_1/Conv2d_0b_3x3", "Branch_1/Conv2d_1a_1x1"]),
            self.pool(x, f"{scope}/Branch_2/MaxPool_1a_3x3", "MaxPool", 2, VALID)])
        for name in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = self.mixed_17(x, f"{root}/{name}")
        scope = f"{root}/Mixed_7a"
        x = self.concat(scope, [
            self.chain(x, scope, ["Branch_0/Conv2d_0a_1x1", "Branch_0/Conv2d_1a_3x3"]),
            self.chain(x, scope, ["Branch_1/Conv2d_0a_1x1", "Branch_1/Conv2d_0b_1x7", "Branch_1/Conv2d_0c_7x1",
                                  "Branch_1/Conv2d_1a_3x3"]),
            self.pool(x, f"{scope}/Branch_2/MaxPool_1a_3x3", "MaxPool", 2, VALID)])
        x = self.mixed_8(x, f"{root}/Mixed_7b", "Conv2d_0b_3x1")
        return self.mixed_8(x, f"{root}/Mixed_7c", "Conv2d_0c_3x1")


def rude_carnie_graph(weights: Mapping[str, np.ndarray], size: int) -> InceptionV3Writer:
    """The whole network for ``size`` x ``size`` inputs: input ``images`` -> output ``output`` (logits)."""
    writer = InceptionV3Writer(weights)
    x = writer.base(writer.placeholder("images"))
    side = _final_side(size)
    x = writer.add("InceptionV3/logits/pool/AvgPool", "AvgPool", [x], T=FLOAT, ksize=[1, side, side, 1],
                   strides=[1, 1, 1, 1], padding=VALID, data_format=b"NHWC")
    x = writer.add("InceptionV3/logits/flatten/Reshape", "Reshape",
                   [x, writer.const("InceptionV3/logits/flatten/shape", [-1, 2048], np.int32)], T=FLOAT, Tshape=3)
    x = writer.add("output/MatMul", "MatMul", [x, writer.weight("output/weights")], T=FLOAT)
    writer.add("output", "Add", [x, writer.weight("output/biases")], T=FLOAT)
    return writer


def _final_side(size: int) -> int:
    """The side of Inception-v3's last map for a ``size`` input (three stride-2 VALID 3x3 steps and one more)."""
    side = (size - 3) // 2 + 1 - 2  # Conv2d_1a (stride 2), Conv2d_2a
    side = (side - 3) // 2 + 1 - 2  # MaxPool_3a, Conv2d_4a
    side = (side - 3) // 2 + 1      # MaxPool_5a
    side = (side - 3) // 2 + 1      # Mixed_6a
    return (side - 3) // 2 + 1      # Mixed_7a
