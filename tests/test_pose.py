"""Head pose from 5 points: recovers known rotations of the face model, and the sign conventions."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.pose import FACE_MODEL_5, camera_matrix, estimate_pose


def project(pitch: float, yaw: float, roll: float, width: int = 640, height: int = 480) -> np.ndarray:
    import cv2

    a, b, c = np.radians([-pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    rvec, _ = cv2.Rodrigues(rz @ ry @ rx)
    points, _ = cv2.projectPoints(FACE_MODEL_5.reshape(5, 1, 3), rvec, np.array([[15.0], [-10.0], [650.0]]),
                                  camera_matrix(width, height), np.zeros(4))
    return points.reshape(5, 2)


@pytest.mark.parametrize("angles", [(0, 0, 0), (12, 0, 0), (0, 25, 0), (0, 0, -15), (-8, -20, 6)])
def test_recovers_known_rotations(angles):
    pose = estimate_pose(project(*angles), 640, 480)
    assert (pose.pitch, pose.yaw, pose.roll) == pytest.approx(angles, abs=0.01)


def test_positive_yaw_moves_the_nose_to_the_image_left():
    marks = project(0, 20, 0)
    eyes_centre = (marks[0, 0] + marks[1, 0]) / 2
    assert marks[2, 0] < eyes_centre


def test_optical_centre_is_width_then_height():
    assert camera_matrix(640, 480)[:2, 2].tolist() == [320.0, 240.0]
    assert camera_matrix(640, 480)[0, 1] == 0.0
