"""face-core: a plugin-based face-processing service, a drop-in replacement for CompreFace's core."""
import pluggy

PROJECT = "facecore"
#: Entry-point group in which plugin packages (built-in and third-party alike) register.
ENTRY_POINT_GROUP = "facecore.plugins"
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT", "hookimpl"]
