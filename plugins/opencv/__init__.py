"""OpenCV's own face models: YuNet through ``cv2.FaceDetectorYN`` (MIT weights from the OpenCV Zoo)."""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.opencv.yunet import FaceDetector

    return [FaceDetector]
