"""IResNet ("LResNet-E-IR", ArcFace's IR backbones): the block is BN -> 3x3 -> BN -> PReLU -> 3x3 (strided)
-> BN, with a strided 1x1 projection where the shape changes; stages of 64/128/256/512 channels.

The depths 50 and 100 and the widths are the published ones recorded in ``tools.benchmarks.iresnet``.
"""
from __future__ import annotations

import torch
from torch import nn

from tools.benchmarks.iresnet import DEPTHS as PUBLISHED_DEPTHS, WIDTHS
from training.models.heads import EmbeddingHead

DEPTHS: dict[int, tuple[int, int, int, int]] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), **PUBLISHED_DEPTHS}


class IRBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(cin, eps=2e-5), nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout, eps=2e-5), nn.PReLU(cout),
            nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout, eps=2e-5))
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=2e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class IResNet(nn.Module):
    def __init__(self, blocks: tuple[int, ...], embedding_size: int = 512) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, WIDTHS[0], 3, 1, 1, bias=False), nn.BatchNorm2d(WIDTHS[0], eps=2e-5),
                                  nn.PReLU(WIDTHS[0]))
        layers, channels = [], WIDTHS[0]
        for count, width in zip(blocks, WIDTHS):
            for index in range(count):
                layers.append(IRBlock(channels, width, 2 if index == 0 else 1))
                channels = width
        self.body = nn.Sequential(*layers)
        self.head = EmbeddingHead(channels, embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(x)))


def iresnet(depth: int, embedding_size: int = 512) -> IResNet:
    if depth not in DEPTHS:
        raise ValueError(f"IResNet depth {depth} is not one of {sorted(DEPTHS)}")
    return IResNet(DEPTHS[depth], embedding_size)
