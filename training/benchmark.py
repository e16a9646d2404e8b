"""Training speed: images per second through forward + backward + SGD step of a backbone with an ArcFace head.

    python -m training.benchmark [--backbone mobilefacenet iresnet50] [--batch 32] [--steps 5] [--device cpu]

Random 112x112 inputs (speed does not depend on the pixels); the first step is a warm-up and not counted.
Prints the median and the range over the timed steps, and the inference rate (eval mode, no gradients).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Sequence

import torch

from training.losses import MarginHead, RecognitionLoss
from training.models import build_backbone


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(name: str, batch: int, steps: int, device: torch.device, amp: bool) -> dict[str, float]:
    model = build_backbone(name, 512 if name.startswith(("iresnet", "resnet", "resnext")) else 128).to(device)
    size = model(torch.zeros(2, 3, 112, 112, device=device)).shape[1]
    loss = RecognitionLoss(MarginHead("arcface", size, 1000)).to(device)
    optimizer = torch.optim.SGD([*model.parameters(), *loss.parameters()], lr=0.01, momentum=0.9)
    images = torch.randn(batch, 3, 112, 112, device=device)
    labels = torch.randint(0, 1000, (batch,), device=device)
    times = []
    for step in range(steps + 1):
        _sync(device)
        started = time.perf_counter()
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            embeddings = model(images)
        value, _, _ = loss(embeddings.float(), labels)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        _sync(device)
        if step:
            times.append(time.perf_counter() - started)
    model.eval()
    with torch.no_grad():
        model(images)
        _sync(device)
        started = time.perf_counter()
        model(images)
        _sync(device)
        inference = batch / (time.perf_counter() - started)
    rates = [batch / t for t in times]
    return {"train_median": statistics.median(rates), "train_min": min(rates), "train_max": max(rates),
            "inference": inference}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.benchmark", description=__doc__.split("\n")[0],
                                     epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", nargs="+", default=["mobilefacenet", "iresnet50"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true", help="mixed precision (CUDA)")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, batch {args.batch}, {args.steps} timed steps, {torch.get_num_threads()} threads")
    for name in args.backbone:
        rates = measure(name, args.batch, args.steps, device, args.amp)
        print(f"{name}: train {rates['train_median']:.1f} images/s (range {rates['train_min']:.1f}-"
              f"{rates['train_max']:.1f}), inference {rates['inference']:.1f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
