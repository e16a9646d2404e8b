"""The ready-made landmarks and pose plugins every family registers."""
from __future__ import annotations

import numpy as np

from facecore.landmark_plugins import DetectorLandmarks, LandmarkPose, landmark_ints
from facecore.plugin_api import BoundingBox, DetectedFace, Face

MARKS = np.array([[30.4, 40.6], [69.5, 40.2], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]])


def face(landmarks=MARKS, whole_image=False) -> Face:
    return Face(np.zeros((120, 100, 3), dtype=np.uint8), DetectedFace(BoundingBox(10, 10, 90, 100), 0.9, landmarks),
                whole_image=whole_image)


def test_points_are_rounded_not_truncated():
    assert landmark_ints(MARKS)[:2] == [[30, 41], [70, 40]]


def test_landmarks_and_their_absence():
    plugin = DetectorLandmarks(None)
    got = plugin.analyze([face(), face(None), face(whole_image=True)])
    assert got[0]["landmarks"] == landmark_ints(MARKS) and got[1] == got[2] == {"landmarks": []}


def test_pose_is_none_without_landmarks_and_near_frontal_with_symmetric_ones():
    plugin = LandmarkPose(None)
    with_marks, without = plugin.analyze([face(), face(None)])
    assert without == {"pose": None}
    assert abs(with_marks["pose"]["yaw"]) < 10 and abs(with_marks["pose"]["roll"]) < 5
    assert plugin.requires_detection
