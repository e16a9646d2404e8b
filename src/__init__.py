"""face-core's public surface for plugin authors: everything a plugin package imports comes from here.

    from facecore import FaceDetector, DetectedFace, BoundingBox, hookimpl

The core lives in the repository's ``src/`` folder and is installed (and imported) as the package ``facecore``;
the checkout's ``facecore`` is a link to ``src`` so that ``python -m facecore.app`` runs from a clone as from an
install. The objects below are the core's own (``facecore.FaceDetector is facecore.plugin_api.FaceDetector``), so
a plugin class built on them is the class the core checks. Other modules under ``facecore`` are the service's
internals and may change without notice; what ``__all__`` lists here is the stable contract, described in
docs/writing-plugins.md.
"""
import pluggy

if __name__ != "facecore":  # pragma: no cover - guards against loading the core twice under two names
    raise ImportError(f"import the core as 'facecore', not {__name__!r} (src/ is installed as facecore)")

PROJECT = "facecore"
#: Entry-point group in which plugin packages (built-in and third-party alike) register.
ENTRY_POINT_GROUP = "facecore.plugins"
hookimpl = pluggy.HookimplMarker(PROJECT)

# Re-exports below need hookimpl and the constants above to exist first (isort: keep them here).
from facecore.model_store import ModelNotAvailable, PluginModels, check_name  # noqa: E402
from facecore.plugin_api import (  # noqa: E402
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
    "ENTRY_POINT_GROUP", "PROJECT", "BoundingBox", "Calculator", "DetectedFace", "Face", "FaceDetector", "FacePlugin",
    "JSONValue", "LoadContext", "ModelFile", "ModelNotAvailable", "ModelSpec", "Plugin", "PluginError",
    "PluginModels", "PluginNotLoaded", "Point", "as_points", "check_name", "hookimpl",
]
