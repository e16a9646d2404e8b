"""dlib face detectors: the HOG sliding-window SVM (default, fast on a CPU) and the MMOD CNN.

The MMOD CNN runs on ONNX Runtime by default (option ``backend``: "onnx"): ``srcext.dlib`` converts
dlib's file and rebuilds dlib's tiled pyramid and decoding, so boxes and scores equal dlib's own
(``backend: "dlib"``), about 10x faster on a CPU. With ``upsample`` > 0 it uses dlib's own network,
whose 2x upsampling is not reproduced.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from facecore.plugin_api import BoundingBox, DetectedFace, FaceDetector as FaceDetectorBase, LoadContext, ModelSpec
from plugins.dlib import models as specs, scores
from plugins.dlib.shapes import rect_to_box


class FaceDetector(FaceDetectorBase):
    """Boxes with probabilities from :mod:`plugins.dlib.scores`; no landmarks.

    Landmarks stay ``None``: the 5-point predictor gives eye corners and the nose base, not the contract's
    eye centres and mouth corners, and the 68-point predictor that gives them is non-commercial, which
    the default detector must not be. ``dlib.LandmarksDetector`` derives them on request.
    """

    name = "dlib.FaceDetector"
    models: ClassVar[tuple[ModelSpec, ...]] = (specs.HOG, specs.MMOD_SPEC)
    default_threshold = scores.DEFAULT_THRESHOLD

    def __init__(self, model: ModelSpec | None = None) -> None:
        super().__init__(model)
        self._detector: Any = None
        self._cnn = False
        self._onnx = False
        # dlib's detectors keep the image pyramid of the call in progress inside the object, and release
        # the GIL while they run: two threads in one detector corrupt each other's memory (uWSGI threads,
        # or BATCH_WAIT_MS), so the pipeline serialises them. The ONNX Runtime path holds no such state.
        self.thread_safe = self.runs_on_onnx

    @property
    def runs_on_onnx(self) -> bool:
        """MMOD converted to ONNX (its default); the HOG model and MMOD with upsampling run in dlib."""
        return self.model is not None and self.model.name == specs.MMOD_SPEC.name \
            and self.backend == "onnx" and self.upsample == 0

    def load(self, ctx: LoadContext) -> None:
        spec = self.model or specs.HOG
        files = ctx.models.files() if spec.name == specs.MMOD_SPEC.name else {}
        if self.runs_on_onnx:
            self._cnn = True
            self._load_onnx(ctx, files[specs.MMOD.filename])
            return
        import dlib

        if files:
            self._cnn = True
            self._detector = dlib.cnn_face_detection_model_v1(str(files[specs.MMOD.filename]))
        else:
            self._detector = dlib.get_frontal_face_detector()
        self.device_description = "cuda" if self._cnn and dlib.DLIB_USE_CUDA else "cpu"

    def _load_onnx(self, ctx: LoadContext, dat_path: Path) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session
        from srcext.dlib import MmodDetector, convert_cached

        converted = convert_cached(dat_path, ctx.models.folder / "onnx")
        # its tiled pyramid is built from the detection copy (no upsampling on this path), so it is bounded too
        self._detector = MmodDetector.from_onnx(converted,
                                                lambda model: open_session(model, ctx.device, detector_input=True))
        self._onnx = True
        self.device_description = describe_session(self._detector.session)

    @property
    def backend(self) -> str:
        """MMOD's runtime: ``onnx`` (default) or ``dlib``; the HOG model always runs in dlib."""
        return str(self.model.options.get("backend", "onnx")) if self.model is not None else "onnx"

    @property
    def upsample(self) -> int:
        return int(self.model.options.get("upsample", 0)) if self.model is not None else 0

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        raw = self._detect_cnn(image) if self._cnn else self._detect_hog(image, threshold)
        faces = [DetectedFace(self._box(rect), probability) for rect, probability in raw]
        return [face for face in faces if face.probability > threshold]

    def _detect_hog(self, image: np.ndarray, threshold: float) -> list[tuple[Any, float]]:
        # Ask dlib for every box the threshold could keep, so a low threshold finds more faces.
        floor = scores.probability_to_score(threshold, scores.HOG_SLOPE)
        floor = min(max(floor, scores.MIN_HOG_SCORE), scores.MAX_HOG_SCORE)
        rects, raw_scores, _ = self.loaded(self._detector).run(image, self.upsample, floor)
        return [(rect, scores.score_to_probability(score, scores.HOG_SLOPE)) for rect, score in zip(rects, raw_scores)]

    def _detect_cnn(self, image: np.ndarray) -> list[tuple[Any, float]]:
        if self._onnx:
            hits = self.loaded(self._detector)(image)
            return [(hit, scores.score_to_probability(hit.confidence, scores.MMOD_SLOPE)) for hit in hits]
        found = self.loaded(self._detector)(image, self.upsample)
        return [(hit.rect, scores.score_to_probability(hit.confidence, scores.MMOD_SLOPE)) for hit in found]

    def _box(self, rect: Any) -> BoundingBox:
        if self._onnx:  # srcext.dlib.mmod_decode.Detection: the same inclusive corners as a dlib rectangle
            return BoundingBox(float(rect.left), float(rect.top), float(rect.right + 1), float(rect.bottom + 1))
        return rect_to_box(rect)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["upsample"] = self.upsample
        if self._cnn:
            info["backend"] = "onnx" if self._onnx else "dlib"
        return info
