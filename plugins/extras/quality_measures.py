"""A face's quality for enrolment, without a model: sharpness, exposure, size, pose and detection score.

Each measure is mapped to a 0..1 component, and the components are combined as a weighted geometric mean
(:data:`WEIGHTS`), so one very poor component (a blurred or tiny face) pulls the score down however good
the others are. Sharpness and exposure are measured on the 112x112 ArcFace-aligned crop, the pixels a
recognizer sees, so the figures do not depend on the photo's resolution.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Weights of the geometric mean; they sum to 1.
WEIGHTS = {"sharpness": 0.35, "exposure": 0.2, "size": 0.2, "pose": 0.15, "detection": 0.1}
#: Laplacian variance of the aligned grey crop that gives a sharpness component of 0.5 (typical web portraits
#: measure 300..3000; a crop blurred with a Gaussian of sigma 2 px measures about 20).
SHARPNESS_HALF = 100.0
#: Mean brightness (0..1) under which, or above one minus which, exposure falls linearly to 0.
BRIGHTNESS_MARGIN = 0.25
#: Standard deviation of brightness (0..1) under which exposure falls linearly to 0 (a flat, washed-out face).
CONTRAST_FULL = 0.12
#: Face side (pixels, the smaller of the box's width and height) from which size counts fully.
SIZE_FULL = 112.0
#: Yaw and pitch (degrees) at which the pose component reaches 0. Pitch from 5 points is rough (frontal
#: portraits of the deepface set measure -36..+5), so it is allowed more.
YAW_LIMIT, PITCH_LIMIT = 60.0, 90.0


@dataclass(frozen=True)
class Quality:
    """The raw measures, their 0..1 components and the combined ``score``."""

    sharpness: float  # variance of the Laplacian of the aligned grey crop
    brightness: float  # mean grey level, 0..1
    contrast: float  # standard deviation of the grey level, 0..1
    face_size: float  # pixels, smaller side of the box
    yaw: float
    pitch: float
    roll: float
    detection: float
    components: dict[str, float]
    score: float

    def to_json(self) -> dict[str, object]:
        return {"score": self.score, "sharpness": self.sharpness, "brightness": self.brightness,
                "contrast": self.contrast, "face_size": self.face_size,
                "pose": {"pitch": self.pitch, "yaw": self.yaw, "roll": self.roll},
                "detection_probability": self.detection, "components": self.components}


def laplacian_variance(grey: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F).var())


def sharpness_component(variance: float) -> float:
    return variance / (variance + SHARPNESS_HALF)


def exposure_component(brightness: float, contrast: float) -> float:
    level = min(brightness, 1.0 - brightness) / BRIGHTNESS_MARGIN
    return float(np.clip(level, 0.0, 1.0) * np.clip(contrast / CONTRAST_FULL, 0.0, 1.0))


def size_component(side: float) -> float:
    return float(np.clip(side / SIZE_FULL, 0.0, 1.0))


def pose_component(yaw: float, pitch: float) -> float:
    return float(np.clip(1.0 - max(abs(yaw) / YAW_LIMIT, abs(pitch) / PITCH_LIMIT), 0.0, 1.0))


def combine(components: dict[str, float]) -> float:
    """Weighted geometric mean of the components (0 when any is 0)."""
    if min(components.values()) <= 0.0:
        return 0.0
    return float(math.exp(sum(WEIGHTS[name] * math.log(value) for name, value in components.items())))


def measure(aligned_rgb: np.ndarray, face_side: float, yaw: float, pitch: float, roll: float,
            detection: float) -> Quality:
    """The :class:`Quality` of one face from its aligned crop and its detection."""
    grey = aligned_rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    sharpness = laplacian_variance(grey)
    brightness, contrast = float(grey.mean() / 255.0), float(grey.std() / 255.0)
    components = {
        "sharpness": sharpness_component(sharpness),
        "exposure": exposure_component(brightness, contrast),
        "size": size_component(face_side),
        "pose": pose_component(yaw, pitch),
        "detection": float(np.clip(detection, 0.0, 1.0)),
    }
    return Quality(sharpness, brightness, contrast, float(face_side), yaw, pitch, roll, float(detection),
                   components, combine(components))
