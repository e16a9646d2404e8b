"""This CPU's float32 matrix-multiply rate (numpy's BLAS), the yardstick for the FLOP floor."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GemmRate:
    threads: int
    size: int
    gflops: float  # best of the repeats: the floor must be a rate the CPU really reaches


def measure_sgemm(threads: int, size: int = 1024, repeats: int = 10) -> GemmRate:
    """Best GFLOP/s of ``size``-square float32 matmuls with BLAS limited to ``threads`` threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), np.float32)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)  # first call pays for thread start-up and page faults
        for _ in range(repeats):
            started = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - started)
    return GemmRate(threads, size, 2.0 * size ** 3 / best / 1e9)
