"""Boxes, shape predictors and face chips: the dlib geometry the family's plugins share.

dlib rectangles are inclusive (``right`` is the last pixel column inside the box); our
:class:`BoundingBox` is exclusive, so ``x_max = right + 1``. Shapes and chips are cached on the
:class:`Face` under keys named here, so the calculator, age and gender plugins run the 5-point
predictor once per face, and landmarks/pose run the 68-point predictor once per face.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from facecore.plugin_api import BoundingBox, Face

SHAPE5_KEY = "dlib_shape5"
SHAPE68_KEY = "dlib_shape68"

# iBUG 68-point indices (0-based): the two eyes' six contour points, the nose tip, the mouth corners.
EYE_A = slice(36, 42)
EYE_B = slice(42, 48)
NOSE_TIP = 30
MOUTH_A = 48
MOUTH_B = 54


@functools.lru_cache(maxsize=None)
def load_shape_predictor(path: str) -> Any:
    """One loaded predictor per file, shared by every plugin that uses it (the 68-point one is 100 MB)."""
    import dlib

    return dlib.shape_predictor(path)


def shape_predictor(path: Path) -> Any:
    return load_shape_predictor(str(Path(path).resolve()))


def box_to_rect(box: BoundingBox) -> Any:
    """Our exclusive float box -> dlib's inclusive integer rectangle."""
    import dlib

    left, top = int(round(box.x_min)), int(round(box.y_min))
    right, bottom = int(round(box.x_max)) - 1, int(round(box.y_max)) - 1
    return dlib.rectangle(left, top, max(right, left), max(bottom, top))


def rect_to_box(rect: Any) -> BoundingBox:
    """dlib's inclusive rectangle -> our exclusive box."""
    return BoundingBox(float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1))


def shape_points(shape: Any) -> np.ndarray:
    """A dlib ``full_object_detection`` as an (N, 2) float array of pixel coordinates."""
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], dtype=np.float64)


def face_shape(face: Face, predictor: Any, key: str) -> Any:
    """The predictor's shape for ``face`` (run on its detection box), cached on the face under ``key``."""
    return face.crop(key, lambda f: predictor(f.image, box_to_rect(f.detection.box)))


def face_chip(face: Face, shape5: Any, size: int, padding: float) -> np.ndarray:
    """dlib's aligned chip of ``face`` (size x size RGB), cached per size and padding."""
    import dlib

    key = f"dlib_chip{size}_pad{padding:g}"
    return face.crop(key, lambda f: np.ascontiguousarray(dlib.get_face_chip(f.image, shape5, size=size,
                                                                            padding=padding)))


def five_from_68(points68: np.ndarray) -> np.ndarray:
    """The 5 contract points from iBUG's 68: eye centres, nose tip, mouth corners, left (smaller x) first.

    dlib's own 5-point model is no substitute: it marks the two corners of each eye and the base of the
    nose, and nothing on the mouth.
    """
    points = np.asarray(points68, dtype=np.float64).reshape(68, 2)
    eyes = sorted([points[EYE_A].mean(axis=0), points[EYE_B].mean(axis=0)], key=lambda p: p[0])
    mouth = sorted([points[MOUTH_A], points[MOUTH_B]], key=lambda p: p[0])
    return np.array([eyes[0], eyes[1], points[NOSE_TIP], mouth[0], mouth[1]], dtype=np.float64)
