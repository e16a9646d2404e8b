"""Average precision (IoU 0.5) and speed of detectors on WIDER FACE photos, through the service's pipeline.

    python -m tools.benchmark_wider                                  # the built-in detectors
    python -m tools.benchmark_wider --detectors facenet.FaceDetector opencv.FaceDetector@yunet_2023mar
    python -m tools.benchmark_wider --dataset path/to/wider --img-length-limit 0

The set (default ``../shared/datasets/wider-val-dev``: 162 WIDER FACE val photos, 1,477 faces) is a
``label.txt`` (``# <event>/<file>.jpg`` then ``x y w h`` per face) beside an ``images/`` folder, or any file
``tools.benchmark_detection`` reads. Detection runs as the service runs it (``Pipeline.detect``: the photo
shrunk to IMG_LENGTH_LIMIT, boxes scaled back), at a low threshold so that the ranking covers the
precision-recall curve. Two APs: over all labelled faces, and over faces at least ``--min-height`` px high
in the original photo (smaller faces then neither count nor make a detection on them false). ms/image is
the wall time of ``Pipeline.detect`` (decoding excluded), mean over the set; CPU ms is this process's CPU
time, which a loaded machine inflates less. A detector that does not load is reported and skipped.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecore.errors import StartupError
from facecore.pipeline import Pipeline
from tools.common.annotations import Truth, detection_boxes, load_annotations
from tools.common.average_precision import RankedImage, average_precision, rank_image
from tools.common.images import read_rgb
from tools.common.progress import progress
from tools.common.service import build_detector_only, parse_tool_args, settings_from_args, tool_parser
from tools.common.truth_set import SHARED_DATASETS

DEFAULT_DATASET = SHARED_DATASETS / "wider-val-dev"
DEFAULT_DETECTORS = ("libfacedetection.FaceDetector", "libfacedetection.FaceDetector@yunet", "facenet.FaceDetector",
                     "facenet.FaceDetector@mtcnn_compreface", "dlib.FaceDetector@hog",
                     "opencv.FaceDetector@yunet_2023mar")
MIN_HEIGHT = 32
FLOOR_THRESHOLD = 0.05


@dataclass(frozen=True)
class WiderScore:
    """One detector's APs (0..100) and time per image."""

    name: str
    images: int
    faces: int
    large_faces: int
    ap_all: float
    ap_large: float
    ms_per_image: float
    cpu_ms_per_image: float


def read_set(dataset: Path) -> dict[Path, Truth]:
    """``label.txt`` in ``dataset`` (or ``dataset`` itself when it is a file), sorted by image path."""
    labels = dataset / "label.txt" if dataset.is_dir() else dataset
    return dict(sorted(load_annotations(labels).items()))


def score(pipeline: Pipeline, truths: dict[Path, Truth], name: str, threshold: float = FLOOR_THRESHOLD,
          min_height: int = MIN_HEIGHT) -> WiderScore:
    """Run ``pipeline.detect`` on every photo and compute both APs."""
    every, large = [], []
    wall = cpu = 0.0
    for path, truth in progress(truths.items(), name, total=len(truths)):
        image = read_rgb(path)
        started, started_cpu = time.perf_counter(), time.process_time()
        faces = pipeline.detect(image, threshold)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        boxes, scores = detection_boxes(faces), np.array([f.probability for f in faces], dtype=np.float64)
        every.append(rank_image(truth.boxes, np.ones(len(truth.boxes), dtype=bool), boxes, scores))
        heights = truth.boxes[:, 3] - truth.boxes[:, 1]
        large.append(rank_image(truth.boxes, heights >= min_height, boxes, scores))
    count = max(len(truths), 1)
    return WiderScore(name, len(truths), _positives(every), _positives(large), 100.0 * average_precision(every),
                      100.0 * average_precision(large), 1000.0 * wall / count, 1000.0 * cpu / count)


def _positives(images: list[RankedImage]) -> int:
    return sum(image.positives for image in images)


def table(scores: list[WiderScore], min_height: int = MIN_HEIGHT) -> str:
    lines = [f"| detector | AP all faces | AP faces >= {min_height} px | ms/image | CPU ms/image |",
             "|---|---|---|---|---|"]
    lines += [f"| `{s.name}` | {s.ap_all:.1f} | {s.ap_large:.1f} | {s.ms_per_image:.0f} | {s.cpu_ms_per_image:.0f} |"
              for s in scores]
    if scores:
        lines.append(f"\n{scores[0].images} photos, {scores[0].faces} faces, {scores[0].large_faces} of them "
                     f">= {min_height} px high.")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.benchmark_wider", __doc__)
    parser.add_argument("--detectors", nargs="+", default=list(DEFAULT_DETECTORS), help="detector@model names")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="folder with label.txt (%(default)s)")
    parser.add_argument("--threshold", type=float, default=FLOOR_THRESHOLD, help="lowest score kept (%(default)s)")
    parser.add_argument("--min-height", type=int, default=MIN_HEIGHT, help="faces counted by the 2nd AP (px)")
    parser.add_argument("--img-length-limit", type=int, help="IMG_LENGTH_LIMIT (default: the environment's)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos (0 = all)")
    parser.add_argument("--verbose", action="store_true")
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        truths = read_set(args.dataset)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.limit:
        truths = dict(list(truths.items())[:args.limit])
    base = settings_from_args(args)
    scores, failed = [], 0
    for name in args.detectors:
        try:
            pipeline = build_detector_only(base.with_overrides(detector=name))
            pipeline.detect(read_rgb(next(iter(truths))), args.threshold)  # warm-up
            scores.append(score(pipeline, truths, name, args.threshold, args.min_height))
        except (StartupError, OSError, ValueError) as error:
            failed += 1
            print(f"FAIL {name}: {error}", file=sys.stderr)
    print(table(scores, args.min_height))
    return 1 if failed or not scores else 0


if __name__ == "__main__":
    sys.exit(main())
