"""``facenet.facemask.MaskDetector``: CompreFace's Keras mask classifier, without TensorFlow or Keras.

As CompreFace: the 160x160 FaceNet crop (float RGB in [0, 1], shared through the face's crop cache) resized to
100x100 with cubic interpolation, the Keras model's softmax over ``without_mask, with_mask,
mask_weared_incorrect``. The model is the SavedModel directory of CompreFace's zip; the store keeps its three
files (the graph's object metadata and the variables), and ``srcext.keras`` converts it to ONNX on first use.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from facecore import plugin_api as api
from plugins.compreface_mask import LABELS, LICENCE, OnnxMaskClassifier
from plugins.facenet.calculator import compreface_crop

INPUT_SIZE = 100
CONVERTER_VERSION = "1"
__all__ = ["LABELS", "MaskDetector"]
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


class MaskDetector(OnnxMaskClassifier):
    """``{"mask": {"value": "without_mask" | "with_mask" | "mask_weared_incorrect", "probability"}}``."""

    name = "facenet.facemask.MaskDetector"
    models = (savedmodel_zip("inception_v3_on_mafa_kaggle123", "1nhmv4Pd8nnV8XHv6vlf6RCpwQLow78zS"),)

    def onnx_model(self, ctx: api.LoadContext) -> Path:
        assert self.model is not None
        return converted_keras(self.model, ctx.models.files(), ctx.models.folder)

    def batch(self, faces: Sequence[api.Face]) -> np.ndarray:
        return np.stack([cubic_100(face) for face in faces])
