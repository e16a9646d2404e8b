"""A synthetic warm-up picture, so start-up depends on no test fixture (CompreFace loaded
``einstein.jpeg`` from its test folder). Every plugin runs on it once before the first request."""
from __future__ import annotations

import numpy as np


def warm_up_image(width: int = 640, height: int = 480) -> np.ndarray:
    """A smooth RGB picture with a face-like drawing: exercises every code path of every model."""
    import cv2

    yy, xx = np.mgrid[0:height, 0:width]
    image = np.stack([(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)),
                      np.full_like(xx, 128)], axis=2).astype(np.uint8)
    cx, cy, r = width // 2, height // 2, min(width, height) // 4
    cv2.ellipse(image, (cx, cy), (int(r * 0.8), r), 0, 0, 360, (224, 172, 140), -1)
    for dx in (-r // 3, r // 3):
        cv2.circle(image, (cx + dx, cy - r // 4), max(r // 10, 2), (40, 30, 30), -1)
    cv2.ellipse(image, (cx, cy + r // 2), (r // 3, max(r // 10, 2)), 0, 0, 180, (120, 40, 40), -1)
    return image
