"""SphereNet-20 (SphereFace, Liu et al., 2017): four strided 3x3 conv + PReLU stages of 64/128/256/512
channels followed by 1, 2, 4 and 1 residual units (two 3x3 conv + PReLU each), then a fully connected layer."""
from __future__ import annotations

import torch
from torch import nn

UNITS = ((64, 1), (128, 2), (256, 4), (512, 1))


def conv_prelu(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.PReLU(cout))


class ResidualUnit(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_prelu(channels, channels, 1), conv_prelu(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SphereNet20(nn.Module):
    def __init__(self, embedding_size: int = 512) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width, units in UNITS:
            layers.append(conv_prelu(channels, width, 2))
            layers += [ResidualUnit(width) for _ in range(units)]
            channels = width
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(channels * 7 * 7, embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.body(x), 1))
