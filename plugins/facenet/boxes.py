"""Box arithmetic of the MTCNN cascade, vectorised with numpy (suppression is :func:`facecore.boxes.nms`).

Boxes are (N, 4) float arrays ``x1, y1, x2, y2`` in continuous pixel coordinates: a box covering pixels
``0..9`` is ``[0, 10)``, so its width is ``x2 - x1``.
"""
from __future__ import annotations

import numpy as np

PNET_CELL = 12  # P-Net sees 12x12 windows ...
PNET_STRIDE = 2  # ... every 2 pixels of the scaled image


def pyramid_scales(width: int, height: int, min_face: float = 20.0, factor: float = 0.709) -> list[float]:
    """Scales at which P-Net's 12-pixel window covers faces of ``min_face`` pixels and up, down to the
    scale where the shorter image side shrinks below 12 pixels."""
    scale = PNET_CELL / float(min_face)
    shorter = min(width, height) * scale
    scales = []
    while shorter >= PNET_CELL:
        scales.append(scale)
        scale *= factor
        shorter *= factor
    return scales


def pnet_candidates(offsets: np.ndarray, scores: np.ndarray, scale: float,
                    threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of one pyramid level whose face score beats ``threshold``.

    ``offsets`` (4, h, w) and ``scores`` (h, w) are P-Net's outputs for one image. Returns the windows in
    original-image pixels, their scores and their (unapplied) regression offsets.
    """
    rows, cols = np.nonzero(scores > threshold)
    x1, y1 = cols * PNET_STRIDE / scale, rows * PNET_STRIDE / scale
    side = PNET_CELL / scale
    windows = np.stack([x1, y1, x1 + side, y1 + side], axis=1).astype(np.float64)
    return windows, scores[rows, cols].astype(np.float64), offsets[:, rows, cols].T.astype(np.float64)


def regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Move each side by its offset times the box's width (x) or height (y)."""
    width = (boxes[:, 2] - boxes[:, 0])[:, None]
    height = (boxes[:, 3] - boxes[:, 1])[:, None]
    return boxes + offsets * np.hstack([width, height, width, height])


def squared(boxes: np.ndarray) -> np.ndarray:
    """The square of side max(width, height) with the same centre: the nets take square crops."""
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2.0, (boxes[:, 1] + boxes[:, 3]) / 2.0
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def place_landmarks(boxes: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """O-Net's landmarks (N, 10) = x1..x5, y1..y5 as fractions of the box -> (N, 5, 2) pixels."""
    width = (boxes[:, 2] - boxes[:, 0])[:, None]
    height = (boxes[:, 3] - boxes[:, 1])[:, None]
    xs = boxes[:, 0:1] + relative[:, :5] * width
    ys = boxes[:, 1:2] + relative[:, 5:] * height
    return np.stack([xs, ys], axis=2)


def pad_box(boxes: np.ndarray, margins: tuple[float, float, float, float]) -> np.ndarray:
    """Grow boxes by fractions of their size: (left, top, right, bottom) x (width, height, width, height)."""
    width = (boxes[:, 2] - boxes[:, 0])[:, None]
    height = (boxes[:, 3] - boxes[:, 1])[:, None]
    left, top, right, bottom = margins
    return boxes + np.hstack([-left * width, -top * height, right * width, bottom * height])
