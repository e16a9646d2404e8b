"""Search detection parameters that minimise errors (missed + false faces) on an annotated set.

    python -m tools.optimize_detection_params                       # the configured detector, dlib-faces
    python -m tools.optimize_detection_params --detector dlib.FaceDetector --models \\
        --thresholds 0.3 0.5 0.7 --limits 480 640 0 --env-file detection.env
    docker run --env-file detection.env ...   or   set -a; . ./detection.env; set +a

Searched: DET_PROB_THRESHOLD (``--thresholds``), IMG_LENGTH_LIMIT (``--limits``) and, with ``--models``, the
detector's models (FACE_DETECTION_PLUGIN=detector@model, e.g. MTCNN with or without CompreFace's margins).
Each (model, limit) is detected once at the lowest threshold and every higher threshold is scored by
filtering, which is exact because a detector keeps the faces with probability > threshold. Ties go to the
faster setting, then to the median of the tied thresholds.
Prints the ranking and writes the best as an env file the service reads.
Exit code 0 when the best was written, 1 otherwise.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecore.config import Settings
from facecore.errors import StartupError
from tools.common.annotations import Truth, detection_boxes, score_image
from tools.common.images import read_rgb
from tools.common.progress import progress
from tools.common.service import build_detector_only, parse_tool_args, settings_from_args, tool_parser
from tools.common.truth_set import add_truth_args, default_annotations, truths_from_args

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ENV = ROOT / "tools" / "tmp" / "detection.env"
DEFAULT_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)
DEFAULT_LIMITS = (320, 480, 640, 800, 1024, 0)


@dataclass(frozen=True)
class Trial:
    detector: str
    threshold: float
    img_length_limit: int
    missed: int
    extra: int
    ms_per_image: float

    @property
    def errors(self) -> int:
        return self.missed + self.extra


Found = list[tuple[Truth, np.ndarray, np.ndarray]]


def detect_all(detector: str, limit: int, floor: float, truths: dict[Path, Truth],
               base: Settings) -> tuple[Found, float]:
    """``[(truth, boxes (K, 4), probabilities (K,))]`` per image at threshold ``floor``, and the ms per image."""
    pipeline = build_detector_only(base.with_overrides(detector=detector, img_length_limit=limit))
    found, elapsed = [], 0.0
    for path, truth in progress(truths.items(), f"{detector} limit={limit}", total=len(truths)):
        image = read_rgb(path)
        started = time.perf_counter()
        faces = pipeline.detect(image, floor)
        elapsed += time.perf_counter() - started
        found.append((truth, detection_boxes(faces), np.array([f.probability for f in faces], dtype=np.float64)))
    return found, elapsed * 1000.0 / max(len(truths), 1)


def score_thresholds(detector: str, limit: int, found: Found, ms: float, thresholds: list[float]) -> list[Trial]:
    """One trial per threshold, scoring only the faces above it: exact, since a detector keeps those > threshold."""
    trials = []
    for threshold in thresholds:
        missed = extra = 0
        for truth, boxes, probabilities in found:
            result = score_image(truth, boxes[probabilities > threshold])
            missed += len(result.missed)
            extra += len(result.extra)
        trials.append(Trial(detector, threshold, limit, missed, extra, ms))
    return trials


def detector_names(detector: str, all_models: bool) -> list[str]:
    if not all_models:
        return [detector]
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    cls = PluginRegistry.from_manager(build_plugin_manager()).classes.get(detector.partition("@")[0])
    if cls is None:
        raise StartupError(f"unknown detector {detector!r}")
    return [f"{detector.partition('@')[0]}@{m.name}" for m in cls.models] or [detector]


def middle_of_ties(ranked: list[Trial]) -> Trial:
    """Among the best-ranked trials of the same detector and limit with equal errors, the median threshold:
    the setting farthest from where the errors start to grow."""
    first = ranked[0]
    tied = sorted((t for t in ranked if (t.errors, t.detector, t.img_length_limit) ==
                   (first.errors, first.detector, first.img_length_limit)), key=lambda t: t.threshold)
    return tied[(len(tied) - 1) // 2]


def env_text(best: Trial, source: str) -> str:
    return (f"# written by python -m tools.optimize_detection_params on {source}\n"
            f"# errors {best.errors} (missed {best.missed}, false {best.extra}), {best.ms_per_image:.1f} ms/image\n"
            f"FACE_DETECTION_PLUGIN={best.detector}\n"
            f"DET_PROB_THRESHOLD={best.threshold:g}\n"
            f"IMG_LENGTH_LIMIT={best.img_length_limit}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.optimize_detection_params", __doc__)
    parser.add_argument("--detector", help="detector[@model] (default: FACE_DETECTION_PLUGIN)")
    parser.add_argument("--models", action="store_true", help="also search every model of the detector")
    parser.add_argument("--thresholds", nargs="+", type=float, default=list(DEFAULT_THRESHOLDS))
    parser.add_argument("--limits", nargs="+", type=int, default=list(DEFAULT_LIMITS), help="IMG_LENGTH_LIMIT values")
    add_truth_args(parser)
    parser.add_argument("--limit-images", type=int, default=0, help="only the first N images (0 = all)")
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV, help="where to write the best (%(default)s)")
    parser.add_argument("--top", type=int, default=10, help="rows of the ranking to print")
    parser.add_argument("--verbose", action="store_true")
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        truths = truths_from_args(args, args.limit_images)
        base = settings_from_args(args)
        thresholds = sorted(set(args.thresholds))
        trials: list[Trial] = []
        for detector in detector_names(args.detector or base.detector, args.models):
            for limit in args.limits:
                found, ms = detect_all(detector, limit, thresholds[0], truths, base)
                trials += score_thresholds(detector, limit, found, ms, thresholds)
    except (StartupError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not trials:
        print("error: nothing was tried", file=sys.stderr)
        return 1
    trials.sort(key=lambda t: (t.errors, t.ms_per_image, -t.threshold))
    print("| rank | detector | DET_PROB_THRESHOLD | IMG_LENGTH_LIMIT | missed | false | errors | ms/image |")
    print("|---|---|---|---|---|---|---|---|")
    for rank, t in enumerate(trials[:args.top], 1):
        print(f"| {rank} | {t.detector} | {t.threshold:g} | {t.img_length_limit} | {t.missed} | {t.extra} | "
              f"{t.errors} | {t.ms_per_image:.1f} |")
    best = middle_of_ties(trials)
    args.env_file.parent.mkdir(parents=True, exist_ok=True)
    args.env_file.write_text(env_text(best, ", ".join(str(p) for p in args.annotations or default_annotations())))
    print(f"best: {best.detector} DET_PROB_THRESHOLD={best.threshold:g} IMG_LENGTH_LIMIT={best.img_length_limit} "
          f"({best.errors} errors) -> {args.env_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
