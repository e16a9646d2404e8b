"""ResNet-18/34/50/101/152 (He et al., 2016) and ResNeXt-50/101 32x4d (Xie et al., 2017) for 112x112 faces:
a 3x3 stride-1 stem instead of 7x7 + max-pool, four strided stages (112 -> 7) and the "E" embedding head."""
from __future__ import annotations

import torch
from torch import nn

from training.models.heads import EmbeddingHead, conv_bn

#: name: (blocks per stage, bottleneck?, groups, width per group)
LAYOUTS: dict[str, tuple[tuple[int, int, int, int], bool, int, int]] = {
    "resnet18": ((2, 2, 2, 2), False, 1, 64), "resnet34": ((3, 4, 6, 3), False, 1, 64),
    "resnet50": ((3, 4, 6, 3), True, 1, 64), "resnet101": ((3, 4, 23, 3), True, 1, 64),
    "resnet152": ((3, 8, 36, 3), True, 1, 64),
    "resnext50": ((3, 4, 6, 3), True, 32, 4), "resnext101": ((3, 4, 23, 3), True, 32, 4),
}


class Block(nn.Module):
    """Basic (two 3x3) or bottleneck (1x1 -> grouped 3x3 -> 1x1, x4 channels) residual block, post-activation."""

    def __init__(self, cin: int, planes: int, stride: int, bottleneck: bool, groups: int, group_width: int) -> None:
        super().__init__()
        if bottleneck:
            width = planes * group_width // 64 * groups
            cout = planes * 4
            self.body = nn.Sequential(conv_bn(cin, width, 1, act="relu"),
                                      conv_bn(width, width, 3, stride, groups=groups, act="relu"),
                                      conv_bn(width, cout, 1))
        else:
            cout = planes
            self.body = nn.Sequential(conv_bn(cin, cout, 3, stride, act="relu"), conv_bn(cout, cout, 3))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride)
        self.out_channels = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, name: str, embedding_size: int = 512) -> None:
        super().__init__()
        blocks, bottleneck, groups, group_width = LAYOUTS[name]
        self.stem = conv_bn(3, 64, 3, 1, act="relu")
        layers: list[nn.Module] = []
        channels = 64
        for count, planes in zip(blocks, (64, 128, 256, 512)):
            for index in range(count):
                block = Block(channels, planes, 2 if index == 0 else 1, bottleneck, groups, group_width)
                layers.append(block)
                channels = block.out_channels
        self.body = nn.Sequential(*layers)
        self.head = EmbeddingHead(channels, embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(x)))


def resnet(name: str, embedding_size: int = 512) -> ResNet:
    if name not in LAYOUTS:
        raise ValueError(f"unknown ResNet {name!r}; choose one of {sorted(LAYOUTS)}")
    return ResNet(name, embedding_size)
