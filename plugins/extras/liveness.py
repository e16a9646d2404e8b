"""``extras.LivenessDetector`` (slug ``liveness``): Silent-Face presentation-attack detection.

``{"liveness": {"value": "real" | "spoof", "probability": p}}``. One signal among others, not a security
guarantee: a 2-D model judges texture and context of one photo, and a good print, screen or mask it was
not trained on can pass (README, "Liveness").
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar, Sequence

from facecore import plugin_api as api
from facecore.model_store import ModelNotAvailable
from plugins.extras.catalogue import MINIFASNET
from plugins.extras.liveness_model import LivenessModel


class LivenessDetector(api.FacePlugin):
    name = "extras.LivenessDetector"
    slug: ClassVar[str] = "liveness"
    models = MINIFASNET
    requires_detection = True  # the models look at the face's surroundings (up to 4 box sides)
    thread_safe = True  # ONNX Runtime sessions; crops are made per call

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.liveness: LivenessModel | None = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from srcext.minifasnet import MinifasnetConversionError, convert_cached

        assert self.model is not None
        files = ctx.models.files()
        try:
            onnx = [(convert_cached(files[name]), float(scale)) for name, scale in self.model.options["scales"]]
        except MinifasnetConversionError as error:
            raise ModelNotAvailable(self.model.name, self.model.files[0].filename, str(error)) from error
        self.liveness = LivenessModel.open(onnx, ctx.device)
        self.device_description = describe_session(self.liveness.sessions[0][0])

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        liveness = self.loaded(self.liveness)
        by_image: dict[int, list[int]] = defaultdict(list)  # a batch may hold faces of several images
        for index, face in enumerate(faces):
            by_image[id(face.image)].append(index)
        results: list[dict[str, Any]] = [{} for _ in faces]
        for indices in by_image.values():
            image = faces[indices[0]].image
            for index, verdict in zip(indices, liveness.predict(image, [faces[i].detection.box for i in indices])):
                results[index] = {"liveness": {"value": verdict.value, "probability": verdict.probability}}
        return results
