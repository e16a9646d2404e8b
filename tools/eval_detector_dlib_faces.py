"""Recall, false detections and speed of a face detector (default ``facenet.FaceDetector``) on dlib's example faces.

``python -m tools.eval_detector_dlib_faces [--detector name@model] [--threshold T] [--repeats N]``

The set (``../shared/datasets/dlib-faces``): 9 PASCAL VOC photos with 43 hand-drawn boxes in dlib imglab
XML (``training.xml``, ``testing.xml``) and ``dogs.jpg`` with no human face. A detection matches a
labelled box at IoU >= 0.4 (each box and detection match at most once, best IoU first); an unmatched
detection is a false detection.
"""
from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facecore.plugin_api import DetectedFace
from tools.common.annotations import MATCH_IOU, detection_boxes, greedy_pairs, iou_matrix, read_imglab
from tools.common.images import read_rgb
from tools.common.truth_set import DLIB_FACES

if TYPE_CHECKING:  # pragma: no cover
    from facecore.pipeline import Pipeline

DEFAULT_DATASET = DLIB_FACES
NO_FACE_IMAGES = ("dogs.jpg",)


@dataclass(frozen=True)
class Score:
    faces: int
    matched: int
    false_detections: int
    images: int
    ms_per_image: float
    mean_iou: float
    cpu_ms_per_image: float = 0.0  # CPU time of this process: with ONNX_THREADS=1, wall time minus waiting

    @property
    def recall(self) -> float:
        return self.matched / self.faces if self.faces else 0.0


def read_boxes(folder: Path) -> dict[str, np.ndarray]:
    """``{file name: (N, 4) x1, y1, x2, y2}`` from the imglab XML files, plus the no-face images.

    Every labelled box counts as a face here (ignored ones too); an image named in both files gets both's boxes.
    """
    labelled = {name: _no_boxes() for name in NO_FACE_IMAGES if (folder / name).exists()}
    for xml_file in ("training.xml", "testing.xml"):
        for path, truth in read_imglab(folder / xml_file).items():
            name = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)
            labelled[name] = np.vstack([labelled.get(name, _no_boxes()), truth.boxes, truth.ignore])
    return labelled


def _no_boxes() -> np.ndarray:
    return np.zeros((0, 4), dtype=np.float64)


def match(truth: np.ndarray, found: np.ndarray) -> list[float]:
    """IoUs of the one-to-one matches (greedy, best IoU first) that reach MATCH_IOU."""
    if not len(truth) or not len(found):
        return []
    ious = iou_matrix(truth, found)
    return [float(ious[row, col]) for row, col in greedy_pairs(ious, MATCH_IOU)]


def evaluate(detect, folder: Path = DEFAULT_DATASET, repeats: int = 1) -> Score:
    """Score ``detect(image) -> list[DetectedFace]`` on the set; time is the mean over ``repeats`` passes."""
    labelled = read_boxes(folder)
    images = {name: read_rgb(folder / name) for name in labelled}
    faces = matched = false = 0
    ious: list[float] = []
    elapsed = cpu = 0.0
    for name, truth in labelled.items():
        found: list[DetectedFace] = []
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            found = detect(images[name])
            elapsed += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
        hits = match(truth, detection_boxes(found))
        faces += len(truth)
        matched += len(hits)
        false += len(found) - len(hits)
        ious += hits
    per_image = 1000.0 / (repeats * len(labelled))
    return Score(faces, matched, false, len(labelled), elapsed * per_image, float(np.mean(ious)) if ious else 0.0,
                 cpu * per_image)


def make_detector(selection: str) -> "Pipeline":
    """The service's pipeline for ``selection`` (``name@model``) with only its detector loaded, built by the
    service's own builder; images are scored at their native size (``IMG_LENGTH_LIMIT=0``)."""
    from facecore.config import load_settings
    from tools.common.service import build_detector_only

    return build_detector_only(load_settings().with_overrides(detector=selection, img_length_limit=0, warm_up=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--detector", default="facenet.FaceDetector@mtcnn",
                        help="a selection as FACE_DETECTION_PLUGIN takes, e.g. facenet.FaceDetector@mtcnn_compreface")
    parser.add_argument("--threshold", type=float, help="default: the detector's own")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    pipeline = make_detector(args.detector)
    threshold = pipeline.default_threshold if args.threshold is None else args.threshold
    pipeline.detect(np.zeros((64, 64, 3), np.uint8), threshold)  # warm-up
    score = evaluate(lambda image: pipeline.detect(image, threshold), args.dataset, args.repeats)
    print(f"{args.detector} threshold={threshold}: "  # noqa: T201 (CLI output)
          f"recall {score.matched}/{score.faces} = {score.recall:.3f}, false detections {score.false_detections}, "
          f"mean IoU {score.mean_iou:.3f}, {score.ms_per_image:.1f} ms/image wall "
          f"({score.cpu_ms_per_image:.1f} ms CPU) over {score.images} images")


if __name__ == "__main__":
    main()
