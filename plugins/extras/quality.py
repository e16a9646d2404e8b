"""``extras.QualityEstimator`` (slug ``quality``): is this face good enough to enrol? No weights.

``{"quality": {"score": 0..1, "sharpness", "brightness", "contrast", "face_size", "pose", "detection_probability",
"components"}}``; how the score is made: :mod:`plugins.extras.quality_measures`. Tools skip faces under
``--min-quality`` with it (``tools/common/quality.py``).
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from facecore import plugin_api as api
from facecore.align import align_5points, resize_whole
from facecore.pose import estimate_pose
from plugins.extras.quality_measures import measure

ALIGNED_SIDE = 112


def aligned(face: api.Face) -> np.ndarray:
    """The 112x112 ArcFace-aligned crop , else the box resized."""
    def make(f: api.Face) -> np.ndarray:
        if f.whole_image:
            return resize_whole(f.image, ALIGNED_SIDE)
        if f.detection.landmarks is not None:
            return align_5points(f.image, np.asarray(f.detection.landmarks, dtype=np.float64), ALIGNED_SIDE)
        box = f.detection.box.clipped(f.image.shape[1], f.image.shape[0])
        patch = f.image[int(box.y_min):int(np.ceil(box.y_max)), int(box.x_min):int(np.ceil(box.x_max))]
        return resize_whole(patch if patch.size else f.image, ALIGNED_SIDE)
    return face.crop("quality_aligned112", make)


class QualityEstimator(api.FacePlugin):
    name = "extras.QualityEstimator"
    slug: ClassVar[str] = "quality"
    thread_safe = True  # numpy and OpenCV on per-call arrays

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        results = []
        for face in faces:
            height, width = face.image.shape[:2]
            box = face.detection.box
            side = min(width, height) if face.whole_image else min(box.width, box.height)
            pose = (estimate_pose(np.asarray(face.detection.landmarks, dtype=np.float64).reshape(5, 2), width, height)
                    if face.detection.landmarks is not None and not face.whole_image else None)
            yaw, pitch, roll = (pose.yaw, pose.pitch, pose.roll) if pose else (0.0, 0.0, 0.0)
            quality = measure(aligned(face), side, yaw, pitch, roll, face.detection.probability)
            results.append({"quality": quality.to_json()})
        return results
