"""Silent-Face's MiniFASNet (V1, V2, V1SE, V2SE) in PyTorch, sized from the weights it is given.

The published networks differ only in their channel widths and in which blocks carry a squeeze-and-excitation
module, both of which the state dict states: each width is read from a weight's shape, so one builder serves
every variant and a file of another width cannot be silently mis-loaded (``load_state_dict`` is strict).

Layout (input ``N x 3 x 80 x 80``, BGR 0..255): a 3x3 stride-2 conv, a depthwise conv, then three
stages, each a stride-2 inverted bottleneck followed by residual bottlenecks (the last one of a stage may
end in SE), a 1x1 conv to 512, a depthwise conv over the whole 5x5 map, a 512->128 linear layer with batch
norm and a 128->3 classifier (class 1 = a real face).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

Weights = Mapping[str, torch.Tensor]


class ConvBlock(nn.Module):
    """Conv (no bias) -> batch norm -> PReLU, or without the PReLU when ``linear``."""

    def __init__(self, weight: torch.Tensor, stride: int = 1, padding: int = 0, groups: int = 1,
                 linear: bool = False) -> None:
        super().__init__()
        out_c, in_per_group, kernel_h, kernel_w = weight.shape
        self.conv = nn.Conv2d(in_per_group * groups, out_c, (kernel_h, kernel_w), stride, padding,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.prelu = None if linear else nn.PReLU(out_c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)


class SqueezeExcite(nn.Module):
    """Global average -> 1x1 conv -> BN -> ReLU -> 1x1 conv -> BN -> sigmoid, multiplied back on the input."""

    def __init__(self, reduce: torch.Tensor, expand: torch.Tensor) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(reduce.shape[1], reduce.shape[0], 1, bias=False)
        self.bn1 = nn.BatchNorm2d(reduce.shape[0])
        self.fc2 = nn.Conv2d(expand.shape[1], expand.shape[0], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(expand.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean(dim=(2, 3), keepdim=True)
        scale = torch.relu(self.bn1(self.fc1(scale)))
        return x * torch.sigmoid(self.bn2(self.fc2(scale)))


class Bottleneck(nn.Module):
    """1x1 expand -> 3x3 depthwise (stride 1 or 2) -> 1x1 linear project; with a shortcut when residual."""

    def __init__(self, weights: Weights, prefix: str, stride: int, residual: bool) -> None:
        super().__init__()
        expand = weights[f"{prefix}.conv.conv.weight"]
        self.conv = ConvBlock(expand)
        self.conv_dw = ConvBlock(weights[f"{prefix}.conv_dw.conv.weight"], stride, 1, groups=expand.shape[0])
        self.project = ConvBlock(weights[f"{prefix}.project.conv.weight"], linear=True)
        self.residual = residual
        has_se = f"{prefix}.se_module.fc1.weight" in weights
        self.se_module = (SqueezeExcite(weights[f"{prefix}.se_module.fc1.weight"],
                                        weights[f"{prefix}.se_module.fc2.weight"]) if has_se else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.conv_dw(self.conv(x)))
        if self.se_module is not None:
            out = self.se_module(out)
        return x + out if self.residual else out


class Stage(nn.Module):
    """The residual bottlenecks ``<prefix>.model.0 ..`` that follow a downsampling bottleneck."""

    def __init__(self, weights: Weights, prefix: str) -> None:
        super().__init__()
        count = 0
        while f"{prefix}.model.{count}.conv.conv.weight" in weights:
            count += 1
        self.model = nn.Sequential(*(Bottleneck(weights, f"{prefix}.model.{i}", 1, True) for i in range(count)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MiniFASNet(nn.Module):
    """The whole network; ``weights`` are the state dict without the ``module.`` prefix."""

    def __init__(self, weights: Weights) -> None:
        super().__init__()
        self.conv1 = ConvBlock(weights["conv1.conv.weight"], stride=2, padding=1)
        stem = weights["conv2_dw.conv.weight"].shape[0]
        self.conv2_dw = ConvBlock(weights["conv2_dw.conv.weight"], padding=1, groups=stem)
        self.conv_23 = Bottleneck(weights, "conv_23", 2, False)
        self.conv_3 = Stage(weights, "conv_3")
        self.conv_34 = Bottleneck(weights, "conv_34", 2, False)
        self.conv_4 = Stage(weights, "conv_4")
        self.conv_45 = Bottleneck(weights, "conv_45", 2, False)
        self.conv_5 = Stage(weights, "conv_5")
        self.conv_6_sep = ConvBlock(weights["conv_6_sep.conv.weight"])
        wide = weights["conv_6_dw.conv.weight"].shape[0]
        self.conv_6_dw = ConvBlock(weights["conv_6_dw.conv.weight"], groups=wide, linear=True)
        linear, prob = weights["linear.weight"], weights["prob.weight"]
        self.linear = nn.Linear(linear.shape[1], linear.shape[0], bias=False)
        self.bn = nn.BatchNorm1d(linear.shape[0])
        self.prob = nn.Linear(prob.shape[1], prob.shape[0], bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_23(self.conv2_dw(self.conv1(x)))
        x = self.conv_34(self.conv_3(x))
        x = self.conv_45(self.conv_4(x))
        x = self.conv_6_dw(self.conv_6_sep(self.conv_5(x)))
        return self.prob(self.bn(self.linear(torch.flatten(x, 1))))


def strip_prefix(state: Weights, prefix: str = "module.") -> dict[str, torch.Tensor]:
    """Keys saved from ``nn.DataParallel`` start with ``module.``; drop it."""
    return {key[len(prefix):] if key.startswith(prefix) else key: value for key, value in state.items()}


def build(state: Weights) -> MiniFASNet:
    """A MiniFASNet in eval mode holding ``state`` exactly (strict: every key used, none missing)."""
    weights = strip_prefix(state)
    model = MiniFASNet(weights)
    model.load_state_dict(weights, strict=True)
    return model.eval()
