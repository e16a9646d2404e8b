"""The ``extras`` family: face plugins no CompreFace, InsightFace or deepface build serves offline.

Liveness (Silent-Face MiniFASNet, Apache-2.0), expression and gender (FER2013 mini-XCEPTION, MIT), mask
(AIZOO, MIT) and a weight-free quality score. Each model is downloaded from its public source with a pinned
sha256 and converted to ONNX once; serving runs ONNX Runtime only.
"""
from __future__ import annotations

from facecore import hookimpl
from facecore.plugin_api import Plugin


@hookimpl
def register_plugins() -> list[type[Plugin]]:
    from plugins.extras.fer import EmotionDetector, EmotionScores, GenderDetector
    from plugins.extras.liveness import LivenessDetector
    from plugins.extras.mask import MaskDetector
    from plugins.extras.quality import QualityEstimator

    return [LivenessDetector, QualityEstimator, EmotionDetector, EmotionScores, GenderDetector, MaskDetector]
