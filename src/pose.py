"""Head pose (pitch, yaw, roll in degrees) from the 5 face landmarks by perspective-n-point.

A generic 3D face (millimetres, nose tip at the origin, x to the image right, y down, z away from the
camera) is fitted to the 5 detected points with a pinhole camera whose focal length is the image
width and whose optical centre is the image centre ``(w/2, h/2)``, with no skew. (CompreFace swapped
the centre to ``(h/2, w/2)``, put a skew of 1 in the matrix, and added a synthetic chin.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: left eye, right eye, nose tip, left mouth corner, right mouth corner (a mean adult face).
FACE_MODEL_5 = np.array(
    [[-31.0, -35.0, 30.0], [31.0, -35.0, 30.0], [0.0, 0.0, 0.0], [-25.0, 32.0, 22.0], [25.0, 32.0, 22.0]],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Pose:
    """Degrees. pitch > 0: the face looks up; yaw > 0: the nose points towards the image's left (the
    person turns to their own right); roll > 0: the face's vertical axis rotates clockwise in the image."""

    pitch: float
    yaw: float
    roll: float

    def to_json(self) -> dict[str, float]:
        return {"pitch": self.pitch, "yaw": self.yaw, "roll": self.roll}


def camera_matrix(width: int, height: int) -> np.ndarray:
    focal = float(width)
    return np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])


def euler_degrees(rotation: np.ndarray) -> tuple[float, float, float]:
    """Decompose R = Rz(roll) @ Ry(yaw) @ Rx(pitch) into degrees."""
    sy = float(np.hypot(rotation[0, 0], rotation[1, 0]))
    if sy > 1e-6:
        pitch = np.arctan2(rotation[2, 1], rotation[2, 2])
        yaw = np.arctan2(-rotation[2, 0], sy)
        roll = np.arctan2(rotation[1, 0], rotation[0, 0])
    else:  # gimbal lock: yaw at +-90 degrees
        pitch = np.arctan2(-rotation[1, 2], rotation[1, 1])
        yaw = np.arctan2(-rotation[2, 0], sy)
        roll = 0.0
    return float(np.degrees(pitch)), float(np.degrees(yaw)), float(np.degrees(roll))


def estimate_pose(landmarks: np.ndarray, image_width: int, image_height: int) -> Pose:
    """Pose of a face from its 5 landmarks (pixel coordinates in an image of the given size)."""
    import cv2

    points = np.ascontiguousarray(np.asarray(landmarks, dtype=np.float64).reshape(5, 1, 2))
    matrix = camera_matrix(image_width, image_height)
    distortion = np.zeros(4)
    model = FACE_MODEL_5.reshape(5, 1, 3)
    ok, rvec, tvec = cv2.solvePnP(model, points, matrix, distortion, flags=cv2.SOLVEPNP_EPNP)
    if ok:
        ok, rvec, tvec = cv2.solvePnP(model, points, matrix, distortion, rvec, tvec,
                                      useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return Pose(0.0, 0.0, 0.0)
    rotation, _ = cv2.Rodrigues(rvec)
    pitch, yaw, roll = euler_degrees(rotation)
    # The model's y axis points down the face, so a face that looks up has a negative x rotation.
    return Pose(pitch=-pitch, yaw=yaw, roll=roll)
