"""Face crops of this family, cached on the :class:`Face` so that plugins needing the same one share it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecore.align import align_5points, resize_whole
from facecore.plugin_api import Face

ARCFACE_KEY = "arcface112"


def arcface112(face: Face) -> np.ndarray:
    """The 112x112 ArcFace crop: 5-point similarity alignment, or the whole image when there is no detection."""
    def make(f: Face) -> np.ndarray:
        if f.whole_image or f.detection.landmarks is None:
            return resize_whole(f.image, 112)
        return align_5points(f.image, np.asarray(f.detection.landmarks, dtype=np.float64), 112)
    return face.crop(ARCFACE_KEY, make)


@dataclass(frozen=True)
class CentredCrop:
    """A square crop around the box centre, 1.5 box sides wide, and the 2x3 matrix that made it."""

    pixels: np.ndarray
    matrix: np.ndarray

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) crop coordinates back to image pixels (per axis: a whole-image crop of a
        non-square image is scaled differently in x and y)."""
        scale = np.diag(self.matrix[:, :2])
        return (np.asarray(points, dtype=np.float64) - self.matrix[:, 2]) / scale


def centred(face: Face, size: int, compreface_box: bool = False) -> CentredCrop:
    """The box-centred crop of ``size`` pixels used by InsightFace's attribute and 106-point models. A whole-image
    face (``detect_faces=false``) is resized to the crop. With ``compreface_box`` (CompreFace's 106-point plugin),
    the box is CompreFace's ``BoundingBoxDTO``: integer coordinates, centre by integer division, and a whole-image
    face's box (the image) cropped like any box, the image in the middle 2/3 of the crop."""
    def make(f: Face) -> CentredCrop:
        import cv2

        box = f.detection.box
        if f.whole_image and not compreface_box:
            height, width = f.image.shape[:2]
            scale_x, scale_y = size / width, size / height
            matrix = np.array([[scale_x, 0.0, 0.0], [0.0, scale_y, 0.0]])
            return CentredCrop(resize_whole(f.image, size), matrix)
        if compreface_box:
            x_min, y_min, x_max, y_max = (int(v) for v in (box.x_min, box.y_min, box.x_max, box.y_max))
            side = max(x_max - x_min, y_max - y_min, 1) * 1.5
            cx, cy = float((x_min + x_max) // 2), float((y_min + y_max) // 2)
        else:
            side = max(box.width, box.height, 1.0) * 1.5
            cx, cy = (box.x_min + box.x_max) / 2, (box.y_min + box.y_max) / 2
        scale = size / side
        matrix = np.array([[scale, 0.0, size / 2 - cx * scale], [0.0, scale, size / 2 - cy * scale]])
        pixels = cv2.warpAffine(f.image, matrix, (size, size), borderValue=0.0)
        return CentredCrop(pixels, matrix)
    return face.crop(f"{'compreface' if compreface_box else 'centred'}{size}", make)
