"""From the age network's 81-way distribution (classes = ages 0..80) to CompreFace's ``{low, high, probability}``.

The interval starts as the ``AGE_MIN_WIDTH`` whole years centred on the expected age and grows one class
at a time towards the more probable neighbour until it holds at least ``AGE_INTERVAL_MASS`` of the
probability; ``probability`` is the mass it holds. An unsure network gives a wide interval, so the width
shows its uncertainty. The floor of 5 years exists because the network's softmax is far more confident
than any age estimate is accurate (it often puts 95% on a single year), and it matches the width of
CompreFace's age buckets (25-32, 38-43, 48-53).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AGE_CLASSES = 81
#: Expected-age weights of the classes as the model's manifest gives them: class 0 means "under one".
AGE_WEIGHTS = np.array([0.25] + [float(age) for age in range(1, AGE_CLASSES)], dtype=np.float64)
AGE_INTERVAL_MASS = 0.5
AGE_MIN_WIDTH = 5


@dataclass(frozen=True)
class AgeInterval:
    low: int
    high: int
    probability: float
    expected: float

    def to_json(self) -> dict[str, float | int]:
        return {"low": self.low, "high": self.high, "probability": self.probability}


def expected_age(probabilities: np.ndarray) -> float:
    values = np.asarray(probabilities, dtype=np.float64)
    return float(values @ AGE_WEIGHTS / max(values.sum(), 1e-12))


def age_interval(probabilities: np.ndarray, mass: float = AGE_INTERVAL_MASS,
                 min_width: int = AGE_MIN_WIDTH) -> AgeInterval:
    """The interval of whole ages around the expected age holding at least ``mass`` of the distribution."""
    values = np.asarray(probabilities, dtype=np.float64).reshape(AGE_CLASSES)
    values = values / max(values.sum(), 1e-12)
    expected = float(values @ AGE_WEIGHTS)
    min_width = int(np.clip(min_width, 1, AGE_CLASSES))
    centre = int(np.clip(np.floor(expected + 0.5), 0, AGE_CLASSES - 1))
    low = int(np.clip(centre - (min_width - 1) // 2, 0, AGE_CLASSES - min_width))
    high = low + min_width - 1
    held = float(values[low:high + 1].sum())
    while held < mass and (low > 0 or high < AGE_CLASSES - 1):
        below = values[low - 1] if low > 0 else -1.0
        above = values[high + 1] if high < AGE_CLASSES - 1 else -1.0
        if above > below:
            high += 1
            held += above
        else:
            low -= 1
            held += below
    return AgeInterval(low, high, float(min(held, 1.0)), expected)
