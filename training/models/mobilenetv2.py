"""MobileNetV2 (Sandler et al., 2018) for 112x112 faces: the paper's bottleneck table with ReLU6, the
160-channel stage's stride set to 1 so that the last map is 7x7, and MobileFaceNet's GDC head."""
from __future__ import annotations

import torch
from torch import nn

from training.models.heads import GDCHead, conv_bn
from training.models.mobilefacenet import InvertedResidual

SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 1),
            (6, 320, 1, 1))


class MobileNetV2(nn.Module):
    def __init__(self, embedding_size: int = 512) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, 32, 3, 2, act="relu6")]
        channels = 32
        for expansion, width, count, stride in SETTINGS:
            for index in range(count):
                layers.append(InvertedResidual(channels, width, stride if index == 0 else 1, expansion, "relu6"))
                channels = width
        layers.append(conv_bn(channels, 1280, 1, act="relu6"))
        self.body = nn.Sequential(*layers)
        self.head = GDCHead(1280, embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
