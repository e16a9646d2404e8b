"""Detector post-processing shared by every decoder: candidates, non-maximum suppression, results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.plugin_api import BoundingBox, DetectedFace

NMS_IOU = 0.4  # CompreFace's RetinaFace value; also SCRFD's and YuNet's usual setting
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
            marks = np.concatenate([p.landmarks for p in parts])  # type: ignore[misc]
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


def iou_one_to_many(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one x1y1x2y2 box with each row of ``others``."""
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU, top_k: int = PRE_NMS_TOP_K) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    order = np.argsort(-scores, kind="stable")[:top_k]
    keep: list[int] = []
    while order.size:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou]
    return np.asarray(keep, dtype=np.int64)


def order_landmarks(marks: np.ndarray) -> np.ndarray:
    """Contract order: within the eye pair and the mouth pair, the point with the smaller x comes first."""
    marks = np.array(marks, dtype=np.float64)
    for a, b in ((0, 1), (3, 4)):
        if marks[a, 0] > marks[b, 0]:
            marks[[a, b]] = marks[[b, a]]
    return marks


def to_faces(found: Candidates, threshold: float, width: int, height: int, iou: float = NMS_IOU) -> list[DetectedFace]:
    """Threshold, suppress and convert to the contract's :class:`DetectedFace` (boxes clipped to the image)."""
    found = found.above(threshold)
    if not len(found.scores):
        return []
    found = found.select(nms(found.boxes, found.scores, iou))
    faces = []
    for i, (x1, y1, x2, y2) in enumerate(found.boxes):
        box = BoundingBox(float(x1), float(y1), float(x2), float(y2)).clipped(width, height)
        if box.area <= 0:
            continue
        marks = None if found.landmarks is None else order_landmarks(found.landmarks[i])
        faces.append(DetectedFace(box, float(min(max(found.scores[i], 0.0), 1.0)), marks))
    return faces
