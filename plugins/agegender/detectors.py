"""``agegender.AgeDetector`` / ``agegender.GenderDetector``: CompreFace's rude_carnie classifiers.

As CompreFace: the detector's box cut at whole pixels and resized to 160x160 (the FaceNet crop, shared with
``facenet.Calculator`` through the face's crop cache), prewhitened, Inception-v3, softmax; the answer is the most
probable label and its probability. Age labels are the 8 Adience ranges, gender ``male``/``female``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from facecore import plugin_api as api
from plugins.facenet.calculator import SIZE, compreface_crop, prewhiten

AGE_RANGES = ((0, 2), (4, 6), (8, 12), (15, 20), (25, 32), (38, 43), (48, 53), (60, 100))
GENDERS = ("male", "female")
LICENCE = "rude_carnie (Apache-2.0, dpressel/rude-carnie); trained on Adience, whose terms apply"
CONVERTER_VERSION = "1"


def checkpoint_model(name: str, gdrive_id: str) -> api.ModelSpec:
    """rude_carnie's checkpoint ``model.ckpt-<step>`` from CompreFace's zip (named after the step)."""
    prefix = f"model.ckpt-{name}"
    files = tuple(api.ModelFile(filename, f"gdrive:{gdrive_id}", member=filename)
                  for filename in (f"{prefix}.index", f"{prefix}.data-00000-of-00001"))
    return api.ModelSpec(name, files, LICENCE, options={"checkpoint": f"{prefix}.index"})


def converted_network(spec: api.ModelSpec, index: Path, folder: Path) -> Path:
    """``<folder>/<model>.onnx``, built from the checkpoint once and reused while the checkpoint is unchanged."""
    from facecore.model_store import ModelNotAvailable
    from plugins.agegender.inception_v3 import rude_carnie_graph
    from srcext.cache import convert_if_needed, sha256_file
    from srcext.tensorflow import TensorflowConversionError, convert
    from srcext.tensorflow.checkpoint import checkpoint_prefix, read_checkpoint

    data = checkpoint_prefix(index).with_name(checkpoint_prefix(index).name + ".data-00000-of-00001")
    target = folder / f"{spec.name}.onnx"
    record = {"converter": "plugins.agegender", "converter_version": CONVERTER_VERSION, "size": SIZE,
              "index_sha256": sha256_file(index), "data_sha256": sha256_file(data)}

    def build() -> bytes:
        writer = rude_carnie_graph(read_checkpoint(index), SIZE)
        return convert(writer.nodes, {"images": [-1, SIZE, SIZE, 3]}, ["output"]).SerializeToString()

    try:
        convert_if_needed(target, record, build)
    except TensorflowConversionError as error:
        raise ModelNotAvailable(spec.name, index.name, f"checkpoint conversion failed: {error}") from error
    return target


class _RudeCarnie(api.FacePlugin):
    """The network of one checkpoint, run once over all faces of an image."""

    labels: ClassVar[tuple[Any, ...]] = ()
    thread_safe = True  # an ONNX Runtime session; crops are cached per face

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None
        files = ctx.models.files()
        path = converted_network(self.model, files[self.model.options["checkpoint"]], ctx.models.folder)
        self.session = open_session(path, ctx.device)
        self.device_description = describe_session(self.session)

    def probabilities(self, faces: Sequence[api.Face]) -> np.ndarray:
        session = self.loaded(self.session)
        if not faces:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        batch = np.stack([prewhiten(compreface_crop(face)) for face in faces]).astype(np.float32)
        logits = np.asarray(session.run(None, {"images": batch})[0], dtype=np.float64)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def best(self, faces: Sequence[api.Face]) -> list[tuple[Any, float]]:
        return [(self.labels[int(row.argmax())], float(row.max())) for row in self.probabilities(faces)]


class AgeDetector(_RudeCarnie):
    """``{"age": {"low", "high", "probability"}}``: the most probable of Adience's 8 age ranges."""

    name = "agegender.AgeDetector"
    slug = "age"
    labels = AGE_RANGES
    models = (checkpoint_model("22801", "1PxK72O-NROEz8pUGDDFRDYF4AABbvWiC"),)

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"age": {"low": low, "high": high, "probability": p}} for (low, high), p in self.best(faces)]


class GenderDetector(_RudeCarnie):
    """``{"gender": {"value": "male" | "female", "probability"}}``."""

    name = "agegender.GenderDetector"
    slug = "gender"
    labels = GENDERS
    models = (checkpoint_model("21936", "1j9B76U3b4_F9e8-OKlNdOBQKa2ziGe_-"),)

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"gender": {"value": value, "probability": p}} for value, p in self.best(faces)]
