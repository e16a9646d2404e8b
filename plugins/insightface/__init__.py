"""InsightFace models on ONNX Runtime: SCRFD/RetinaFace detection, ArcFace embeddings, gender and age,
5- and 106-point landmarks, pose, CompreFace's gluon mask classifiers.
Heavy imports (onnxruntime, cv2, onnx) happen inside ``load``."""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.insightface.calculator import Calculator
    from plugins.insightface.detector import FaceDetector
    from plugins.insightface.facemask import MaskDetector
    from plugins.insightface.genderage import AgeDetector, GenderDetector
    from plugins.insightface.landmarks import Landmarks2d106Detector, LandmarksDetector
    from plugins.insightface.pose import PoseEstimator

    return [FaceDetector, Calculator, AgeDetector, GenderDetector, LandmarksDetector, Landmarks2d106Detector,
            PoseEstimator, MaskDetector]
