"""Recognition backbones: a 112x112 RGB face (N, 3, 112, 112) in, an embedding (N, D) out.

``build_backbone("iresnet50", embedding_size=512)``; ``BACKBONES`` lists every name.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from training.models.iresnet import iresnet
from training.models.mobilefacenet import MobileFaceNet
from training.models.mobilenetv2 import MobileNetV2
from training.models.resnet import resnet
from training.models.spherenet import SphereNet20

EMBEDDING_SIZES = (128, 256, 512)

BACKBONES: dict[str, Callable[[int], nn.Module]] = {
    **{f"iresnet{depth}": (lambda size, d=depth: iresnet(d, size)) for depth in (18, 34, 50, 100)},
    **{f"resnet{depth}": (lambda size, d=depth: resnet(f"resnet{d}", size)) for depth in (18, 34, 50, 101, 152)},
    **{f"resnext{depth}": (lambda size, d=depth: resnet(f"resnext{d}", size)) for depth in (50, 101)},
    "mobilefacenet": MobileFaceNet,
    "mobilenetv2": MobileNetV2,
    "spherenet20": SphereNet20,
}


def build_backbone(name: str, embedding_size: int = 512) -> nn.Module:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    if embedding_size not in EMBEDDING_SIZES:
        raise ValueError(f"embedding size {embedding_size} is not one of {EMBEDDING_SIZES}")
    return BACKBONES[name](embedding_size)
