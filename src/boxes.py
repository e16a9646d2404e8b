"""Detector post-processing every plugin family needs: non-maximum suppression and the contract's
landmark order. One implementation, so detectors of different families suppress alike.

Boxes are (N, 4) float arrays ``x1, y1, x2, y2`` in continuous pixel coordinates (width ``x2 - x1``).
"""
from __future__ import annotations

import numpy as np

#: The usual IoU of face detectors (CompreFace's RetinaFace, SCRFD, YuNet).
DEFAULT_IOU = 0.4


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = DEFAULT_IOU, mode: str = "union",
        top_k: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression: indices of kept boxes, best score first.

    The loop runs once per *kept* box; each pass drops every remaining box that overlaps the kept one by
    more than ``threshold``: intersection over union (``mode="union"``), or over the smaller of the two
    areas (``"min"``, which also removes a small box nested in a big one). ``top_k`` bounds the candidates
    considered (the best-scoring ones), so a flood of low scores cannot make the loop quadratic. Corners and
    areas are taken out once, in score order, so a pass is a handful of numpy calls on the survivors (MTCNN's
    P-Net keeps hundreds per image).
    """
    order = np.argsort(-scores, kind="stable")[:top_k]
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[order, k], dtype=np.float64) for k in range(4))
    areas = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    alive = np.arange(order.size)
    keep: list[int] = []
    while alive.size:
        best, rest = alive[0], alive[1:]
        keep.append(int(order[best]))
        inter = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0.0)
        inter *= np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0.0)
        other = areas[rest]
        denominator = np.minimum(areas[best], other) if mode == "min" else areas[best] + other - inter
        alive = rest[inter <= threshold * np.maximum(denominator, 1e-12)]
    return np.asarray(keep, dtype=np.int64)


def order_landmarks(marks: np.ndarray) -> np.ndarray:
    """A copy of (..., 5, 2) landmarks in the contract's order: within the eye pair and within the mouth
    pair, the point with the smaller x comes first (detectors disagree on whose left is "left")."""
    marks = np.array(marks, dtype=np.float64)
    for first, second in ((0, 1), (3, 4)):
        a, b = marks[..., first, :], marks[..., second, :]
        swap = (a[..., 0] > b[..., 0])[..., None]
        marks[..., first, :], marks[..., second, :] = np.where(swap, b, a), np.where(swap, a, b)
    return marks
