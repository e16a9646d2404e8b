"""``opencv.FaceDetector``: YuNet run by ``cv2.FaceDetectorYN`` (OpenCV's DNN module, no ONNX Runtime).

``FaceDetectorYN`` rows are x, y, w, h, then right eye, left eye, nose, right and left mouth corners
(the subject's right, i.e. the image's left), then the score.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from facecore import plugin_api as api
from facecore.boxes import order_landmarks
from facecore.model_store import check_name

YUNET_URL = ("https://media.githubusercontent.com/media/opencv/opencv_zoo/main/models/face_detection_yunet/"
             "face_detection_yunet_2023mar.onnx")
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
NMS_IOU = 0.3  # OpenCV Zoo's demo value
TOP_K = 5000

MODELS = (
    api.ModelSpec("yunet_2023mar", (api.ModelFile("face_detection_yunet_2023mar.onnx", YUNET_URL, YUNET_SHA256),),
                  "MIT"),
)


class FaceDetector(api.FaceDetector):
    """YuNet; the DNN network is not re-entrant (it keeps the input size and scores of the call in progress)."""

    name = "opencv.FaceDetector"
    models = MODELS
    default_threshold = 0.8  # measured on dlib-faces: recall stays 43/43 with fewer false detections

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.detector: Any = None

    @classmethod
    def custom_model(cls, name: str) -> api.ModelSpec:
        """A YuNet ONNX file of one's own at ``MODELS_ROOT/opencv/detector/<name>/<name>.onnx``."""
        check_name(name)
        return api.ModelSpec(name, (api.ModelFile(f"{name}.onnx", "local"),), "the user's own model")

    def load(self, ctx: api.LoadContext) -> None:
        import cv2

        assert self.model is not None
        path = ctx.models.file(self.model.files[0].filename)
        placement: tuple[int, ...] = ()  # default: OpenCV's CPU backend
        if ctx.device.wants_gpu and cv2.cuda.getCudaEnabledDeviceCount() > 0:  # opencv-python-headless has no CUDA
            cv2.cuda.setDevice(ctx.device.gpu_index)
            placement = (cv2.dnn.DNN_BACKEND_CUDA, cv2.dnn.DNN_TARGET_CUDA)
            self.device_description = f"cuda:{ctx.device.gpu_index}"
        self.detector = cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.5, NMS_IOU, TOP_K, *placement)

    def warm_up(self, image: np.ndarray) -> None:
        self.detect(image, self.default_threshold)

    def detect(self, image: np.ndarray, threshold: float) -> list[api.DetectedFace]:
        import cv2

        detector = self.loaded(self.detector)
        height, width = image.shape[:2]
        bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
        detector.setInputSize((width, height))
        detector.setScoreThreshold(float(min(max(threshold, 0.0), 1.0)))
        _, rows = detector.detect(bgr)
        faces = []
        for row in [] if rows is None else rows:
            score = float(row[14])
            if score <= threshold:
                continue
            x, y, w, h = (float(v) for v in row[:4])
            box = api.BoundingBox(x, y, x + w, y + h).clipped(width, height)
            if box.area > 0:
                marks = order_landmarks(np.asarray(row[4:14]).reshape(5, 2))
                faces.append(api.DetectedFace(box, min(score, 1.0), api.as_points(marks)))
        return faces
