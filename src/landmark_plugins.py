"""Ready-made face plugins over the detector's 5 landmarks, for any plugin family to register.

``landmarks`` (the 5 points as ints) and ``pose`` (perspective-n-point on them) need no model of their own,
so every family offers the same two; a family that can compute the points another way (dlib's 68-point
predictor) overrides :meth:`points5`.
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from facecore.plugin_api import Face, FacePlugin, JSONValue
from facecore.pose import estimate_pose


def landmark_ints(points: np.ndarray) -> list[list[int]]:
    """(N, 2) float pixel coordinates -> ``[[x, y], ...]`` rounded to the nearest pixel."""
    return np.rint(np.asarray(points, dtype=np.float64)).astype(int).reshape(-1, 2).tolist()


class FivePointPlugin(FacePlugin):
    """Base of the plugins below: where a face's 5 contract points come from."""

    thread_safe = True  # arithmetic on the request's own arrays

    def points5(self, face: Face) -> np.ndarray | None:
        """The detector's 5 points (left eye, right eye, nose, left and right mouth corner), or ``None``."""
        if face.whole_image or face.detection.landmarks is None:
            return None
        return np.asarray(face.detection.landmarks, dtype=np.float64).reshape(5, 2)


class DetectorLandmarks(FivePointPlugin):
    """``{"landmarks": [[x, y] x 5]}``; an empty list when there are none (``detect_faces=false``)."""

    slug: ClassVar[str] = "landmarks"

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        results: list[dict[str, JSONValue]] = []
        for face in faces:
            points = self.points5(face)
            results.append({"landmarks": [] if points is None else landmark_ints(points)})
        return results


class LandmarkPose(FivePointPlugin):
    """``{"pose": {"pitch", "yaw", "roll"}}`` in degrees, in the original image's camera; ``{"pose": None}``
    when the detector gave no landmarks. Skipped for ``detect_faces=false``."""

    slug: ClassVar[str] = "pose"
    requires_detection: ClassVar[bool] = True

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        results: list[dict[str, JSONValue]] = []
        for face in faces:
            points = self.points5(face)
            height, width = face.image.shape[:2]
            results.append({"pose": None if points is None else estimate_pose(points, width, height).to_json()})
        return results
