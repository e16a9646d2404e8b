"""Precision, recall, speed and the error images of one or more detectors on an annotated set.

    python -m tools.benchmark_detection --detectors facenet.FaceDetector dlib.FaceDetector@hog
    python -m tools.benchmark_detection --annotations wider_face_val_bbx_gt.txt --images-root WIDER_val/images
    python -m tools.benchmark_detection --annotations FDDB-fold-01-ellipseList.txt --images-root originalPics
    python -m tools.benchmark_detection --annotations sample_images/annotations.json

Annotations: dlib/imglab XML, WIDER FACE ``*_bbx_gt.txt``, FDDB ``*ellipseList.txt``, nose points (json/csv);
default: ../shared/datasets/dlib-faces (training.xml + testing.xml + dogs.jpg as a no-face image). A box matches
at IoU >= 0.4, a nose point when it lies inside a detected box. Detection runs through the service's Pipeline
(the same downscale to IMG_LENGTH_LIMIT and threshold). Images with errors are drawn (yellow = truth,
green = found, red = extra) under ``--out``. Exit code 0 when every detector ran, 1 otherwise.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from facecore.errors import StartupError
from facecore.pipeline import Pipeline
from facecore.plugin_api import DetectedFace
from tools.common.annotations import Truth, detection_boxes, score_image
from tools.common.drawing import GREEN, RED, draw_faces, save_rgb
from tools.common.images import read_rgb
from tools.common.progress import progress
from tools.common.service import build_detector_only, parse_tool_args, settings_from_args, tool_parser
from tools.common.truth_set import add_truth_args, truths_from_args

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tools" / "tmp" / "benchmark_detection"


@dataclass
class DetectionScore:
    """Totals over a set for one detector configuration."""

    name: str
    images: int = 0
    faces: int = 0
    found: int = 0
    matched: int = 0
    missed: int = 0
    extra: int = 0
    milliseconds: float = 0.0
    error_images: list[Path] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.faces if self.faces else 1.0

    @property
    def errors(self) -> int:
        return self.missed + self.extra

    @property
    def ms_per_image(self) -> float:
        return self.milliseconds / self.images if self.images else 0.0


def face_dicts(faces: list[DetectedFace]) -> list[dict]:
    return [{"box": {"x_min": int(f.box.x_min), "y_min": int(f.box.y_min), "x_max": int(f.box.x_max),
                     "y_max": int(f.box.y_max), "probability": f.probability}} for f in faces]


def evaluate(pipeline: Pipeline, truths: dict[Path, Truth], threshold: float | None = None, name: str = "",
             out: Path | None = None, desc: str = "detect") -> DetectionScore:
    """Run ``pipeline.detect`` over the set and count; draw the images with errors into ``out``."""
    threshold = pipeline.default_threshold if threshold is None else threshold
    score = DetectionScore(name or str(pipeline.detector))
    for path, truth in progress(truths.items(), desc, total=len(truths)):
        image = read_rgb(path)
        started = time.perf_counter()
        faces = pipeline.detect(image, threshold)
        score.milliseconds += (time.perf_counter() - started) * 1000.0
        found = face_dicts(faces)
        result = score_image(truth, detection_boxes(faces))
        score.images += 1
        score.faces += result.faces
        score.found += len(faces)
        score.matched += result.matched
        score.missed += len(result.missed)
        score.extra += len(result.extra)
        if result.errors and out is not None:
            colors = [RED if i in result.extra else GREEN for i in range(len(found))]
            drawn = draw_faces(image, found, [f"{f['box']['probability']:.2f}" for f in found], colors,
                               truth_points=truth.noses, truth_boxes=truth.boxes)
            score.error_images.append(save_rgb(out / f"{path.stem}.jpg", drawn))
    return score


def table(scores: list[DetectionScore]) -> str:
    lines = ["| detector | images | faces | found | precision | recall | missed | false | ms/image |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.name} | {s.images} | {s.faces} | {s.found} | {s.precision:.3f} | {s.recall:.3f} | "
                     f"{s.missed} | {s.extra} | {s.ms_per_image:.1f} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.benchmark_detection", __doc__)
    parser.add_argument("--detectors", nargs="+", default=None, help="detector@model names (default: configured)")
    add_truth_args(parser)
    parser.add_argument("--limit", type=int, default=0, help="only the first N images (0 = all)")
    parser.add_argument("--threshold", type=float, help="detection threshold (default: DET_PROB_THRESHOLD/plugin's)")
    parser.add_argument("--img-length-limit", type=int, help="IMG_LENGTH_LIMIT (default: the environment's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="error images go here (%(default)s)")
    parser.add_argument("--verbose", action="store_true")
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        truths = truths_from_args(args, args.limit)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    base = settings_from_args(args)
    scores, failed = [], 0
    for name in args.detectors or [base.detector]:
        try:
            pipeline = build_detector_only(base.with_overrides(detector=name))
            folder = args.out / name.replace("@", "_")
            scores.append(evaluate(pipeline, truths, args.threshold, name, folder, desc=name))
        except (StartupError, OSError, ValueError) as error:
            failed += 1
            print(f"FAIL {name}: {error}", file=sys.stderr)
    print(table(scores))
    for s in scores:
        if s.error_images:
            print(f"{s.name}: {len(s.error_images)} image(s) with errors in {s.error_images[0].parent}")
    return 1 if failed or not scores else 0


if __name__ == "__main__":
    sys.exit(main())
