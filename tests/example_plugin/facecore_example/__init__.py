"""A third-party plugin package for face-core: a detector and a face plugin, written against ``facecore`` only."""
from __future__ import annotations

from facecore import Plugin, hookimpl
from facecore_example.brightness import BrightnessEstimator
from facecore_example.centre import CentreDetector


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    return [CentreDetector, BrightnessEstimator]
