"""``insightface.PoseEstimator``: head pose from the detector's 5 landmarks (:mod:`facecore.pose`)."""
from __future__ import annotations

from facecore.landmark_plugins import LandmarkPose


class PoseEstimator(LandmarkPose):
    """``{"pose": {"pitch", "yaw", "roll"}}`` from SCRFD's/RetinaFace's 5 points; ``None`` without them."""

    name = "insightface.PoseEstimator"
