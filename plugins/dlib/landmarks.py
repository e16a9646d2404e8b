"""68-point landmarks, the 5 contract points and head pose, all from one run of the 68-point predictor.

The three plugins share the predictor (loaded once) and each face's shape (through the crop cache).
The 68-point model is non-commercial (see its ModelSpec licence). It is read on first use: landmarks and
pose behind a detector that gives the 5 points (MTCNN, RetinaFace, ...) never need it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from facecore.landmark_plugins import DetectorLandmarks, LandmarkPose, landmark_ints
from facecore.plugin_api import Face, FacePlugin, JSONValue, LoadContext, ModelSpec
from plugins.dlib import models as specs
from plugins.dlib.shapes import SHAPE68_KEY, face_shape, five_from_68, shape_points, shape_predictor


class _Shape68Plugin(FacePlugin):
    models: ClassVar[tuple[ModelSpec, ...]] = (specs.LANDMARKS68_SPEC,)
    thread_safe = True  # dlib's shape predictor is const while it runs

    def __init__(self, model: ModelSpec | None = None) -> None:
        super().__init__(model)
        self._path: Path | None = None

    def load(self, ctx: LoadContext) -> None:
        self._path = ctx.models.file(specs.SHAPE68.filename)

    def predictor(self) -> Any:
        return shape_predictor(self.loaded(self._path))

    def points68(self, face: Face) -> np.ndarray:
        return shape_points(face_shape(face, self.predictor(), SHAPE68_KEY))

    def points5(self, face: Face) -> np.ndarray:
        """The detector's 5 landmarks when it gave them, else the ones derived from the 68 points."""
        if face.detection.landmarks is not None:
            return np.asarray(face.detection.landmarks, dtype=np.float64).reshape(5, 2)
        return five_from_68(self.points68(face))


class Landmarks68Detector(_Shape68Plugin):
    """``{"landmarks68": [[x, y] x 68]}`` in iBUG 300-W order, original-image pixels; the same points under
    ``landmarks`` too, the one key CompreFace's UI and API server read (unless the 5-point plugin gives it)."""

    name = "dlib.Landmarks68Detector"
    slug: ClassVar[str] = "landmarks68"

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        points = [landmark_ints(self.points68(face)) for face in faces]
        return [{"landmarks68": marks, "landmarks": marks} for marks in points]


class LandmarksDetector(_Shape68Plugin, DetectorLandmarks):
    """``{"landmarks": [[x, y] x 5]}``: the detector's points, else derived from the 68-point predictor."""

    name = "dlib.LandmarksDetector"


class PoseEstimator(_Shape68Plugin, LandmarkPose):
    """``{"pose": {"pitch", "yaw", "roll"}}`` from the same 5 points, by :func:`facecore.pose.estimate_pose`."""

    name = "dlib.PoseEstimator"
