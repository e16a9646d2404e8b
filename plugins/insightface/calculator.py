"""``insightface.Calculator``: ArcFace-style embeddings of 112x112 aligned faces, all faces in one run."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api
from facecore.model_store import ModelNotAvailable, check_name
from plugins.insightface.blob import Normalisation, graph_normalisation, to_blob
from plugins.insightface.catalogue import CALCULATORS, PACK_COEFFICIENTS, local_onnx
from plugins.insightface.crops import arcface112
from plugins.insightface.loading import onnx_file

#: beside ``<name>.onnx``: ``{"similarity_coefficients": [c0, c1]}``
COEFFICIENTS_SUFFIX = ".coefficients.json"
MXNET_INPUT = (1, 3, 112, 112)  # the converter makes the batch axis dynamic
ARCFACE_NORM = Normalisation(127.5, 127.5)


def own_coefficients(spec: api.ModelSpec, onnx_path: Path) -> api.ModelSpec:
    """A model of one's own with ``<name>.coefficients.json`` beside it (``training.export --lfw`` writes it)
    takes the similarity coefficients fitted for it there instead of the borrowed ones."""
    sidecar = onnx_path.with_name(onnx_path.stem + COEFFICIENTS_SUFFIX)
    if not sidecar.is_file():
        return spec
    try:
        c0, c1 = json.loads(sidecar.read_text())["similarity_coefficients"]
        coefficients = (float(c0), float(c1))
    except (ValueError, KeyError, TypeError) as error:
        raise ModelNotAvailable(spec.name, sidecar.name, f"unreadable similarity coefficients: {error}") from error
    return dataclasses.replace(spec, similarity_coefficients=coefficients)


class Calculator(api.Calculator):
    """Raw (not unit-normalised) embeddings, as CompreFace returned them; Java normalises before comparing."""

    name = "insightface.Calculator"
    models = CALCULATORS
    thread_safe = True  # an ONNX Runtime session

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None
        self.norm = ARCFACE_NORM

    @classmethod
    def custom_model(cls, name: str) -> api.ModelSpec:
        """An ArcFace-style ONNX file of one's own (112x112 input) under ``insightface/calculator/<name>/``."""
        spec = local_onnx(check_name(name))
        return api.ModelSpec(spec.name, spec.files, spec.licence, PACK_COEFFICIENTS, spec.options)

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None, "insightface.Calculator always has a model"
        path = onnx_file(ctx, MXNET_INPUT)
        if self.model.options.get("format") == "onnx" and self.model.files[0].source == "local":
            self.model = own_coefficients(self.model, path)
        self.session = open_session(path, ctx.device)
        self.norm = graph_normalisation(path, ARCFACE_NORM)
        self.input_name = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None
        self.device_description = describe_session(self.session)

    def embed(self, faces: Sequence[api.Face]) -> np.ndarray:
        session = self.loaded(self.session)
        if not faces:
            return np.zeros((0, 0), dtype=np.float32)
        blob = to_blob(np.stack([arcface112(face) for face in faces]), self.norm)
        if self.fixed_batch in (None, len(faces)):
            return np.asarray(session.run(None, {self.input_name: blob})[0], dtype=np.float32)
        # A graph exported with a fixed batch of 1 cannot take the stack in one call.
        rows = [session.run(None, {self.input_name: blob[i:i + 1]})[0] for i in range(len(faces))]
        return np.concatenate(rows).astype(np.float32)
