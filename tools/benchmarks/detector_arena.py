"""The memory a detector's ONNX Runtime session keeps with its arena (the service's choice) and without it.

    python -m tools.benchmarks.detector_arena [--detectors libfacedetection.FaceDetector ...] [--sizes 60]

Each copy of each detector is loaded in a process of its own, as in a uWSGI worker, and detects on ``--sizes``
random images up to the largest ``IMG_LENGTH_LIMIT`` allows (a square of the limit): the growth of the process's
RSS is what the arena, or the C heap without it, keeps for the worker's life. What the arena is worth in time is
measured in the service, where the rest of the request shapes the C heap: ``python -m tools.benchmarks.service_ab``
against a checkout from before it (docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys

import numpy as np

from facecore.pipeline import Pipeline
from tools.benchmarks.peer_harness import rss_mb
from tools.common.service import build_detector_only, quiet_logs


def arena_growth_mb(pipeline: Pipeline, limit: int, sizes: int) -> float:
    """RSS growth over ``sizes`` detections on random images up to ``limit`` px a side (the arena's peak)."""
    rng = np.random.default_rng(0)
    before = rss_mb()
    for _ in range(sizes):
        height, width = rng.integers(limit // 4, limit + 1, size=2)
        pipeline.detector.detect(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), 0.9)
    return rss_mb() - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.detector_arena",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", nargs="+", default=["libfacedetection.FaceDetector"])
    parser.add_argument("--sizes", type=int, default=60)
    parser.add_argument("--child", choices=["arena", "no-arena"], help=argparse.SUPPRESS)  # one measuring process
    args = parser.parse_args(argv)
    quiet_logs()
    from facecore.config import load_settings
    from facecore.onnx_session import keeps_arena

    settings = load_settings()
    limit = settings.img_length_limit
    if not keeps_arena(settings.device):
        print(f"IMG_LENGTH_LIMIT={limit}: detectors keep no arena, nothing to compare", file=sys.stderr)
        return 2
    if args.child:
        chosen = settings.with_overrides(detector=args.detectors[0])
        device = None if args.child == "arena" else dataclasses.replace(chosen.device, detection_side=0)
        print(f"{arena_growth_mb(build_detector_only(chosen, device), limit, args.sizes):.1f}")
        return 0
    for name in args.detectors:
        grown = {label: float(subprocess.run(
            [sys.executable, "-m", "tools.benchmarks.detector_arena", "--child", label, "--detectors", name,
             "--sizes", str(args.sizes)], check=True, capture_output=True, text=True).stdout)
            for label in ("arena", "no-arena")}
        print(f"{name}: RSS growth over {args.sizes} random sizes up to {limit}x{limit}: "
              f"{grown['arena']:.1f} MB with the arena, {grown['no-arena']:.1f} MB without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
