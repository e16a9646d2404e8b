"""A third-party plugin package: one detector that finds a face in the middle of any image."""
from __future__ import annotations

import numpy as np

from src import hookimpl
from src.plugin_api import BoundingBox, DetectedFace, FaceDetector


class CentreDetector(FaceDetector):
    """Reports the central quarter of the image as a face with probability 0.99."""

    default_threshold = 0.5

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        height, width = image.shape[:2]
        return [DetectedFace(BoundingBox(width / 4, height / 4, 3 * width / 4, 3 * height / 4), 0.99)]


@hookimpl
def register_plugins() -> list[type]:
    return [CentreDetector]
