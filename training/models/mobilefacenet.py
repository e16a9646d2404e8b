"""MobileFaceNet (Chen et al., 2018): inverted residual bottlenecks with PReLU and a global depthwise head.

Table 1 of the paper: 3x3 conv 64 /2, 3x3 depthwise 64, bottlenecks (t, c, n, s) = (2, 64, 5, 2),
(4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1), 1x1 conv 512, linear 7x7 GDConv, linear 1x1.
"""
from __future__ import annotations

import torch
from torch import nn

from training.models.heads import GDCHead, conv_bn

SETTINGS = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))


class InvertedResidual(nn.Module):
    """1x1 expand (t x) -> 3x3 depthwise (stride) -> 1x1 linear projection; identity shortcut when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int, act: str = "prelu") -> None:
        super().__init__()
        hidden = cin * expansion
        layers = [conv_bn(cin, hidden, 1, act=act)] if expansion != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, act=act), conv_bn(hidden, cout, 1)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileFaceNet(nn.Module):
    def __init__(self, embedding_size: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, 64, 3, 2, act="prelu"), conv_bn(64, 64, 3, 1, groups=64, act="prelu")]
        channels = 64
        for expansion, width, count, stride in SETTINGS:
            for index in range(count):
                layers.append(InvertedResidual(channels, width, stride if index == 0 else 1, expansion))
                channels = width
        self.body = nn.Sequential(*layers)
        self.head = GDCHead(channels, embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
