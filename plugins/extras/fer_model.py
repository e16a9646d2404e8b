"""The FER2013 mini-XCEPTION classifiers (oarriaga/face_classification): expression and gender.

Both take a 64x64 grey face scaled to -1..1 ((x / 255 - 0.5) * 2), as their authors trained them. The crop is
the face box grown by a margin (a share of the box's width and height on each side: the authors add fixed
pixel offsets around OpenCV Haar boxes, which are looser than the detectors' boxes here), clipped to the image
and resized to a square; the models were trained on such stretched crops (FER2013's 48x48 faces, IMDB faces).
The Keras HDF5 files are converted to ONNX once by ``srcext.keras`` (no Keras or TensorFlow needed).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore.plugin_api import BoundingBox

INPUT_SIDE = 64
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
GENDERS = ("female", "male")  # the model's "woman", "man", in CompreFace's words


@dataclass(frozen=True)
class Margin:
    """Share of the box's width (``x``) and height (``y``) added on each side."""

    x: float
    y: float


def grey_crop(image_rgb: np.ndarray, box: BoundingBox, margin: Margin) -> np.ndarray:
    """The 64x64 float32 crop in -1..1 of the box grown by ``margin`` (clipped to the image)."""
    import cv2

    height, width = image_rgb.shape[:2]
    grow_x, grow_y = box.width * margin.x, box.height * margin.y
    x0, y0 = max(int(box.x_min - grow_x), 0), max(int(box.y_min - grow_y), 0)
    x1, y1 = min(int(np.ceil(box.x_max + grow_x)), width), min(int(np.ceil(box.y_max + grow_y)), height)
    patch = image_rgb[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image_rgb
    grey = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA)
    return (grey.astype(np.float32) / 255.0 - 0.5) * 2.0


@dataclass
class FerClassifier:
    """One converted mini-XCEPTION: ``scores`` runs it once over all crops -> (N, classes) softmax rows."""

    session: Any
    margin: Margin

    @classmethod
    def open(cls, onnx_path: Path, margin: Margin, device: Any) -> "FerClassifier":
        from facecore.onnx_session import open_session

        return cls(open_session(onnx_path, device), margin)

    def scores(self, images: Sequence[np.ndarray], boxes: Sequence[BoundingBox]) -> np.ndarray:
        blob = np.stack([grey_crop(image, box, self.margin) for image, box in zip(images, boxes)])[..., None]
        return np.asarray(self.session.run(None, {self.session.get_inputs()[0].name: blob})[0], dtype=np.float64)
