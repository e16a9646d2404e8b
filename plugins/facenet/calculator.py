"""``facenet.Calculator``: FaceNet's 512-d embeddings, computed as CompreFace's core did, without TensorFlow.

CompreFace crops the detector's box, resizes it to 160x160 (float RGB in [0, 1]), prewhitens each crop and
runs the frozen graph with ``phase_train = False``; the graph L2-normalises. The same crop gives the same
embedding (within float32 rounding), so embeddings CompreFace stored stay valid.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from facecore import plugin_api as api
from plugins.facenet.tf_models import CALCULATORS, converted

SIZE = 160
GRAPH_INPUTS = {"input": [-1, SIZE, SIZE, 3]}
GRAPH_OUTPUTS = ["embeddings"]
GRAPH_CONSTANTS = {"phase_train": False}


def resize_like_skimage(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 RGB -> float64 in [0, 1], ``size`` x ``size``, as ``skimage.transform.resize`` does by default:
    a Gaussian prefilter (sigma = (factor - 1) / 2) when shrinking, then bilinear sampling at pixel centres."""
    import cv2

    pixels = np.asarray(image, dtype=np.float64) / 255.0
    height, width = pixels.shape[:2]
    if (height, width) == (size, size):
        return pixels
    sigmas = [max(0.0, (height / size - 1) / 2), max(0.0, (width / size - 1) / 2)]
    if max(sigmas) > 0:
        radii = [int(4.0 * sigma + 0.5) for sigma in sigmas]  # skimage's truncate=4
        kernel = (2 * radii[1] + 1, 2 * radii[0] + 1)
        pixels = np.asarray(cv2.GaussianBlur(pixels, kernel, sigmaX=sigmas[1] or 1e-9, sigmaY=sigmas[0] or 1e-9,
                                             borderType=cv2.BORDER_REFLECT_101), dtype=np.float64)
    return np.asarray(cv2.resize(pixels, (size, size), interpolation=cv2.INTER_LINEAR), dtype=np.float64)


def compreface_crop(face: api.Face) -> np.ndarray:
    """The detector's box, cut at whole pixels (CompreFace's boxes are ints), as a 160x160 float crop."""
    def make(f: api.Face) -> np.ndarray:
        height, width = f.image.shape[:2]
        box = f.detection.box.clipped(width, height)
        left, top, right, bottom = (int(v) for v in (box.x_min, box.y_min, box.x_max, box.y_max))
        part = f.image[top:max(bottom, top + 1), left:max(right, left + 1)]
        return resize_like_skimage(part, SIZE)
    return face.crop("facenet160", make)


def prewhiten(crop: np.ndarray) -> np.ndarray:
    """Per crop: subtract the mean, divide by the standard deviation (at least 1 / sqrt(pixel count))."""
    mean = crop.mean()
    std = max(float(crop.std()), 1.0 / np.sqrt(crop.size))
    return (crop - mean) / std


class Calculator(api.Calculator):
    """FaceNet Inception-ResNet-v1 (``20180402-114759`` by default, CompreFace's default build)."""

    name = "facenet.Calculator"
    models = CALCULATORS
    thread_safe = True  # an ONNX Runtime session; crops are cached per face, faces per request

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.session: Any = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from facecore.onnx_session import open_session

        assert self.model is not None, "facenet.Calculator always has a model"
        path = converted(self.model, ctx.models.file(self.model.options["graph"]), GRAPH_INPUTS, GRAPH_OUTPUTS,
                         GRAPH_CONSTANTS)
        self.session = open_session(path, ctx.device)
        self.device_description = describe_session(self.session)

    def embed(self, faces: Sequence[api.Face]) -> np.ndarray:
        session = self.loaded(self.session)
        if not faces:
            return np.zeros((0, 512), dtype=np.float32)
        batch = np.stack([prewhiten(compreface_crop(face)) for face in faces]).astype(np.float32)
        return np.asarray(session.run(None, {"input": batch})[0], dtype=np.float32)
