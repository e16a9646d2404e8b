"""The whole hook contract between the core and plugin packages. Hooks run at start-up only."""
from __future__ import annotations

import pluggy

from facecore import PROJECT
from facecore.plugin_api import Plugin

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def register_plugins() -> list[type[Plugin]]:
    """Return the plugin classes of this package.

    Each class declares its config name (``name = "dlib.Calculator"``, two or three dotted parts); that
    name is what ``FACE_DETECTION_PLUGIN``, ``CALCULATION_PLUGIN`` and ``EXTRA_PLUGINS`` select.

    :return: subclasses of :class:`FaceDetector`, :class:`Calculator` or :class:`FacePlugin`.
    """
    return []  # a specification: pluggy calls the packages' implementations, never this body
