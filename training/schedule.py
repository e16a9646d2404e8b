"""Learning rate at a step: linear warm-up over the first steps, then x gamma at each listed epoch."""
from __future__ import annotations

from typing import Sequence


def learning_rate(base: float, step: int, epoch: int, warmup_steps: int = 0, lr_steps: Sequence[int] = (),
                  gamma: float = 0.1) -> float:
    decayed = base * gamma ** sum(1 for boundary in lr_steps if epoch >= boundary)
    if warmup_steps > 0 and step < warmup_steps:
        return decayed * (step + 1) / warmup_steps
    return decayed
