"""A detector's ONNX Runtime session with its memory arena kept (the service's choice) or not: CPU and memory.

    python -m tools.benchmarks.detector_arena [--detectors libfacedetection.FaceDetector ...]
        [--image-dir ../shared/datasets/deepface] [--images 20] [--rounds 8] [--sizes 60]

For each detector, first the memory, in a process of its own (memory another detector freed would be reused
unseen): the copy keeping the arena runs on ``--sizes`` random copies up to the largest ``IMG_LENGTH_LIMIT``
allows (a square of the limit), and the growth of that process's RSS is what the arena holds for a worker's
life; the same without the arena shows what the C heap keeps anyway. Then the time: a second copy allocating
per run is loaded, and rounds alternate between the two over the photos' detection copies (shrunk as the
pipeline shrinks them), so a loaded machine slows both alike. Prints each copy's median CPU ms per photo and
the per-round ratio's median and range.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from facecore.pipeline import Pipeline
from tools.benchmarks import SHARED
from tools.benchmarks.images import pick
from tools.common.images import read_rgb
from tools.common.service import build_detector_only, quiet_logs


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024


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
    parser.add_argument("--image-dir", type=Path, default=SHARED / "datasets" / "deepface")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--sizes", type=int, default=60)
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)  # the child process that measures one detector
    parser.add_argument("--no-arena", action="store_true", help=argparse.SUPPRESS)  # ... without the arena
    args = parser.parse_args(argv)
    quiet_logs()
    from facecore.config import load_settings
    from facecore.imaging import downscale
    from facecore.onnx_session import keeps_arena

    settings = load_settings()
    limit = settings.img_length_limit
    if not keeps_arena(settings.device):
        print(f"IMG_LENGTH_LIMIT={limit}: detectors keep no arena, nothing to compare", file=sys.stderr)
        return 2
    if args.memory_of:
        chosen = settings.with_overrides(detector=args.memory_of)
        device = dataclasses.replace(chosen.device, detection_side=0) if args.no_arena else None
        print(f"{arena_growth_mb(build_detector_only(chosen, device), limit, args.sizes):.1f}")
        return 0
    copies = [downscale(read_rgb(path), limit)[0] for path in pick(args.image_dir, args.images)]
    for name in args.detectors:
        held = [float(subprocess.run([sys.executable, "-m", "tools.benchmarks.detector_arena", "--memory-of", name,
                                      "--sizes", str(args.sizes), *extra], check=True, capture_output=True,
                                     text=True).stdout) for extra in ([], ["--no-arena"])]
        chosen = settings.with_overrides(detector=name)
        kept = build_detector_only(chosen)
        freed = build_detector_only(chosen, dataclasses.replace(chosen.device, detection_side=0))
        cpu: dict[str, list[float]] = {"arena": [], "no arena": []}
        for _ in range(args.rounds):
            for label, pipeline in (("arena", kept), ("no arena", freed)):
                started = time.process_time()
                for copy in copies:
                    pipeline.detector.detect(copy, 0.9)
                cpu[label].append((time.process_time() - started) * 1000 / len(copies))
        ratios = [b / a for a, b in zip(cpu["arena"], cpu["no arena"])]
        print(f"{name}: {len(copies)} photos from {args.image_dir}, IMG_LENGTH_LIMIT={limit}, {args.rounds} rounds")
        for label, values in cpu.items():
            print(f"  {label:9s} median {statistics.median(values):6.2f} CPU ms per photo")
        spread = f"range {min(ratios):.2f}-{max(ratios):.2f}"
        print(f"  without the arena: {statistics.median(ratios):.2f}x the CPU ({spread})")
        print(f"  RSS growth after {args.sizes} random sizes up to {limit}x{limit}: {held[0]:.1f} MB with the arena, "
              f"{held[1]:.1f} MB without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
