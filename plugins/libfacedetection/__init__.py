"""libfacedetection: YuNet compiled into C++ by its authors (BSD-3-Clause), from the ``yuface`` pip package."""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.libfacedetection.detector import FaceDetector

    return [FaceDetector]
