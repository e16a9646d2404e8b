"""``example.CentreDetector``: reports the central quarter of any image as one face."""
from __future__ import annotations

import numpy as np

from facecore import BoundingBox, DetectedFace, FaceDetector


class CentreDetector(FaceDetector):
    """No model: the middle of the image, probability 0.99, no landmarks."""

    name = "example.CentreDetector"
    default_threshold = 0.5
    thread_safe = True  # keeps no state between calls

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        height, width = image.shape[:2]
        return [DetectedFace(BoundingBox(width / 4, height / 4, 3 * width / 4, 3 * height / 4), 0.99)]
