"""``insightface.FaceDetector``: SCRFD and RetinaFace (and YuNet files of one's own) on ONNX Runtime."""
from __future__ import annotations

from typing import Any

import numpy as np

from facecore import plugin_api as api
from facecore.model_store import check_name
from plugins.insightface.blob import fit_input, fixed_input_size, to_blob
from plugins.insightface.boxes import to_faces
from plugins.insightface.catalogue import DETECTORS, local_onnx
from plugins.insightface.loading import onnx_file
from plugins.insightface.router import Decoder, decoder_for

#: Default thresholds by layout, measured on dlib-faces (docs/detectors.md): SCRFD scores run lower.
LAYOUT_THRESHOLDS = {"scrfd": 0.5}
#: Input of converted MXNet detectors (fully convolutional; images are fitted into it).
MXNET_INPUT = (1, 3, 640, 640)


class FaceDetector(api.FaceDetector):
    """Faces with 5 landmarks; the decoder is chosen from the graph's outputs (see :mod:`router`)."""

    name = "insightface.FaceDetector"
    models = DETECTORS
    thread_safe = True  # an ONNX Runtime session and a stateless decoder
    default_threshold = 0.8  # CompreFace's RetinaFace value; a model may set options["threshold"]

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        if model is not None and "threshold" in model.options:
            self.default_threshold = float(model.options["threshold"])
        self.session: Any = None
        self.decoder: Decoder | None = None

    @classmethod
    def custom_model(cls, name: str) -> api.ModelSpec:
        """An ONNX detector of one's own at ``MODELS_ROOT/insightface/detector/<name>/<name>.onnx``."""
        return local_onnx(check_name(name))

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None, "insightface.FaceDetector always has a model"
        self.session = open_session(onnx_file(ctx, MXNET_INPUT), ctx.device, detector_input=True)
        self.decoder = decoder_for(self.session, self.model.options)
        if "threshold" not in self.model.options:
            self.default_threshold = LAYOUT_THRESHOLDS.get(self.decoder.kind, type(self).default_threshold)
        self.fixed_size = fixed_input_size(self.session)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.device_description = describe_session(self.session)

    def warm_up(self, image: np.ndarray) -> None:
        self.detect(image, self.default_threshold)

    def detect(self, image: np.ndarray, threshold: float) -> list[api.DetectedFace]:
        decoder = self.loaded(self.decoder)
        height, width = image.shape[:2]
        canvas, scale = fit_input(image, self.fixed_size, decoder.multiple)
        outputs = self.session.run(self.output_names, {self.input_name: to_blob(canvas, decoder.norm)})
        found = decoder.decode(dict(zip(self.output_names, outputs)), canvas.shape[1], canvas.shape[0], threshold)
        if scale != 1.0:
            found = found.scaled(1.0 / scale)
        return to_faces(found, threshold, width, height)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.decoder is not None:
            info["layout"] = self.decoder.kind
        return info
