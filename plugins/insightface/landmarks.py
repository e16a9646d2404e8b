"""``insightface.LandmarksDetector`` (the detector's 5 points) and ``insightface.Landmarks2d106Detector``.

The 106-point model answers under its own key ``landmarks2d106``; CompreFace wrote them under
``landmarks``, overwriting the 5 points when both plugins were asked for.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api
from facecore.landmark_plugins import DetectorLandmarks, landmark_ints
from plugins.insightface.blob import Normalisation, graph_normalisation, to_blob
from plugins.insightface.catalogue import LANDMARKS106
from plugins.insightface.crops import centred
from plugins.insightface.loading import onnx_file

MXNET_INPUT = (1, 3, 192, 192)  # the converter makes the batch axis dynamic


class LandmarksDetector(DetectorLandmarks):
    """``{"landmarks": [[x, y] x 5]}`` from the detection (empty when the detector gave none)."""

    name = "insightface.LandmarksDetector"


class Landmarks2d106Detector(api.FacePlugin):
    """``{"landmarks2d106": [[x, y] x 106]}`` from the 192x192 box-centred crop, all faces in one run; the same
    points under ``landmarks`` too, as CompreFace's core wrote them (unless the 5-point plugin gives it)."""

    name = "insightface.Landmarks2d106Detector"
    slug = "landmarks2d106"
    models = LANDMARKS106
    thread_safe = True  # an ONNX Runtime session

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None
        path = onnx_file(ctx, MXNET_INPUT)
        self.session = open_session(path, ctx.device)
        self.norm = graph_normalisation(path, Normalisation(0.0, 1.0))
        self.size = int(self.model.options.get("size", 192))
        self.input_name = self.session.get_inputs()[0].name
        self.device_description = describe_session(self.session)

    def points(self, faces: Sequence[api.Face]) -> list[np.ndarray]:
        """(106, 2) image-pixel points per face. The model gives crop coordinates in [-1, 1]."""
        session = self.loaded(self.session)
        crops = [centred(face, self.size, compreface_box=True) for face in faces]
        rows = session.run(None, {self.input_name: to_blob(np.stack([c.pixels for c in crops]), self.norm)})[0]
        result = []
        for crop, row in zip(crops, rows):
            in_crop = (np.asarray(row, dtype=np.float64).reshape(-1, 2)[:106] + 1.0) * (self.size / 2)
            result.append(crop.to_image(in_crop))
        return result

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        points = [landmark_ints(p) for p in self.points(faces)]
        return [{"landmarks2d106": marks, "landmarks": marks} for marks in points]
