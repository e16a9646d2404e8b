"""dlib face detectors: the HOG sliding-window SVM (default, fast on a CPU) and the MMOD CNN."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from plugins.dlib import models as specs, scores
from plugins.dlib.shapes import rect_to_box
from src.plugin_api import DetectedFace, FaceDetector as FaceDetectorBase, LoadContext, ModelSpec


class FaceDetector(FaceDetectorBase):
    """Boxes with probabilities from :mod:`plugins.dlib.scores`; no landmarks.

    Landmarks stay ``None``: the 5-point predictor gives eye corners and the nose base, not the contract's
    eye centres and mouth corners, and the 68-point predictor that gives them is non-commercial, which
    the default detector must not be. ``dlib.LandmarksDetector`` derives them on request.
    """

    models: ClassVar[tuple[ModelSpec, ...]] = (specs.HOG, specs.MMOD_SPEC)
    default_threshold: ClassVar[float] = scores.DEFAULT_THRESHOLD

    def __init__(self, name: str, model: ModelSpec | None) -> None:
        super().__init__(name, model)
        self._detector: Any = None
        self._cnn = False

    def load(self, ctx: LoadContext) -> None:
        import dlib

        spec = self.model or specs.HOG
        if spec.name == specs.MMOD_SPEC.name:
            files = ctx.store.ensure("dlib", self.slug, spec)
            self._detector = dlib.cnn_face_detection_model_v1(str(files[specs.MMOD.filename]))
            self._cnn = True
        else:
            self._detector = dlib.get_frontal_face_detector()
        self.device_description = "cuda" if self._cnn and dlib.DLIB_USE_CUDA else "cpu"

    @property
    def upsample(self) -> int:
        return int(self.model.options.get("upsample", 0)) if self.model is not None else 0

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        raw = self._detect_cnn(image) if self._cnn else self._detect_hog(image, threshold)
        faces = [DetectedFace(rect_to_box(rect), probability) for rect, probability in raw]
        return [face for face in faces if face.probability > threshold]

    def _detect_hog(self, image: np.ndarray, threshold: float) -> list[tuple[Any, float]]:
        # Ask dlib for every box the threshold could keep, so a low threshold finds more faces.
        floor = scores.probability_to_score(threshold, scores.HOG_SLOPE)
        floor = min(max(floor, scores.MIN_HOG_SCORE), scores.MAX_HOG_SCORE)
        rects, raw_scores, _ = self._detector.run(image, self.upsample, floor)
        return [(rect, scores.score_to_probability(score, scores.HOG_SLOPE)) for rect, score in zip(rects, raw_scores)]

    def _detect_cnn(self, image: np.ndarray) -> list[tuple[Any, float]]:
        found = self._detector(image, self.upsample)
        return [(hit.rect, scores.score_to_probability(hit.confidence, scores.MMOD_SLOPE)) for hit in found]

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["upsample"] = self.upsample
        return info
