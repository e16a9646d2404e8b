"""``facenet.facemask.MaskDetector``: CompreFace's Keras mask classifier, without TensorFlow or Keras.

As CompreFace: the 160x160 FaceNet crop (float RGB in [0, 1], shared through the face's crop cache) resized to
100x100 with cubic interpolation, the Keras model's softmax over ``without_mask, with_mask,
mask_weared_incorrect``. The model is the SavedModel directory of CompreFace's zip; the store keeps its three
files (the graph's object metadata and the variables), and ``srcext.keras`` converts it to ONNX on first use.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api
from plugins.facenet.calculator import compreface_crop

LABELS = ("without_mask", "with_mask", "mask_weared_incorrect")
INPUT_SIZE = 100
CONVERTER_VERSION = "1"
LICENCE = "CompreFace (Apache-2.0); trained on MAFA and Kaggle mask datasets, whose terms apply"
SAVEDMODEL_FILES = {"saved_model.pb": "saved_model.pb", "variables.index": "variables/variables.index",
                    "variables.data-00000-of-00001": "variables/variables.data-00000-of-00001"}


def savedmodel_zip(name: str, gdrive_id: str) -> api.ModelSpec:
    files = tuple(api.ModelFile(filename, f"gdrive:{gdrive_id}", member=member)
                  for filename, member in SAVEDMODEL_FILES.items())
    return api.ModelSpec(name, files, LICENCE)


def converted_keras(spec: api.ModelSpec, files: dict[str, Path], folder: Path) -> Path:
    """``<folder>/<model>.onnx`` from the SavedModel's files, built once and reused while they are unchanged."""
    from facecore.model_store import ModelNotAvailable
    from srcext.cache import convert_if_needed, sha256_file
    from srcext.keras import convert_model, read_keras_savedmodel
    from srcext.tensorflow import TensorflowConversionError

    target = folder / f"{spec.name}.onnx"
    record = {"converter": "srcext.keras", "converter_version": CONVERTER_VERSION,
              **{f"{name}_sha256": sha256_file(path) for name, path in sorted(files.items())}}

    def build() -> bytes:
        model = read_keras_savedmodel(files["saved_model.pb"].parent, files["variables.index"])
        return convert_model(model).SerializeToString()

    try:
        convert_if_needed(target, record, build)
    except TensorflowConversionError as error:
        raise ModelNotAvailable(spec.name, "saved_model.pb", f"Keras->ONNX conversion failed: {error}") from error
    return target


def cubic_100(face: api.Face) -> np.ndarray:
    import cv2

    return np.asarray(cv2.resize(compreface_crop(face), (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_CUBIC),
                      dtype=np.float32)


class MaskDetector(api.FacePlugin):
    """``{"mask": {"value": "without_mask" | "with_mask" | "mask_weared_incorrect", "probability"}}``."""

    name = "facenet.facemask.MaskDetector"
    slug = "mask"
    models = (savedmodel_zip("inception_v3_on_mafa_kaggle123", "1nhmv4Pd8nnV8XHv6vlf6RCpwQLow78zS"),)
    requires_detection = True  # CompreFace leaves mask out of detect_faces=false answers
    thread_safe = True  # an ONNX Runtime session

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None
        path = converted_keras(self.model, ctx.models.files(), ctx.models.folder)
        self.session = open_session(path, ctx.device)
        self.input_name = self.session.get_inputs()[0].name
        self.device_description = describe_session(self.session)

    def probabilities(self, faces: Sequence[api.Face]) -> np.ndarray:
        session = self.loaded(self.session)
        if not faces:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        batch = np.stack([cubic_100(face) for face in faces])
        return np.asarray(session.run(None, {self.input_name: batch})[0], dtype=np.float32)

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"mask": {"value": LABELS[int(row.argmax())], "probability": float(row.max())}}
                for row in self.probabilities(faces)]
