"""Where a default-plugins request spends its time, in-process (no HTTP): latency, cProfile top costs, and
``dlib.Calculator`` per face in a batch of 8.

``python -m tools.benchmarks.profile_request [--image PHOTO] [--repeats 10] [--top 25]``. The plugins come
from the environment as in the service (FACE_DETECTION_PLUGIN, CALCULATION_PLUGIN, EXTRA_PLUGINS).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Sequence

from tools.benchmarks import PROJECT_ROOT, SHARED
from tools.benchmarks.service import DEFAULT_SLUGS
from tools.common.images import read_rgb

PHOTO = SHARED / "datasets/deepface" / "selfie-many-people.jpg"  # 600x604, 5 faces


def timed_ms(run, repeats: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def top_costs(profile: cProfile.Profile, key: str, count: int) -> str:
    """The ``count`` costliest functions by ``key`` ("tottime" or "cumulative") as file:line(function)."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(key).print_stats(count)
    root = str(PROJECT_ROOT) + "/"
    return out.getvalue().replace(root, "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.profile_request", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=PHOTO)
    parser.add_argument("--slugs", default=DEFAULT_SLUGS, help=f"face_plugins (default {DEFAULT_SLUGS})")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--batch", type=int, default=8, help="faces per calculator batch (default 8)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from facecore.app import build_pipeline
    from facecore.config import load_settings
    from facecore.plugin_api import Face

    started = time.perf_counter()
    pipeline = build_pipeline(load_settings())
    startup_s = time.perf_counter() - started
    image = read_rgb(args.image)
    slugs = args.slugs.split(",")

    def request() -> int:
        return len(pipeline.find_faces(image, threshold=None, limit=0, slugs=slugs).faces)

    faces = request()
    latencies = timed_ms(request, args.repeats)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.repeats):
        request()
    profile.disable()

    detections = pipeline.detect(image, pipeline.default_threshold)
    batch = [detections[i % len(detections)] for i in range(args.batch)]
    calculator = pipeline.calculator
    calc_ms = timed_ms(lambda: calculator.analyze([Face(image, d) for d in batch]), args.repeats)

    report = [f"{args.image.name} {image.shape[1]}x{image.shape[0]}, {faces} faces, plugins {args.slugs}",
              f"in-process start-up (load + warm-up): {startup_s:.1f} s",
              f"request latency over {args.repeats}: p50 {statistics.median(latencies):.0f} ms, "
              f"min {min(latencies):.0f} ms, max {max(latencies):.0f} ms",
              f"{calculator} batch of {args.batch} (crops included): "
              f"{statistics.median(calc_ms) / args.batch:.1f} ms per face (median), "
              f"{min(calc_ms) / args.batch:.1f} ms best",
              "", f"top {args.top} by own time (tottime), {args.repeats} requests:",
              top_costs(profile, "tottime", args.top),
              f"top {args.top} by cumulative time:", top_costs(profile, "cumulative", args.top)]
    sys.stdout.write("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
