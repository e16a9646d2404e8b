"""``insightface.facemask.MaskDetector``: CompreFace's gluon mask classifiers, without MXNet.

CompreFace builds model_zoo's ``mobilenet_v2_1_0`` or ``resnet18_v1`` with 3 classes, loads the parameters file
of its zip, and feeds the 112x112 aligned InsightFace crop through gluon's ``Resize(224)`` (bilinear),
``ToTensor`` (RGB / 255, channels first) and ``Normalize`` (ImageNet mean and std), then takes the softmax.
Here the network is rebuilt from the parameters by :mod:`srcext.mxnet.gluon_zoo` and converted to ONNX (softmax
included) beside the parameters on first use; the crop is the family's shared ArcFace crop.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from facecore import plugin_api as api
from facecore.model_store import ModelNotAvailable
from plugins.compreface_mask import LICENCE, OnnxMaskClassifier
from plugins.insightface.crops import arcface112

INPUT_SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def gluon_params(name: str, gdrive_id: str, architecture: str, params_file: str) -> api.ModelSpec:
    """A CompreFace zip holding one gluon parameters file (found at its root or under one folder)."""
    return api.ModelSpec(name, (api.ModelFile(params_file, f"gdrive:{gdrive_id}", member=params_file),), LICENCE,
                         options={"architecture": architecture, "params": params_file})


def classifier_input(crop: np.ndarray) -> np.ndarray:
    """gluon's Resize(224) + ToTensor + Normalize of one RGB crop: a 3 x 224 x 224 float32 array."""
    import cv2

    resized = cv2.resize(np.asarray(crop, dtype=np.float32), (INPUT_SIZE, INPUT_SIZE),
                         interpolation=cv2.INTER_LINEAR)
    return ((resized / 255.0 - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).astype(np.float32)


class MaskDetector(OnnxMaskClassifier):
    """``{"mask": {"value": "without_mask" | "with_mask" | "mask_weared_incorrect", "probability"}}``."""

    name = "insightface.facemask.MaskDetector"
    models = (
        # the zip CompreFace downloads is mobilenetv2_1_0.zip holding mobilenetv2_1_0.params
        gluon_params("mobilenet_v2_on_mafa_kaggle123", "1DYUIroNXkuYKQypYtCxQvAItLnrTTt5E", "mobilenet_v2_1_0",
                     "mobilenetv2_1_0.params"),
        gluon_params("resnet18_on_mafa_kaggle123", "1A3fNrvgrJqMw54cWRj47LNFNnFvTjmdj", "resnet18_v1",
                     "resnet18_v1.params"),
    )

    def onnx_model(self, ctx: api.LoadContext) -> Path:
        from srcext.mxnet import MxnetConversionError, convert_gluon_cached

        assert self.model is not None
        params = ctx.models.file(str(self.model.options["params"]))
        try:
            return convert_gluon_cached(str(self.model.options["architecture"]), params,
                                        ctx.models.folder / f"{self.model.name}.onnx", INPUT_SIZE, softmax=True)
        except MxnetConversionError as error:
            raise ModelNotAvailable(self.model.name, params.name, f"gluon->ONNX conversion failed: {error}") \
                from error

    def batch(self, faces: Sequence[api.Face]) -> np.ndarray:
        return np.stack([classifier_input(arcface112(face)) for face in faces])
