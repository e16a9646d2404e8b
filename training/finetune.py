"""Fine-tuning a pretrained backbone on a small set without forgetting what it knew.

A pretrained face model fine-tuned naively on a few thousand photos loses accuracy on everyone else. The
known causes, and what each option here does against it:

- batch norm re-estimating its statistics on small batches of a tiny set: ``freeze_batch_norm`` keeps the
  stored statistics (eval mode) while the weights train (``freeze_bn``).
- a freshly initialised margin head, whose random gradients wreck the backbone in the first steps:
  ``imprint_head`` starts each class centre at the mean normalised embedding of that identity's photos
  (Qi, Brown & Lowe 2018, "Low-shot learning with imprinted weights") (``head_init: imprint``), and
  ``freeze_backbone_epochs`` trains the head alone first.
- every layer moving: ``freeze_first_layers`` keeps the first layers (generic, and the most sensitive) fixed
  (``freeze_backbone_layers``), which also makes each step cheaper.
- no anchor to the original features: ``FeatureAnchor`` adds w |f(x)/|f(x)| - f0(x)/|f0(x)||^2, the distance
  between the trained and the frozen starting backbone's unit embeddings of the same batch (the feature
  distillation of "learning without forgetting", Li & Hoiem 2017) (``distill_weight``); ``WeightAnchor``
  adds w/2 |theta - theta0|^2 over the backbone's weights (L2-SP, Li, Grandvalet & Davoine 2018)
  (``l2sp_weight``; the backbone's plain weight decay toward zero is then off).
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn


def freeze_batch_norm(model: nn.Module) -> None:
    """Batch norm keeps its stored statistics (eval mode) while the rest trains: a fine-tune on small batches
    otherwise replaces statistics learnt on millions of faces with those of 32 photos."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
        if hasattr(module, "frozen_batch_norm"):
            module.frozen_batch_norm = True


def weight_layers(model: nn.Module) -> list[list[nn.Parameter]]:
    """The backbone's parametrised layers in the order the input meets them (an ONNX graph: its nodes' order;
    a torch model: its modules' registration order, which ours follow)."""
    if hasattr(model, "layer_parameters"):
        return model.layer_parameters()
    return [params for module in model.modules() if (params := list(module.parameters(recurse=False)))]


def freeze_first_layers(model: nn.Module, count: int) -> int:
    """The first ``count`` layers keep their weights: the generic low-level features of a pretrained network
    (the most sensitive to small steps), and backward stops where they end. Returns the parameters frozen."""
    frozen = [p for params in weight_layers(model)[:count] for p in params]
    for parameter in frozen:
        parameter.requires_grad_(False)
    return sum(p.numel() for p in frozen)


def class_means(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], classes: int,
                device: torch.device) -> torch.Tensor:
    """(classes, D): the mean unit embedding of each class's images, by the model in eval mode."""
    was_training = model.training
    model.eval()
    sums: torch.Tensor | None = None
    counts = torch.zeros(classes, device=device)
    with torch.no_grad():
        for images, labels in batches:
            embeddings = F.normalize(model(images.to(device)).float())
            labels = labels.to(device)
            if sums is None:
                sums = torch.zeros(classes, embeddings.shape[1], device=device)
            sums.index_add_(0, labels, embeddings)
            counts.index_add_(0, labels, torch.ones_like(labels, dtype=counts.dtype))
    model.train(was_training)
    if sums is None or bool((counts == 0).any()):
        raise ValueError("head_init imprint: every identity needs at least one photo")
    return sums / counts[:, None]


def imprint_head(weight: nn.Parameter, means: torch.Tensor) -> None:
    """Class centres = the identities' mean unit embeddings (cosine heads compare directions only)."""
    if weight.shape != means.shape:
        raise ValueError(f"head_init imprint: head {tuple(weight.shape)} against embeddings {tuple(means.shape)}")
    with torch.no_grad():
        weight.copy_(F.normalize(means))


class FeatureAnchor(nn.Module):
    """Distance of the trained backbone's unit embeddings from a frozen copy of the starting backbone's."""

    def __init__(self, start: nn.Module, weight: float) -> None:
        super().__init__()
        self.teacher = copy.deepcopy(start).eval()
        self.teacher.requires_grad_(False)
        self.weight = weight

    def train(self, mode: bool = True) -> "FeatureAnchor":
        super().train(mode)
        self.teacher.eval()  # the starting point never moves: not its weights, not its statistics
        return self

    def forward(self, images: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = F.normalize(self.teacher(images).float())
        return self.weight * (F.normalize(embeddings) - target).pow(2).sum(1).mean()


class WeightAnchor:
    """L2-SP: w/2 |theta - theta0|^2 over the parameters as they were when it was made."""

    def __init__(self, parameters: Iterable[nn.Parameter], weight: float) -> None:
        self.parameters = [p for p in parameters if p.requires_grad]
        self.start = [p.detach().clone() for p in self.parameters]
        self.weight = weight

    def __call__(self) -> torch.Tensor:
        total = sum(((p - p0) ** 2).sum() for p, p0 in zip(self.parameters, self.start))
        return 0.5 * self.weight * total
