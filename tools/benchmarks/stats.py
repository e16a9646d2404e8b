"""Summaries shared by the library and service runs, so both are reported the same way."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a latency some request really had, never an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class RunSummary:
    """One measured run: ``label`` names the system and its settings."""

    label: str
    workers: int  # library processes or service concurrency
    images: int
    faces: int
    wall_s: float
    latencies_ms: list[float]
    rss_mb: float
    per_face_ms: dict[str, float] = field(default_factory=dict)  # plugin (or stage) -> mean ms per face
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: CPU seconds the system spent (library processes; uWSGI master and workers), NaN when unknown: steadier
    #: than wall time on a machine other jobs share
    cpu_s: float = float("nan")

    @property
    def cpu_ms_per_image(self) -> float:
        return 1000.0 * self.cpu_s / self.images if self.images else float("nan")

    @property
    def images_per_s(self) -> float:
        return self.images / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def faces_per_s(self) -> float:
        return self.faces / self.wall_s if self.wall_s > 0 else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def as_dict(self) -> dict:
        return {"label": self.label, "workers": self.workers, "images": self.images, "faces": self.faces,
                "wall_s": self.wall_s, "images_per_s": self.images_per_s, "faces_per_s": self.faces_per_s,
                "p50_ms": self.p(50), "p95_ms": self.p(95), "p99_ms": self.p(99), "rss_mb": self.rss_mb,
                "cpu_ms_per_image": self.cpu_ms_per_image, "per_face_ms": self.per_face_ms, "errors": self.errors,
                "extra": self.extra,
                "latencies_ms": self.latencies_ms}


def mean_per_face(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean of each key over the faces (rows = one dict of ms per face)."""
    totals: dict[str, float] = {}
    for row in rows:
        for key, value in row.items():
            totals[key] = totals.get(key, 0.0) + float(value)
    return {key: value / len(rows) for key, value in totals.items()} if rows else {}
