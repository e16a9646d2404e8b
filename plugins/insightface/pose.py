"""``insightface.PoseEstimator``: head pose from the detector's 5 landmarks (:mod:`src.pose`)."""
from __future__ import annotations

from typing import Any, Sequence

from src import plugin_api as api


class PoseEstimator(api.FacePlugin):
    """``{"pose": {"pitch", "yaw", "roll"}}`` in degrees; needs a detection (skipped for detect_faces=false)."""

    slug = "pose"
    requires_detection = True

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        from src.pose import estimate_pose

        results = []
        for face in faces:
            if face.detection.landmarks is None:
                raise api.PluginError("insightface.PoseEstimator needs a detector that gives 5 landmarks")
            height, width = face.image.shape[:2]
            results.append({"pose": estimate_pose(face.detection.landmarks, width, height).to_json()})
        return results
