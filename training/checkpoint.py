"""Checkpoints: one file with the config, the backbone, the head, the optimizer and where training stood.

Written atomically (a crash never leaves half a checkpoint) and read with ``torch.load(weights_only=True)``:
only tensors and plain containers, never arbitrary pickled objects.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from training.config import TrainConfig, build_config
from training.models import build_backbone


def save(path: Path, state: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    torch.save(state, partial)
    os.replace(partial, path)


def load(path: Path) -> dict[str, Any]:
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def config_of(state: dict[str, Any]) -> TrainConfig:
    return build_config(state["config"])


def make_model(config: TrainConfig) -> torch.nn.Module:
    """The configured backbone; with ``pretrained``, the ONNX calculator's own graph and weights instead."""
    if config.pretrained:
        from training.onnx_import import onnx_backbone

        model = onnx_backbone(Path(config.pretrained))
        if config.freeze_bn:  # frozen statistics make batch norm an affine map: fold it, for well-scaled steps
            model.fold_batch_norm()
        return model
    return build_backbone(config.backbone, config.embedding_size)


def embedding_size_of(model: torch.nn.Module) -> int:
    was_training = model.training
    with torch.no_grad():
        size = int(model.eval()(torch.zeros(1, 3, 112, 112)).shape[1])
    model.train(was_training)
    return size


def load_backbone(path: Path) -> tuple[torch.nn.Module, TrainConfig]:
    """The backbone of a checkpoint, in eval mode."""
    state = load(path)
    config = config_of(state)
    model = make_model(config)
    model.load_state_dict(state["model"])
    return model.eval(), config
