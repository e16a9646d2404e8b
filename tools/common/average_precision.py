"""Average precision of a detector over an annotated set, as WIDER FACE and PASCAL VOC score it.

Each image's detections, best score first, take the unmatched labelled face they overlap most (IoU >= 0.5):
a true positive. A detection on a face that does not count (too small for the subset being scored, or
marked invalid) is left out of the ranking, neither true nor false; any other detection is a false
positive. AP is the area under the precision envelope (precision made non-increasing in recall) over
all ranked detections of all images, as PASCAL VOC 2010+ computes it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.common.annotations import iou_matrix

AP_IOU = 0.5
TRUE, FALSE, LEFT_OUT = 1, 0, -1


@dataclass(frozen=True)
class RankedImage:
    """One image's detections as (score, outcome) and how many of its faces count."""

    scores: np.ndarray
    outcomes: np.ndarray
    positives: int


def rank_image(truth: np.ndarray, counts: np.ndarray, found: np.ndarray, scores: np.ndarray,
               iou: float = AP_IOU) -> RankedImage:
    """Match ``found`` (N, 4) boxes with ``scores`` against ``truth`` (M, 4) boxes; ``counts`` (M,) says
    which labelled faces count (the others only excuse the detections on them)."""
    order = np.argsort(-scores, kind="stable")
    outcomes = np.full(len(found), FALSE, dtype=np.int8)
    if len(truth) and len(found):
        overlaps = iou_matrix(found[order], truth)
        taken = np.zeros(len(truth), dtype=bool)
        for rank, row in enumerate(overlaps):
            open_faces = np.where(counts & ~taken, row, -1.0)
            best = int(np.argmax(open_faces))
            if open_faces[best] >= iou:
                taken[best] = True
                outcomes[rank] = TRUE
            elif np.any(row[~counts] >= iou):
                outcomes[rank] = LEFT_OUT
    return RankedImage(scores[order], outcomes, int(np.count_nonzero(counts)))


def average_precision(images: list[RankedImage]) -> float:
    """VOC-style AP (0..1) over all images' ranked detections; 0 when no face counts."""
    positives = sum(image.positives for image in images)
    if not positives:
        return 0.0
    scores = np.concatenate([image.scores for image in images] or [np.zeros(0)])
    outcomes = np.concatenate([image.outcomes for image in images] or [np.zeros(0, dtype=np.int8)])
    kept = outcomes != LEFT_OUT
    scores, outcomes = scores[kept], outcomes[kept]
    order = np.argsort(-scores, kind="stable")
    hits = (outcomes[order] == TRUE).astype(np.float64)
    true_positives = np.cumsum(hits)
    recall = true_positives / positives
    precision = true_positives / np.arange(1, len(hits) + 1)
    recall = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * envelope[steps + 1]))
