"""``insightface.AgeDetector`` and ``insightface.GenderDetector``: one genderage model run per face, shared.

Both plugins load the same session and cache the decoded result on the face
(``insightface_genderage:<model>``), so asking for age and gender runs the model once per image.
Heads: ``bins202`` (CompreFace's ``genderage_v1``: 112x112 aligned -> 2 gender logits female/male, then
100 two-way age bins; age = bins whose second logit wins) and ``logits3`` (the packs' ``genderage``:
96x96 box-centred -> 2 gender logits female/male, age / 100).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api
from plugins.insightface.blob import Normalisation, graph_normalisation, to_blob
from plugins.insightface.catalogue import GENDERAGE
from plugins.insightface.crops import arcface112, centred
from plugins.insightface.loading import onnx_file, shared_session

MXNET_INPUT = (1, 3, 112, 112)  # the converter makes the batch axis dynamic
GENDERS = ("female", "male")


@dataclass(frozen=True)
class GenderAge:
    gender: str
    gender_probability: float  # softmax of the two gender logits (CompreFace always said 1.0)
    age: int


def decode(row: np.ndarray, head: str) -> GenderAge:
    """One model output row -> :class:`GenderAge`."""
    row = np.asarray(row, dtype=np.float64).reshape(-1)
    logits = row[:2] - row[:2].max()
    probs = np.exp(logits) / np.exp(logits).sum()
    index = int(probs.argmax())
    if head == "bins202":
        bins = row[2:202].reshape(100, 2)
        age = int((bins[:, 1] > bins[:, 0]).sum())
    elif head == "logits3":
        age = int(round(float(row[2]) * 100))
    else:
        raise ValueError(f"unknown genderage head {head!r}")
    return GenderAge(GENDERS[index], float(probs[index]), max(age, 0))


class _LazyBatch:
    """Runs the model once, over every face of the batch, the first time any face asks."""

    def __init__(self, plugin: "_GenderAgePlugin", faces: Sequence[api.Face]) -> None:
        self.plugin = plugin
        self.faces = list(faces)
        self.results: list[GenderAge] | None = None

    def result_for(self, face: api.Face) -> GenderAge:
        if self.results is None:
            self.results = self.plugin.run(self.faces)
        return self.results[next(i for i, f in enumerate(self.faces) if f is face)]


class _GenderAgePlugin(api.FacePlugin):
    models = GENDERAGE
    thread_safe = True  # one shared ONNX Runtime session; each batch keeps its own results
    store_slug = "genderage"  # one download serves both the age and the gender slug

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    @property
    def head(self) -> str:
        return str(self.model.options.get("head", "logits3")) if self.model else "logits3"

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session

        assert self.model is not None
        path = onnx_file(ctx, MXNET_INPUT)
        self.session = shared_session(path, ctx)
        self.norm = graph_normalisation(path, Normalisation(127.5, 127.5))
        self.input_name = self.session.get_inputs()[0].name
        self.device_description = describe_session(self.session)

    def crop(self, face: api.Face) -> np.ndarray:
        if self.head == "bins202":
            return arcface112(face)
        return centred(face, int(self.model.options.get("size", 96)) if self.model else 96).pixels

    def run(self, faces: Sequence[api.Face]) -> list[GenderAge]:
        """One model call for all ``faces``."""
        session = self.loaded(self.session)
        blob = to_blob(np.stack([self.crop(f) for f in faces]), self.norm)
        rows = session.run(None, {self.input_name: blob})[0]
        return [decode(row, self.head) for row in rows]

    def estimate(self, faces: Sequence[api.Face]) -> list[GenderAge]:
        """Cached per face: the second plugin of the pair reuses the first one's run."""
        assert self.model is not None
        key = f"insightface_genderage:{self.model.name}"
        batch = _LazyBatch(self, faces)
        return [face.crop(key, batch.result_for) for face in faces]


class AgeDetector(_GenderAgePlugin):
    """``{"age": {"low": a, "high": a, "probability": 1.0}}``: one age, not a range (as CompreFace)."""

    name = "insightface.AgeDetector"
    slug = "age"

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"age": {"low": r.age, "high": r.age, "probability": 1.0}} for r in self.estimate(faces)]


class GenderDetector(_GenderAgePlugin):
    """``{"gender": {"value": "male"|"female", "probability": softmax}}``."""

    name = "insightface.GenderDetector"
    slug = "gender"

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"gender": {"value": r.gender, "probability": r.gender_probability}} for r in self.estimate(faces)]
