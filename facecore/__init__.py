"""The public surface for plugin authors: everything a plugin package imports comes from here.

    from facecore import FaceDetector, DetectedFace, BoundingBox, hookimpl

These are the core's own objects re-exported (``facecore.FaceDetector is src.plugin_api.FaceDetector``), not
copies, so a plugin class built on them is the class the core checks. The modules under ``src`` are the
service's internals and may change without notice; what is listed in ``__all__`` here is the stable contract,
described in docs/writing-plugins.md.
"""
from src import ENTRY_POINT_GROUP, hookimpl
from src.model_store import ModelNotAvailable, PluginModels, check_name
from src.plugin_api import (
    BoundingBox,
    Calculator,
    DetectedFace,
    Face,
    FaceDetector,
    FacePlugin,
    JSONValue,
    LoadContext,
    ModelFile,
    ModelSpec,
    Plugin,
    PluginError,
    PluginNotLoaded,
    Point,
    as_points,
)

__all__ = [
    "ENTRY_POINT_GROUP", "BoundingBox", "Calculator", "DetectedFace", "Face", "FaceDetector", "FacePlugin",
    "JSONValue", "LoadContext", "ModelFile", "ModelNotAvailable", "ModelSpec", "Plugin", "PluginError",
    "PluginModels", "PluginNotLoaded", "Point", "as_points", "check_name", "hookimpl",
]
