"""The embedding layer every 7x7 backbone ends with: InsightFace's "E" output (BN, dropout, FC, BN)."""
from __future__ import annotations

import torch
from torch import nn


class EmbeddingHead(nn.Module):
    """(N, C, 7, 7) feature maps -> (N, D): BN2d -> dropout -> flatten -> linear -> BN1d."""

    def __init__(self, channels: int, embedding_size: int, spatial: int = 7, dropout: float = 0.0) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=2e-5)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels * spatial * spatial, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=2e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.fc(torch.flatten(self.dropout(self.bn(x)), 1)))


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
            act: str | None = None) -> nn.Sequential:
    """Conv (no bias, same padding) -> BN -> optional activation ("prelu" or "relu" or "relu6")."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act == "prelu":
        layers.append(nn.PReLU(cout))
    elif act == "relu":
        layers.append(nn.ReLU(inplace=True))
    elif act == "relu6":
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class GDCHead(nn.Module):
    """MobileFaceNet's global depthwise convolution: 1x1 to ``channels`` -> linear 7x7 depthwise -> linear -> BN1d.

    Keeps light backbones light: no 7x7xC fully connected layer.
    """

    def __init__(self, cin: int, embedding_size: int, channels: int = 512, spatial: int = 7) -> None:
        super().__init__()
        self.expand = conv_bn(cin, channels, 1, act="prelu")
        self.gdc = conv_bn(channels, channels, spatial, groups=channels)
        self.gdc[0].padding = (0, 0)
        self.fc = nn.Linear(channels, embedding_size, bias=False)
        self.features = nn.BatchNorm1d(embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.fc(torch.flatten(self.gdc(self.expand(x)), 1)))
