"""Helpers for the extras family's tests: a store holding the shared weights, real photos, detected faces."""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from facecore.device import Device
from facecore.model_store import ModelStore
from facecore.plugin_api import Face, Plugin
from tests.shared_data import shared_path

PluginT = TypeVar("PluginT", bound=Plugin)


def loaded_from_shared(plugin: PluginT, root: Path, folder: str) -> PluginT:
    """``plugin`` loaded, as the core loads it, from an offline store at ``root`` holding copies of its model's
    files from ``../shared/models/<folder>`` (conversions are made there, as on a user's machine)."""
    store = ModelStore(root, offline=True)
    models = store.for_plugin(plugin)
    models.folder.mkdir(parents=True, exist_ok=True)
    source = shared_path(f"models/{folder}")
    for file in models.model.files:
        shutil.copyfile(source / file.filename, models.folder / file.filename)
    plugin.load(store.context_for(plugin, Device()))
    return plugin


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path))
    assert image is not None, path
    return np.ascontiguousarray(image[:, :, ::-1])


#: The core detects on images shrunk to this longer side (IMG_LENGTH_LIMIT) and maps boxes back.
DETECT_SIDE = 640


def detected_faces(image: np.ndarray) -> list[Face]:
    """The faces the default detector (MTCNN) finds, as the pipeline hands them to face plugins."""
    import cv2

    detector = mtcnn()
    factor = min(1.0, DETECT_SIDE / max(image.shape[:2]))
    small = image if factor == 1.0 else cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return [Face(image, found.scaled(1 / factor)) for found in detector.detect(small, detector.default_threshold)]


@lru_cache(maxsize=128)
def largest_face(path: Path) -> Face:
    """The largest face of a photo (cached for the session: several tests measure the same photos)."""
    return max(detected_faces(read_rgb(path)), key=lambda f: f.detection.box.area)


@lru_cache(maxsize=1)
def mtcnn():
    from plugins.facenet.detector import FaceDetector

    detector = FaceDetector(FaceDetector.find_model(None))
    detector.load(ModelStore(Path("/nonexistent-store"), offline=True).context_for(detector, Device()))
    return detector
