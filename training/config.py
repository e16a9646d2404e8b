"""The training configuration: YAML files and ``--key value`` options, later ones overriding earlier ones.

``python -m training.train base.yml --lr 0.01 @more.yml --epochs 3``: ``CONFIG.yml`` and ``@CONFIG.yml`` both
read a file of ``key: value`` lines; every ``--key value`` (or ``--key=value``; a bare ``--flag`` is true) is
read as YAML, so ``--lr_steps [4,8]`` is a list. Dashes and underscores in keys are the same.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence


@dataclass
class TrainConfig:
    # data
    data: str = ""  #: training set: a folder per identity, a CASIA list (path label), a VGGFace2 list, or train.rec
    data_root: str = ""  #: where a list file's paths start (default: the list's folder)
    val: str = ""  #: validation identities (aligned folder per identity): verification pairs each epoch
    lfw: str = ""  #: aligned LFW (training.align output) with pairs.txt given by lfw_pairs
    lfw_pairs: str = ""  #: LFW pairs.txt (default: <lfw>/pairs.txt)
    bins: list[str] = field(default_factory=list)  #: InsightFace verification .bin files checked each epoch
    flip: bool = True  #: random horizontal flips
    workers: int = 0  #: DataLoader worker processes
    # model
    backbone: str = "mobilefacenet"
    embedding_size: int = 128
    pretrained: str = ""  #: fine-tune an ONNX calculator: its graph and weights replace the backbone; new head
    # head and loss
    head: str = "arcface"  #: softmax, arcface, cosface, sphereface, combined, adacos
    s: float = 64.0
    m: float = 0.5
    easy_margin: bool = False
    margins: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.2])  #: combined: m1, m2, m3
    sphere_m: int = 4
    sphere_lambda: float = 0.0
    criterion: str = "ce"  #: ce or focal
    focal_gamma: float = 2.0
    center_weight: float = 0.0  #: > 0 adds center loss (with softmax)
    sample_rate: float = 1.0  #: Partial FC: fraction of class centres per step
    # optimisation
    optimizer: str = "sgd"  #: sgd or adam
    lr: float = 0.1
    backbone_lr_scale: float = 1.0  #: fine-tuning: the backbone's lr is lr x this
    freeze_bn: bool = False  #: fine-tuning: batch norm keeps its stored statistics
    head_init: str = "random"  #: random, or imprint: class centres start at each identity's mean embedding
    freeze_backbone_epochs: int = 0  #: fine-tuning: the first epochs train the head alone
    freeze_backbone_layers: int = 0  #: fine-tuning: the first N weight layers of the backbone stay fixed
    distill_weight: float = 0.0  #: fine-tuning: pull unit embeddings toward the starting backbone's (LwF)
    l2sp_weight: float = 0.0  #: fine-tuning: w/2 |theta - theta0|^2 on the backbone (L2-SP; its weight decay off)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_steps: list[int] = field(default_factory=list)  #: epochs at which lr is multiplied by lr_gamma
    lr_gamma: float = 0.1
    warmup_steps: int = 0  #: linear warm-up from 0 over this many steps
    epochs: int = 10
    batch_size: int = 64  #: global batch (split over DDP processes)
    max_steps: int = 0  #: stop after this many steps (0 = no limit)
    time_limit_minutes: float = 0.0  #: stop training after this long (the epoch is cut short, then evaluated)
    amp: bool = False  #: mixed precision (CUDA only)
    device: str = "auto"  #: auto, cpu, cuda, cuda:N
    seed: int = 0
    # output
    out: str = "runs/train"  #: checkpoints, metrics.jsonl and TensorBoard scalars
    select_by: str = "auto"  #: best.pt by: val, lfw, train, a .bin's stem; auto = val, else lfw, else train
    keep_epochs: bool = False  #: also keep epoch_N.pt for every epoch (to evaluate each later)
    resume: str = ""  #: a checkpoint of this run to continue from
    eval_batch_size: int = 128
    eval_before: bool = False  #: evaluate before the first step: a fine-tune's start, best.pt until an epoch beats it
    progress: bool = True  #: tqdm bars
    log_every: int = 10  #: print the loss every this many steps (0 = never)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _parse_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text) if text != "" else ""


def _coerce(key: str, value: Any) -> Any:
    kind = FIELDS[key].type
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "str" and value is not None and not isinstance(value, str):
        return str(value)
    if kind.startswith("list") and not isinstance(value, list):
        return [value]
    return value


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    values = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected 'key: value' lines")
    return values


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """``argv`` (files, @files, --key value) folded left to right into one dict of overrides."""
    values: dict[str, Any] = {}
    tokens = list(argv)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--"):
            key, _, inline = token[2:].partition("=")
            if not inline and "=" not in token and (index >= len(tokens) or tokens[index].startswith("--")):
                values[key] = True
                continue
            if not inline and "=" not in token:
                inline, index = tokens[index], index + 1
            values[key] = _parse_value(inline)
        else:
            values.update(read_yaml(Path(token[1:] if token.startswith("@") else token)))
    return values


def build_config(values: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    changes = {}
    for raw_key, value in values.items():
        key = raw_key.replace("-", "_")
        if key not in FIELDS:
            raise ValueError(f"unknown option {raw_key!r}; see --help for the options")
        changes[key] = _coerce(key, value)
    return dataclasses.replace(base or TrainConfig(), **changes)


def help_text(prog: str, doc: str) -> str:
    lines = [doc.strip(), "", "options (default):"]
    for name, spec in FIELDS.items():
        default = spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
        lines.append(f"  --{name} {default!r}")
    return f"usage: {prog} [CONFIG.yml] [@CONFIG.yml] [--key value ...]\n\n" + "\n".join(lines)
