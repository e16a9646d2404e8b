"""YuNet rebuilt from libfacedetection's weights on ONNX Runtime gives the library's own faces.

The library is the oracle: the same detector is loaded twice, once on the rebuilt graph (the default) and once
on ``yuface.detect`` (``@<model>_library``), and both see the same photos as the pipeline hands them over
(shrunk to 640 px). The library truncates what it returns to integers (score in percent, x, y, w, h, landmark
coordinates), so the bounds below are that truncation: scores within 0.01, corners within 1 px (2 px for the
far corner, x + w with both truncated) and landmarks within 1 px, all in the detection's own pixels (1.25x the
photo's for ``yunet_upscaled``), and every face of the library found, none added.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from facecore.device import Device
from facecore.model_store import ModelStore
from facecore.pipeline import load_plugin
from facecore.plugin_api import BoundingBox
from plugins.libfacedetection.detector import LIBRARY_MODELS, SCORE_FLOOR, YUNET, YUNET_UPSCALED, FaceDetector
from tests.plugins.insightface.helpers import read_rgb
from tests.shared_data import shared_path

WIDER_PHOTOS = 20
NEAR_FLOOR = SCORE_FLOOR + 0.01  # a face this close to the floor may fall on either side of it
MATCH_IOU = 0.3  # pairs the two detectors' faces; 5 px faces lose much of their IoU to the truncation


def load(tmp_path: Path, model) -> FaceDetector:
    detector = FaceDetector(model)
    load_plugin(detector, ModelStore(tmp_path, offline=True), Device(threads=1))
    return detector


@dataclass
class Agreement:
    """How the graph's faces compare with the library's over the photos seen, in the library's integer form."""

    photos: int = 0
    faces: int = 0
    identical: int = 0  # faces whose truncated score, box and landmarks all equal the library's
    largest_difference: float = 0.0  # in those integers (percent, pixels of the detection)
    score: float = 0.0
    smallest_iou_32px: float = 1.0  # of the boxes in that form, faces >= 32 px high
    unmatched: list[str] = field(default_factory=list)


def iou(a, b) -> float:
    width = max(0.0, min(a.x_max, b.x_max) - max(a.x_min, b.x_min))
    height = max(0.0, min(a.y_max, b.y_max) - max(a.y_min, b.y_min))
    inter = width * height
    return inter / (a.area + b.area - inter)


def as_library_row(face, scale: float) -> np.ndarray:
    """What the library would return for ``face``: percent score, x, y, w, h and the 5 landmarks in the
    detection's pixels, truncated toward zero as its C code does."""
    box = face.box
    x, y = box.x_min * scale, box.y_min * scale
    values = [face.probability * 100, x, y, box.x_max * scale - x, box.y_max * scale - y]
    return np.trunc(np.concatenate([values, np.ravel(face.landmarks) * scale]) + 1e-4)


def row_difference(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference between two such rows. Within the eye pair and the mouth pair the points are
    compared in whichever order matches better: which of two points has the smaller x (the contract's order)
    can change when their x differ by under a pixel."""
    head = np.abs(a[:5] - b[:5]).max()
    marks_a, marks_b = a[5:].reshape(5, 2), b[5:].reshape(5, 2)
    pairs = []
    for pair in ((0, 1), (3, 4)):
        same = np.abs(marks_a[list(pair)] - marks_b[list(pair)]).max()
        swapped = np.abs(marks_a[list(pair)] - marks_b[list(pair[::-1])]).max()
        pairs.append(min(same, swapped))
    return float(max(head, np.abs(marks_a[2] - marks_b[2]).max(), *pairs))


def compare(graph: FaceDetector, library: FaceDetector, photos: list[Path]) -> Agreement:
    """Detect on each photo (shrunk to 640 px) with both, at threshold 0: everything above the library's floor."""
    from facecore.imaging import downscale

    result = Agreement()
    for photo in photos:
        image, _ = downscale(read_rgb(photo), 640)
        ours, theirs = graph.detect(image, 0.0), library.detect(image, 0.0)
        result.photos += 1
        taken: set[int] = set()
        rows = [as_library_row(face, graph.scale) for face in ours]
        for face in theirs:
            row = as_library_row(face, graph.scale)
            free = [i for i in range(len(ours)) if i not in taken and iou(face.box, ours[i].box) >= MATCH_IOU]
            if not free:
                if face.probability >= NEAR_FLOOR:
                    result.unmatched.append(f"{photo.name}: library face {face} has no match")
                continue
            best = min(free, key=lambda i: row_difference(rows[i], row))  # overlapping faces: the closest
            taken.add(best)
            difference = row_difference(rows[best], row)
            result.faces += 1
            result.identical += int(difference == 0)
            result.largest_difference = max(result.largest_difference, float(difference))
            result.score = max(result.score, abs(ours[best].probability - face.probability))
            if face.box.height >= 32:
                boxes = [BoundingBox(x, y, x + w, y + h) for x, y, w, h in (r[1:5] for r in (rows[best], row))]
                result.smallest_iou_32px = min(result.smallest_iou_32px, iou(*boxes))
        extra = [ours[i] for i in range(len(ours)) if i not in taken and ours[i].probability >= NEAR_FLOOR]
        result.unmatched += [f"{photo.name}: graph face {face} is not the library's" for face in extra]
    return result


def photos() -> list[Path]:
    deepface = sorted(shared_path("datasets/deepface").glob("*.jpg"))
    wider = sorted(shared_path("datasets/wider-val-dev/images").glob("*/*.jpg"))[:WIDER_PHOTOS]
    return deepface + wider


@pytest.mark.integration
@pytest.mark.parametrize("model", [YUNET_UPSCALED, YUNET], ids=lambda m: m.name)
def test_the_graph_finds_the_library_faces(tmp_path, model):
    graph = load(tmp_path, model)
    assert graph.session is not None, "the default path is the rebuilt graph"
    library = load(tmp_path, next(m for m in LIBRARY_MODELS if m.name == f"{model.name}_library"))
    assert library.session is None
    found = compare(graph, library, photos())
    assert found.faces > 700, found  # 64 portraits and 20 crowds (773 faces with yunet_upscaled)
    assert not found.unmatched, found.unmatched[:5]
    assert found.identical >= 0.97 * found.faces, found  # measured 98.4 % on all 226 photos
    assert found.largest_difference <= 1, found
    assert found.score <= 0.0101, found
    assert found.smallest_iou_32px >= 0.94, found  # one pixel of w and h on a 32 px box
