"""``example.brightness.BrightnessEstimator``: the mean luma of each face box, from weights in a model file."""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from facecore import Face, FacePlugin, JSONValue, LoadContext, ModelFile, ModelSpec, check_name

LUMA = ModelSpec(
    "bt601",
    (ModelFile("luma.json", "package:facecore_example/luma.json",
               sha256="a12f528ab18f9d7802839983bb97f7442ca9e7f1714c94aa25321c137950c6a5"),),
    licence="Apache-2.0",
)


class BrightnessEstimator(FacePlugin):
    """``{"brightness": 0..255}`` per face: R, G, B weighted by the model's coefficients, averaged over the box."""

    name = "example.brightness.BrightnessEstimator"
    slug = "brightness"
    models = (LUMA,)
    thread_safe = True  # reads its coefficients, writes nothing

    def __init__(self, model: ModelSpec | None = None) -> None:
        super().__init__(model)
        self.weights: np.ndarray | None = None

    @classmethod
    def custom_model(cls, name: str) -> ModelSpec:
        """``@name`` selects coefficients of one's own: MODELS_ROOT/example/brightness/<name>/luma.json."""
        return ModelSpec(check_name(name), (ModelFile("luma.json", "local"),), licence="the user's own")

    def load(self, ctx: LoadContext) -> None:
        coefficients = json.loads(ctx.models.file("luma.json").read_text())
        self.weights = np.array([coefficients["r"], coefficients["g"], coefficients["b"]], dtype=np.float64)

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        weights = self.loaded(self.weights)
        results: list[dict[str, JSONValue]] = []
        for face in faces:
            box = face.detection.box.clipped(face.image.shape[1], face.image.shape[0])
            pixels = face.image[int(box.y_min):int(box.y_max), int(box.x_min):int(box.x_max)]
            mean = float((pixels.reshape(-1, 3) @ weights).mean()) if pixels.size else 0.0
            results.append({"brightness": round(mean, 2)})
        return results

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["coefficients"] = None if self.weights is None else self.weights.tolist()
        return info
