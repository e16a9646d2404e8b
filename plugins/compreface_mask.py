"""What CompreFace's two mask plugins share: the label order, the JSON they answer, and one ONNX Runtime session
over a converted classifier. Each family's plugin says only where its ONNX file comes from and how it crops.

Answer of both (``facenet.facemask.MaskDetector``, ``insightface.facemask.MaskDetector``): slug ``mask``,
``{"mask": {"value": "without_mask" | "with_mask" | "mask_weared_incorrect", "probability": p}}``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api

#: the order of the classifiers' three outputs in both of CompreFace's mask plugins
LABELS = ("without_mask", "with_mask", "mask_weared_incorrect")
LICENCE = "CompreFace (Apache-2.0); trained on MAFA and Kaggle mask datasets, whose terms apply"


class OnnxMaskClassifier(api.FacePlugin):
    """A 3-class mask classifier run by ONNX Runtime; subclasses give :meth:`onnx_model` and :meth:`batch`."""

    slug = "mask"
    requires_detection = True  # CompreFace leaves mask out of detect_faces=false answers
    thread_safe = True  # an ONNX Runtime session

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    def onnx_model(self, ctx: api.LoadContext) -> Path:
        """The converted model (built on first use, reused after), whose single output is the 3 probabilities."""
        raise NotImplementedError

    def batch(self, faces: Sequence[api.Face]) -> np.ndarray:
        """The model's input for ``faces``, one row per face."""
        raise NotImplementedError

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None
        self.session = open_session(self.onnx_model(ctx), ctx.device)
        self.input_name = self.session.get_inputs()[0].name
        self.device_description = describe_session(self.session)

    def probabilities(self, faces: Sequence[api.Face]) -> np.ndarray:
        session = self.loaded(self.session)
        if not faces:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return np.asarray(session.run(None, {self.input_name: self.batch(faces)})[0], dtype=np.float32)

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"mask": {"value": LABELS[int(row.argmax())], "probability": float(row.max())}}
                for row in self.probabilities(faces)]
