"""Masked test photos: an opaque mask shape drawn by the test over the lower face of a real photo."""
from __future__ import annotations

import numpy as np

from facecore.plugin_api import Face

#: Colours of the drawn masks (RGB): surgical white, surgical blue, black cloth.
MASK_COLOURS = ((235, 235, 240), (120, 170, 215), (25, 25, 30))


def draw_mask(image: np.ndarray, face: Face, colour: tuple[int, int, int]) -> np.ndarray:
    """A copy of ``image`` with a five-cornered opaque mask from just above the nose tip to under the chin."""
    import cv2

    box, nose = face.detection.box, np.asarray(face.detection.landmarks)[2]
    width, height = box.width, box.height
    top = nose[1] - 0.1 * height
    centre = (box.x_min + box.x_max) / 2
    corners = np.array([[box.x_min + 0.05 * width, top], [box.x_max - 0.05 * width, top],
                        [box.x_max - 0.1 * width, box.y_max + 0.02 * height], [centre, box.y_max + 0.1 * height],
                        [box.x_min + 0.1 * width, box.y_max + 0.02 * height]], dtype=np.int32)
    out = image.copy()
    cv2.fillPoly(out, [corners], colour)
    return out


def draw_eye_band(image: np.ndarray, face: Face, colour: tuple[int, int, int]) -> np.ndarray:
    """A control: an opaque band of the same colour over the eyes instead (sunglasses, not a mask)."""
    import cv2

    box, eyes = face.detection.box, np.asarray(face.detection.landmarks)[:2]
    y = eyes[:, 1].mean()
    out = image.copy()
    cv2.rectangle(out, (int(box.x_min), int(y - 0.12 * box.height)), (int(box.x_max), int(y + 0.1 * box.height)),
                  colour, thickness=-1)
    return out
