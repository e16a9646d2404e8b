"""Fake plugins with fixed answers: the core's tests need no weights and never run real inference."""
from __future__ import annotations

import sys
import types
from typing import Sequence

import numpy as np

from facecore import hookimpl, plugin_api as api
from facecore.config import Settings
from facecore.pipeline import Pipeline
from facecore.plugin_api import BoundingBox, DetectedFace, Face, FacePlugin, ModelFile, ModelSpec
from facecore.plugin_manager import PluginRegistry, build_plugin_manager


class FaceDetector(api.FaceDetector):
    """Two faces in a 100x100 image: a big one and a small one; a 1x1 image has none."""

    name = "fake.FaceDetector"
    thread_safe = True  # fixed answers; the call counter is only read by tests
    default_threshold = 0.5
    boxes = ((BoundingBox(10, 10, 60, 70), 0.9), (BoundingBox(70, 70, 90, 90), 0.6))
    calls = 0

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        type(self).calls += 1
        if image.shape[0] < 8:
            return []
        scale = image.shape[1] / 100.0
        faces = []
        for box, probability in self.boxes:
            marks = np.array([[box.x_min + 5, box.y_min + 5], [box.x_max - 5, box.y_min + 5],
                              [(box.x_min + box.x_max) / 2, (box.y_min + box.y_max) / 2],
                              [box.x_min + 5, box.y_max - 5], [box.x_max - 5, box.y_max - 5]])
            faces.append(DetectedFace(box.scaled(scale), probability, marks * scale))
        return faces


class Calculator(api.Calculator):
    name = "fake.Calculator"
    thread_safe = True
    models = (ModelSpec("m1", (ModelFile("m1.bin", "local"),), similarity_coefficients=(1.1, 5.0)),
              ModelSpec("m2", (ModelFile("m2.bin", "local"),), similarity_coefficients=(1.2, 6.0)))
    batches: list[int] = []

    def load(self, ctx) -> None:  # type: ignore[no-untyped-def]
        """No files: the fake's models are declarations only."""

    def embed(self, faces: Sequence[Face]) -> np.ndarray:
        type(self).batches.append(len(faces))
        return np.tile(np.array([0.1, 0.2, 0.3], dtype=np.float32), (len(faces), 1))


class AgeDetector(FacePlugin):
    name = "fake.AgeDetector"
    slug = "age"

    def analyze(self, faces: Sequence[Face]) -> list[dict]:
        return [{"age": {"low": 25, "high": 32, "probability": 0.5}} for _ in faces]


class LandmarksDetector(FacePlugin):
    name = "fake.LandmarksDetector"
    slug = "landmarks"

    def analyze(self, faces: Sequence[Face]) -> list[dict]:
        return [{"landmarks": [] if f.detection.landmarks is None else
                 np.asarray(f.detection.landmarks).astype(int).tolist()} for f in faces]


class PoseEstimator(FacePlugin):
    name = "fake.PoseEstimator"
    slug = "pose"
    requires_detection = True

    def analyze(self, faces: Sequence[Face]) -> list[dict]:
        return [{"pose": {"pitch": 1.0, "yaw": 2.0, "roll": 3.0}} for _ in faces]


class BrokenDetector(FacePlugin):
    name = "fake.BrokenDetector"
    slug = "broken"

    def analyze(self, faces: Sequence[Face]) -> list[dict]:
        raise RuntimeError("boom")


@hookimpl
def register_plugins() -> list[type]:
    return [FaceDetector, Calculator, AgeDetector, LandmarksDetector, PoseEstimator, BrokenDetector]


def fake_module() -> types.ModuleType:
    return sys.modules[__name__]


def fake_registry() -> PluginRegistry:
    return PluginRegistry.from_manager(build_plugin_manager(load_entrypoints=False, modules=[("fake", fake_module())]))


FAKE_SETTINGS = Settings(detector="fake.FaceDetector", calculator="fake.Calculator@m2",
                         extras=("fake.AgeDetector", "fake.LandmarksDetector", "fake.PoseEstimator", "fake.BrokenDetector"),
                         warm_up=False)


def fake_pipeline(settings: Settings = FAKE_SETTINGS) -> Pipeline:
    pipeline = Pipeline.from_settings(settings, fake_registry())
    pipeline.ready = True
    return pipeline
