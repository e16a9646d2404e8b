"""Train a face-recognition backbone with a margin head; evaluate every epoch; keep the best checkpoint.

    python -m training.train CONFIG.yml [--key value ...] [@more.yml]
    torchrun --nproc_per_node 4 -m training.train CONFIG.yml     (DistributedDataParallel, one GPU each)

Writes to ``out``: ``last.pt`` (every epoch, and when max_steps stops the run), ``best.pt`` (best by
``select_by``: validation accuracy, else LFW, else training accuracy), ``metrics.jsonl`` (one line per epoch) and
TensorBoard scalars (loss, lr, accuracy). ``--resume out/last.pt`` continues exactly where it stopped.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch import nn

from training import checkpoint
from training.config import TrainConfig, build_config, help_text, parse_args
from training.data import TorchSet, collate, open_samples
from training.distributed import World, close_world, init_world
from training.finetune import (
    FeatureAnchor,
    WeightAnchor,
    class_means,
    freeze_batch_norm,
    freeze_first_layers,
    imprint_head,
)
from training.losses import MarginHead, RecognitionLoss
from training.schedule import learning_rate


@dataclass
class Position:
    """Where training stands: the epoch, the global step, and how many batches of this epoch are done."""

    epoch: int = 0
    step: int = 0
    batch: int = 0


def epoch_batches(count: int, batch_size: int, seed: int, epoch: int, world: World) -> list[list[int]]:
    """This process's share of each global batch of an epoch (a seeded shuffle; the last partial batch dropped).

    Global batch k is the same samples whatever the number of processes, so N processes train exactly as one.
    """
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed * 1000 + epoch)).tolist()
    local = batch_size // world.size
    batches = []
    for start in range(0, count - batch_size + 1, batch_size):
        chunk = order[start:start + batch_size]
        batches.append(chunk[world.rank * local:(world.rank + 1) * local])
    return batches


def flips(batch_size: int, seed: int, step: int, world: World) -> torch.Tensor:
    """Which images of this process's batch to mirror at ``step`` (drawn for the global batch)."""
    drawn = torch.rand(batch_size, generator=torch.Generator().manual_seed(seed * 7919 + step)) < 0.5
    local = batch_size // world.size
    return drawn[world.rank * local:(world.rank + 1) * local]


def selection_score(record: dict[str, Any], select_by: str = "auto", missing_ok: bool = False) -> float | None:
    """The figure best.pt is chosen by: ``<select_by>_accuracy``; ``auto`` takes validation, else LFW, else the
    first .bin, else training accuracy. Choosing by LFW makes LFW no held-out check: give ``val`` for that."""
    if select_by == "auto":
        named = ("val_accuracy", "lfw_accuracy", "train_accuracy")
        bins = [k for k in record if k.endswith("_accuracy") and k not in named]
        order = ["val_accuracy", "lfw_accuracy", *bins, "train_accuracy"]
        key = next((k for k in order if k in record), "train_accuracy")
    else:
        key = f"{select_by}_accuracy"
    if key not in record:
        if missing_ok:
            return None
        raise ValueError(f"select_by {select_by!r}: no {key} among the epoch's figures ({', '.join(record)})")
    return float(record[key])


def _check_selection(config: TrainConfig) -> None:
    sets = {"auto", "train"} | ({"val"} if config.val else set()) | ({"lfw"} if config.lfw else set())
    sets |= {Path(p).stem for p in config.bins}
    if config.select_by not in sets:
        raise ValueError(f"select_by {config.select_by!r}: choose one of {', '.join(sorted(sets))} "
                         "(val, lfw and .bin stems need those sets configured)")


class Trainer:
    def __init__(self, config: TrainConfig, world: World) -> None:
        if config.batch_size % world.size:
            raise ValueError(f"batch_size {config.batch_size} is not divisible by {world.size} processes")
        self.config, self.world = config, world
        _check_selection(config)
        torch.manual_seed(config.seed)
        self.samples = open_samples(config.data, config.data_root)
        if self.samples.classes < 2:
            raise ValueError(f"{config.data}: needs at least 2 identities, found {self.samples.classes}")
        self.dataset = TorchSet(self.samples)
        self.model = checkpoint.make_model(config)
        if config.pretrained:
            config = self.config = dataclasses.replace(config, embedding_size=checkpoint.embedding_size_of(self.model))
        head = MarginHead(config.head, config.embedding_size, self.samples.classes, config.s, config.m,
                          config.easy_margin, tuple(config.margins), config.sphere_m, config.sphere_lambda,
                          config.sample_rate)
        self.loss = RecognitionLoss(head, config.criterion, config.focal_gamma, config.center_weight)
        freeze_first_layers(self.model, config.freeze_backbone_layers)
        self.model.to(world.device)
        self.loss.to(world.device)
        # anchors to the starting backbone, taken before a resume loads later weights
        self.feature_anchor = FeatureAnchor(self.model, config.distill_weight) if config.distill_weight else None
        self.weight_anchor = WeightAnchor(self.model.parameters(), config.l2sp_weight) if config.l2sp_weight else None
        self.train_model: nn.Module = self.model
        self.train_loss: nn.Module = self.loss
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [world.device.index] if world.device.type == "cuda" else None
            # Batch-norm statistics over the global batch need SyncBatchNorm, which runs on GPUs only: on
            # CPUs each process normalises with its own share of the batch.
            shared = nn.SyncBatchNorm.convert_sync_batchnorm(self.model) if ids else self.model
            self.train_model = DistributedDataParallel(shared, device_ids=ids)
            self.train_loss = DistributedDataParallel(self.loss, device_ids=ids)
        self.optimizer = self._optimizer()
        self.amp = config.amp and world.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.position = Position()
        self.best = -math.inf
        self.history: list[dict[str, Any]] = []
        self.step_losses: list[float] = []  #: this process's loss at each step it ran
        self.anchor_losses: list[float] = []  #: the anchor terms' part of each step's loss (0 without anchors)
        self.out = Path(config.out)
        self.writer = None
        if config.resume:
            self._resume(Path(config.resume))
        elif config.head_init == "imprint":
            self._imprint()
        elif config.head_init != "random":
            raise ValueError(f"unknown head_init {config.head_init!r}; choose random or imprint")

    # ---------------------------------------------------------------------------------------- setup
    def _optimizer(self) -> torch.optim.Optimizer:
        config = self.config
        backbone_decay = 0.0 if config.l2sp_weight else config.weight_decay  # L2-SP decays toward the start
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        groups = [{"params": trainable, "lr_scale": config.backbone_lr_scale,
                   "weight_decay": backbone_decay},
                  {"params": list(self.loss.parameters()), "lr_scale": 1.0}]
        if config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
        if config.optimizer == "adam":
            return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        raise ValueError(f"unknown optimizer {config.optimizer!r}; choose sgd or adam")

    def state(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config), "model": self.model.state_dict(),
                "loss": self.loss.state_dict(), "head_s": float(self.loss.head.s),
                "optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
                "epoch": self.position.epoch, "step": self.position.step, "batch": self.position.batch,
                "best": self.best, "history": json.dumps(self.history), "names": self.samples.names}

    def _resume(self, path: Path) -> None:
        state = checkpoint.load(path)
        self.model.load_state_dict(state["model"])
        self.loss.load_state_dict(state["loss"])
        self.loss.head.s = state["head_s"]
        self.optimizer.load_state_dict(state["optimizer"])
        for group, scale in zip(self.optimizer.param_groups, (self.config.backbone_lr_scale, 1.0)):
            group["lr_scale"] = scale  # a resumed run may change the backbone's rate (head first, then all)
        self.scaler.load_state_dict(state["scaler"])
        self.position = Position(state["epoch"], state["step"], state["batch"])
        self.best = state["best"]
        self.history = json.loads(state["history"])

    def _imprint(self) -> None:
        """Class centres at the identities' mean embeddings: a fine-tune's head starts right, not random."""
        from torch.utils.data import DataLoader

        if self.config.head == "softmax":
            raise ValueError("head_init imprint needs a cosine head (arcface, cosface, combined, sphereface, adacos)")
        loader = DataLoader(self.dataset, batch_size=self.config.eval_batch_size, collate_fn=collate,
                            num_workers=self.config.workers)
        means = class_means(self.model, loader, self.samples.classes, self.world.device)
        imprint_head(self.loss.head.weight, means)

    def backbone_frozen(self) -> bool:
        return self.position.epoch < self.config.freeze_backbone_epochs

    # ---------------------------------------------------------------------------------------- steps
    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This epoch's remaining batches (after ``position.batch``), loaded by a DataLoader."""
        from torch.utils.data import DataLoader

        plan = epoch_batches(len(self.dataset), self.config.batch_size, self.config.seed, self.position.epoch,
                             self.world)[self.position.batch:]
        loader = DataLoader(self.dataset, batch_sampler=plan, collate_fn=collate,
                            num_workers=self.config.workers, persistent_workers=False)
        return iter(loader)

    def steps_per_epoch(self) -> int:
        return len(self.dataset) // self.config.batch_size

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        """One optimiser step; returns the loss and the batch's top-1 training accuracy."""
        config, position = self.config, self.position
        if config.flip:
            mirror = flips(config.batch_size, config.seed, position.step, self.world)
            images = torch.where(mirror[:, None, None, None], images.flip(3), images)
        rate = learning_rate(config.lr, position.step, position.epoch, config.warmup_steps, config.lr_steps,
                             config.lr_gamma)
        for group in self.optimizer.param_groups:
            group["lr"] = rate * group["lr_scale"]
        images, labels = images.to(self.world.device), labels.to(self.world.device)
        self.train_loss.train()
        if self.backbone_frozen():  # the head alone: the backbone only embeds (no gradients, stored statistics)
            self.model.eval()
            with torch.no_grad(), torch.autocast(self.world.device.type, enabled=self.amp):
                embeddings = self.model(images)
        else:
            self.train_model.train()
            if config.freeze_bn:
                freeze_batch_norm(self.model)
            with torch.autocast(self.world.device.type, enabled=self.amp):
                embeddings = self.train_model(images)
        loss, logits, head_labels = self.train_loss(embeddings.float(), labels)
        anchor = torch.zeros((), device=loss.device)
        if not self.backbone_frozen():
            if self.feature_anchor is not None:
                anchor = anchor + self.feature_anchor(images, embeddings)
            if self.weight_anchor is not None:
                anchor = anchor + self.weight_anchor()
        self.anchor_losses.append(float(anchor.detach()))
        loss = loss + anchor
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        accuracy = float((logits.argmax(1) == head_labels).float().mean())
        return float(loss.detach()), accuracy

    # ---------------------------------------------------------------------------------------- epochs
    def evaluate(self) -> dict[str, float]:
        """Verification accuracy on the configured sets (validation identities, LFW, .bin files)."""
        from training.evaluate import bin_pair_set, folder_pair_set, lfw_pair_set, torch_embedder, verify

        config = self.config
        sets = []
        if config.val:
            sets.append(("val", folder_pair_set(Path(config.val))))
        if config.lfw:
            sets.append(("lfw", lfw_pair_set(Path(config.lfw), Path(config.lfw_pairs) if config.lfw_pairs else None)))
        sets += [(Path(p).stem, bin_pair_set(Path(p))) for p in config.bins]
        embed = torch_embedder(self.model, str(self.world.device))
        figures = {}
        for name, pair_set in sets:
            result = verify(pair_set, embed, config.eval_batch_size, progress=config.progress)
            figures[f"{name}_accuracy"] = result.accuracy_mean
            figures[f"{name}_auc"] = result.auc
        return figures

    def _log_scalars(self, values: dict[str, float], step: int) -> None:
        if self.writer is None:
            return
        for key, value in values.items():
            self.writer.add_scalar(key, value, step)

    def end_epoch(self, losses: list[float], accuracies: list[float], seconds: float, images: int) -> None:
        record: dict[str, Any] = {"epoch": self.position.epoch + 1, "step": self.position.step,
                                  "loss": sum(losses) / max(len(losses), 1),
                                  "train_accuracy": sum(accuracies) / max(len(accuracies), 1),
                                  "anchor_loss": sum(self.anchor_losses[-len(losses):]) / max(len(losses), 1)
                                  if losses else 0.0,
                                  "images_per_s": images / max(seconds, 1e-9), "seconds": seconds}
        record.update(self.evaluate())
        self.history.append(record)
        score = selection_score(record, self.config.select_by)
        self._log_scalars({f"epoch/{k}": v for k, v in record.items() if k not in ("epoch", "step")},
                          self.position.epoch + 1)
        with (self.out / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()),
              flush=True)
        self.position = Position(self.position.epoch + 1, self.position.step, 0)
        if score > self.best:
            self.best = score
            checkpoint.save(self.out / "best.pt", self.state())
        checkpoint.save(self.out / "last.pt", self.state())
        if self.config.keep_epochs:
            checkpoint.save(self.out / f"epoch_{self.position.epoch}.pt", self.state())

    def run(self) -> None:
        from tools.common.progress import progress

        config = self.config
        if self.world.main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=1))
            self.writer = _summary_writer(self.out)
        if self.world.main and self.position.step == 0 and config.eval_before:
            record = {"epoch": 0, "step": 0, **self.evaluate()}
            with (self.out / "metrics.jsonl").open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print("before training: " + " ".join(f"{k}={v}" for k, v in record.items()), flush=True)
            start = selection_score(record, config.select_by, missing_ok=True)
            if start is not None:  # a fine-tune that never beats its start leaves the start as best.pt
                self.best = start
                checkpoint.save(self.out / "best.pt", self.state())
        trained = 0.0  # seconds spent in training steps: the time limit leaves evaluation out
        while self.position.epoch < config.epochs:
            losses, accuracies, epoch_started, out_of_time = [], [], time.perf_counter(), False
            remaining = self.steps_per_epoch() - self.position.batch
            batches = self.batches()
            if self.world.main and config.progress:
                batches = progress(batches, f"epoch {self.position.epoch + 1}", total=remaining)
            for images, labels in batches:
                loss, accuracy = self.train_step(images, labels)
                self.step_losses.append(loss)
                losses.append(loss)
                accuracies.append(accuracy)
                self.position = Position(self.position.epoch, self.position.step + 1, self.position.batch + 1)
                if self.world.main:
                    self._log_scalars({"train/loss": loss, "train/lr": self.optimizer.param_groups[-1]["lr"],
                                       "train/accuracy": accuracy}, self.position.step)
                    if config.log_every and self.position.step % config.log_every == 0:
                        print(f"step {self.position.step} epoch {self.position.epoch + 1} loss {loss:.4f} "
                              f"(anchor {self.anchor_losses[-1]:.4f}) "
                              f"accuracy {accuracy:.3f} lr {self.optimizer.param_groups[-1]['lr']:.5f}", flush=True)
                if config.max_steps and self.position.step >= config.max_steps:
                    if self.world.main:
                        checkpoint.save(self.out / "last.pt", self.state())
                    return
                if config.time_limit_minutes and self._out_of_time(trained + time.perf_counter() - epoch_started):
                    out_of_time = True
                    break
            trained += time.perf_counter() - epoch_started
            if self.world.main:
                self.end_epoch(losses, accuracies, time.perf_counter() - epoch_started,
                               len(losses) * config.batch_size)
            else:
                self.position = Position(self.position.epoch + 1, self.position.step, 0)
            if out_of_time:
                break

    def _out_of_time(self, seconds: float) -> bool:
        """Past the time limit; with several processes, as soon as any one is (all stop at the same step)."""
        late = torch.tensor([float(seconds > self.config.time_limit_minutes * 60)], device=self.world.device)
        if self.world.distributed:
            torch.distributed.all_reduce(late, op=torch.distributed.ReduceOp.MAX)
        return bool(late.item())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _summary_writer(out: Path):
    """TensorBoard scalars when the tensorboard package is installed (the training extra has it)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out / "tensorboard"))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(help_text("python -m training.train", __doc__))
        return 0
    try:
        config = build_config(parse_args(argv))
        if not config.data:
            raise ValueError("no training data: give --data (or data: in the config file)")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    world = init_world(config.device)
    try:
        trainer = Trainer(config, world)
        trainer.run()
        trainer.close()
    except (OSError, ValueError) as error:  # missing data, a bad option value, an unreadable checkpoint
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        close_world(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
