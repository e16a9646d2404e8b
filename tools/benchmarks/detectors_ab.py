"""A default-plugins request with one detector against another, in-process and interleaved.

    python -m tools.benchmarks.detectors_ab [--detectors libfacedetection.FaceDetector facenet.FaceDetector]
        [--image PHOTO] [--rounds 30]

Both pipelines (every default face plugin; only the detector differs) are built and warmed as the service does
it; each round runs ``find_faces`` once with each, in turn, on the same photo (default: selfie-many-people.jpg,
600x604, 5 faces), so a loaded machine slows both alike. Prints each pipeline's median and p90 latency and faces
found, and the speed-up of the first over the others as the median per-round ratio with its range, in wall and
in CPU time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from tools.benchmarks import SHARED
from tools.benchmarks.stats import percentile
from tools.common.images import read_rgb
from tools.common.service import ALL_SLUGS, build, quiet_logs

PHOTO = SHARED / "datasets" / "deepface" / "selfie-many-people.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.detectors_ab", description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", nargs="+", default=["libfacedetection.FaceDetector", "facenet.FaceDetector"])
    parser.add_argument("--image", default=str(PHOTO))
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    quiet_logs()
    from facecore.config import load_settings

    image = read_rgb(args.image)
    pipelines = [build(load_settings().with_overrides(detector=name)) for name in args.detectors]
    wall: list[list[float]] = [[] for _ in pipelines]
    cpu: list[list[float]] = [[] for _ in pipelines]
    faces = [0] * len(pipelines)
    for _ in range(args.rounds):
        for index, pipeline in enumerate(pipelines):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = pipeline.find_faces(image, threshold=None, limit=0, slugs=ALL_SLUGS)
            wall[index].append((time.perf_counter() - started) * 1000.0)
            cpu[index].append((time.process_time() - started_cpu) * 1000.0)
            faces[index] = len(result.faces)
    print("| detector | faces | median ms | p90 ms | median CPU ms | first's speed-up, wall (range) | CPU (range) |")
    print("|---|---|---|---|---|---|---|")
    for index, name in enumerate(args.detectors):
        ratios = [other / first for first, other in zip(wall[0], wall[index])]
        cpu_ratios = [other / first for first, other in zip(cpu[0], cpu[index])]
        print(f"| `{name}` | {faces[index]} | {statistics.median(wall[index]):.0f} | "
              f"{percentile(wall[index], 90):.0f} | {statistics.median(cpu[index]):.0f} | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{statistics.median(cpu_ratios):.2f}x ({min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
