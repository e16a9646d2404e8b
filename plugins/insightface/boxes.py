"""Detector post-processing shared by every decoder: candidates, then suppression and the contract's
landmark order (:mod:`facecore.boxes`), then results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecore.boxes import DEFAULT_IOU, nms, order_landmarks
from facecore.plugin_api import BoundingBox, DetectedFace, as_points

PRE_NMS_TOP_K = 5000


@dataclass
class Candidates:
    """Decoded detections before suppression: boxes (N, 4) x1 y1 x2 y2, scores (N,), landmarks (N, 5, 2)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None

    @classmethod
    def empty(cls, with_landmarks: bool = True) -> "Candidates":
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)) if with_landmarks else None)

    @classmethod
    def concat(cls, parts: list["Candidates"]) -> "Candidates":
        if not parts:
            return cls.empty()
        marks = None
        if all(p.landmarks is not None for p in parts):
            marks = np.concatenate([p.landmarks for p in parts])
        return cls(np.concatenate([p.boxes for p in parts]), np.concatenate([p.scores for p in parts]), marks)

    def select(self, index: np.ndarray) -> "Candidates":
        marks = None if self.landmarks is None else self.landmarks[index]
        return Candidates(self.boxes[index], self.scores[index], marks)

    def above(self, threshold: float) -> "Candidates":
        """Keep scores strictly above ``threshold`` (the contract's ``probability > det_prob_threshold``)."""
        return self.select(np.flatnonzero(self.scores > threshold))

    def scaled(self, factor: float) -> "Candidates":
        marks = None if self.landmarks is None else self.landmarks * factor
        return Candidates(self.boxes * factor, self.scores, marks)


def to_faces(found: Candidates, threshold: float, width: int, height: int,
             iou: float = DEFAULT_IOU) -> list[DetectedFace]:
    """Threshold, suppress and convert to the contract's :class:`DetectedFace` (boxes clipped to the image)."""
    found = found.above(threshold)
    if not len(found.scores):
        return []
    found = found.select(nms(found.boxes, found.scores, iou, top_k=PRE_NMS_TOP_K))
    ordered = None if found.landmarks is None else order_landmarks(found.landmarks)
    faces = []
    for i, (x1, y1, x2, y2) in enumerate(found.boxes):
        box = BoundingBox(float(x1), float(y1), float(x2), float(y2)).clipped(width, height)
        if box.area <= 0:
            continue
        marks = None if ordered is None else as_points(ordered[i])
        faces.append(DetectedFace(box, float(min(max(found.scores[i], 0.0), 1.0)), marks))
    return faces
