"""Face plugins that reuse MTCNN's 5 points: ``facenet.LandmarksDetector`` and ``facenet.PoseEstimator``.
Neither runs a model; both are the core's ready-made :mod:`facecore.landmark_plugins`."""
from __future__ import annotations

from facecore.landmark_plugins import DetectorLandmarks, LandmarkPose


class LandmarksDetector(DetectorLandmarks):
    """MTCNN's 5 points as ints; an empty list when there are none (``detect_faces=false``)."""

    name = "facenet.LandmarksDetector"


class PoseEstimator(LandmarkPose):
    """Head pose from MTCNN's 5 points (:func:`facecore.pose.estimate_pose`)."""

    name = "facenet.PoseEstimator"
