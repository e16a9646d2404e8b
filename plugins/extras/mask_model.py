"""AIZOO's face-mask detector run on one face's neighbourhood, and its answer for that face.

The network (an SSD-style detector, input 260x260 RGB scaled x/255) finds faces and scores each Mask /
NoMask. We do not use it to find faces: for each detected face we cut a square around it (:data:`CONTEXT`
box sides wide, zero-padded at the image border), run the network, decode its 5972 anchors as the authors
do (SSD, variances 0.1/0.2) and take, among the decoded boxes that overlap the face (IoU >= :data:`MIN_IOU`),
the most confident one; its class is the answer. When none overlaps, the most confident box of the whole
crop answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore.plugin_api import BoundingBox

INPUT_SIDE = 260
FEATURE_MAPS = (33, 17, 9, 5, 3)
ANCHOR_SIZES = ((0.04, 0.056), (0.08, 0.11), (0.16, 0.22), (0.32, 0.45), (0.64, 0.72))
ANCHOR_RATIOS = (1.0, 0.62, 0.42)
VARIANCES = np.array([0.1, 0.1, 0.2, 0.2])
CLASSES = ("with_mask", "without_mask")  # the network's Mask, NoMask in CompreFace's words
#: Width of the square cut around the face, in box sides: the face fills about half of it, a size the
#: network's middle anchors (0.32..0.45 of the input) were trained on.
CONTEXT = 2.0
MIN_IOU = 0.3


def anchors() -> np.ndarray:
    """(5972, 4) anchors (x0, y0, x1, y1) in 0..1: per map, cells row by row, per cell the sizes at ratio 1
    then the first size at the other ratios, as the authors generate them."""
    boxes: list[list[float]] = []
    for side, sizes in zip(FEATURE_MAPS, ANCHOR_SIZES):
        shapes = [(s, s) for s in sizes] + [(sizes[0] * np.sqrt(r), sizes[0] / np.sqrt(r)) for r in ANCHOR_RATIOS[1:]]
        centres = (np.arange(side) + 0.5) / side
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        for y, x in zip(cy.ravel(), cx.ravel()):
            boxes.extend([x - w / 2, y - h / 2, x + w / 2, y + h / 2] for w, h in shapes)
    return np.array(boxes)


ANCHORS = anchors()


def decode(offsets: np.ndarray, priors: np.ndarray = ANCHORS) -> np.ndarray:
    """SSD decoding of (N, 4) offsets against ``priors`` -> (N, 4) boxes (x0, y0, x1, y1) in 0..1."""
    centre = (priors[:, :2] + priors[:, 2:]) / 2
    size = priors[:, 2:] - priors[:, :2]
    scaled = offsets * VARIANCES
    box_centre = scaled[:, :2] * size + centre
    box_size = np.exp(scaled[:, 2:]) * size
    return np.concatenate([box_centre - box_size / 2, box_centre + box_size / 2], axis=1)


def iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    low, high = np.maximum(boxes[:, :2], box[:2]), np.minimum(boxes[:, 2:], box[2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    return inter / np.maximum(areas + np.prod(box[2:] - box[:2]) - inter, 1e-12)


@dataclass(frozen=True)
class MaskAnswer:
    value: str
    probability: float


@dataclass(frozen=True)
class Neighbourhood:
    """The network's input for one face and where the face lies in it (0..1 coordinates)."""

    pixels: np.ndarray  # 260x260x3 float32, x/255
    face: np.ndarray  # (x0, y0, x1, y1)


def neighbourhood(image_rgb: np.ndarray, box: BoundingBox) -> Neighbourhood:
    """A square :data:`CONTEXT` box sides wide about the box centre, resized to 260x260 (black outside)."""
    import cv2

    side = max(box.width, box.height, 1.0) * CONTEXT
    scale = INPUT_SIDE / side
    cx, cy = (box.x_min + box.x_max) / 2, (box.y_min + box.y_max) / 2
    x0, y0 = cx - side / 2, cy - side / 2
    matrix = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    pixels = cv2.warpAffine(image_rgb, matrix, (INPUT_SIDE, INPUT_SIDE), flags=cv2.INTER_AREA
                            if scale < 1 else cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    face = np.array([box.x_min - x0, box.y_min - y0, box.x_max - x0, box.y_max - y0]) / side
    return Neighbourhood(pixels.astype(np.float32) / 255.0, face)


def answer(offsets: np.ndarray, scores: np.ndarray, face: np.ndarray) -> MaskAnswer:
    """The face's answer from one crop's (5972, 4) offsets and (5972, 2) class scores."""
    overlap = iou(decode(offsets), face) >= MIN_IOU
    candidates = np.flatnonzero(overlap) if overlap.any() else np.arange(len(scores))
    best = candidates[scores[candidates].max(axis=1).argmax()]
    label = int(scores[best].argmax())
    return MaskAnswer(CLASSES[label], float(scores[best, label]))


@dataclass
class MaskModel:
    """The converted AIZOO graph; ``predict`` runs it once over the neighbourhoods of all faces."""

    session: Any

    @classmethod
    def open(cls, onnx_path: Path, device: Any) -> "MaskModel":
        from facecore.onnx_session import open_session

        return cls(open_session(onnx_path, device))

    def outputs(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offsets, scores = self.session.run(None, {self.session.get_inputs()[0].name: blob})
        return np.asarray(offsets, dtype=np.float64), np.asarray(scores, dtype=np.float64)

    def predict(self, images: Sequence[np.ndarray], boxes: Sequence[BoundingBox]) -> list[MaskAnswer]:
        crops = [neighbourhood(image, box) for image, box in zip(images, boxes)]
        offsets, scores = self.outputs(np.stack([c.pixels for c in crops]))
        return [answer(o, s, c.face) for o, s, c in zip(offsets, scores, crops)]
