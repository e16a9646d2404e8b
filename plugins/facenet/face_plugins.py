"""Face plugins that reuse the detector's 5 points: ``facenet.LandmarksDetector`` and
``facenet.PoseEstimator``. Neither runs a model."""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from src import plugin_api as api


class LandmarksDetector(api.FacePlugin):
    """The detector's 5 points as ints; an empty list when there are none (``detect_faces=false``)."""

    slug: ClassVar[str] = "landmarks"

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, api.JSONValue]]:
        results: list[dict[str, api.JSONValue]] = []
        for face in faces:
            marks = face.detection.landmarks
            if face.whole_image or marks is None:
                results.append({"landmarks": []})
            else:
                results.append({"landmarks": np.rint(np.asarray(marks, dtype=np.float64)).astype(int).tolist()})
        return results


class PoseEstimator(api.FacePlugin):
    """Head pose from the 5 points by perspective-n-point (:func:`src.pose.estimate_pose`), in the
    original image's camera. ``{"pose": None}`` when the detector gave no landmarks."""

    slug: ClassVar[str] = "pose"
    requires_detection: ClassVar[bool] = True

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, api.JSONValue]]:
        from src.pose import estimate_pose

        results: list[dict[str, api.JSONValue]] = []
        for face in faces:
            marks = face.detection.landmarks
            if marks is None:
                results.append({"pose": None})
                continue
            height, width = face.image.shape[:2]
            results.append({"pose": estimate_pose(np.asarray(marks), width, height).to_json()})
        return results
