"""The ``facenet`` plugin family: MTCNN face detection (ONNX Runtime, no TensorFlow), the detector's
5 landmarks and the head pose from them, and CompreFace's FaceNet calculator and Keras mask classifier
(converted to ONNX by ``srcext.tensorflow`` / ``srcext.keras``). Heavy libraries load in ``load()``, not here."""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.facenet.calculator import Calculator
    from plugins.facenet.detector import FaceDetector
    from plugins.facenet.face_plugins import LandmarksDetector, PoseEstimator
    from plugins.facenet.facemask import MaskDetector

    return [FaceDetector, Calculator, LandmarksDetector, PoseEstimator, MaskDetector]
