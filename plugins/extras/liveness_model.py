"""Silent-Face liveness: two MiniFASNets on two crops of the face's neighbourhood, softmax averaged.

Preprocessing as the authors run it: the face box enlarged about its centre by the model's scale (2.7 for
MiniFASNetV2, 4.0 for MiniFASNetV1SE), shrunk when it would not fit and shifted back inside the image,
cut out, resized to 80x80 and given as BGR floats 0..255. Each model's 3 logits are softmaxed, the two are
averaged, and class 1 is a real face.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore.plugin_api import BoundingBox

INPUT_SIDE = 80
REAL_CLASS = 1


@dataclass(frozen=True)
class Liveness:
    """The averaged verdict: ``real`` when class 1 wins, with that class's averaged probability."""

    value: str
    probability: float
    real_probability: float


def context_box(box: BoundingBox, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The ``scale`` times larger box about ``box``'s centre, kept inside the image: (x0, y0, x1, y1) inclusive."""
    box_w, box_h = max(box.width, 1.0), max(box.height, 1.0)
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    centre_x, centre_y = box.x_min + box_w / 2, box.y_min + box_h / 2
    x0, y0 = centre_x - new_w / 2, centre_y - new_h / 2
    x1, y1 = centre_x + new_w / 2, centre_y + new_h / 2
    if x0 < 0:
        x1, x0 = x1 - x0, 0.0
    if y0 < 0:
        y1, y0 = y1 - y0, 0.0
    if x1 > width - 1:
        x0, x1 = x0 - (x1 - width + 1), float(width - 1)
    if y1 > height - 1:
        y0, y1 = y0 - (y1 - height + 1), float(height - 1)
    return int(x0), int(y0), int(x1), int(y1)


def context_crop(image_rgb: np.ndarray, box: BoundingBox, scale: float) -> np.ndarray:
    """The 80x80 BGR float32 crop one model sees (HWC)."""
    import cv2

    height, width = image_rgb.shape[:2]
    x0, y0, x1, y1 = context_box(box, scale, width, height)
    patch = image_rgb[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1, ::-1]
    return cv2.resize(np.ascontiguousarray(patch), (INPUT_SIDE, INPUT_SIDE)).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def verdict(mean_probabilities: np.ndarray) -> Liveness:
    """One row of averaged class probabilities -> :class:`Liveness` (the winning class's probability)."""
    label = int(mean_probabilities.argmax())
    real = float(mean_probabilities[REAL_CLASS])
    return Liveness("real" if label == REAL_CLASS else "spoof", float(mean_probabilities[label]), real)


@dataclass
class LivenessModel:
    """The two ONNX sessions and their crop scales; ``predict`` runs each once over all faces."""

    sessions: Sequence[tuple[Any, float]]

    @classmethod
    def open(cls, models: Sequence[tuple[Path, float]], device: Any) -> "LivenessModel":
        from facecore.onnx_session import open_session

        return cls([(open_session(path, device), scale) for path, scale in models])

    def probabilities(self, image_rgb: np.ndarray, boxes: Sequence[BoundingBox]) -> np.ndarray:
        """(N, 3) class probabilities averaged over the models."""
        total = np.zeros((len(boxes), 3))
        for session, scale in self.sessions:
            crops = np.stack([context_crop(image_rgb, box, scale) for box in boxes]).transpose(0, 3, 1, 2)
            logits = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(crops)})[0]
            total += softmax(np.asarray(logits, dtype=np.float64))
        return total / len(self.sessions)

    def predict(self, image_rgb: np.ndarray, boxes: Sequence[BoundingBox]) -> list[Liveness]:
        return [verdict(row) for row in self.probabilities(image_rgb, boxes)]
