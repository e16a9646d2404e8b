"""The ``agegender`` plugin family: CompreFace's rude_carnie age and gender classifiers (Inception-v3 TF
checkpoints), run without TensorFlow: the checkpoint is read by ``srcext.tensorflow`` and the network, written
in our code as TensorFlow ops, converted to ONNX on first use. Heavy libraries load in ``load()``, not here."""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.agegender.detectors import AgeDetector, GenderDetector

    return [AgeDetector, GenderDetector]
