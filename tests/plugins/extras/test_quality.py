"""Quality: each component and the combined score, and its fall on real photos blurred and darkened by the test."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.plugin_api import BoundingBox, DetectedFace, Face
from plugins.extras.quality import QualityEstimator
from plugins.extras.quality_measures import WEIGHTS, combine, exposure_component, pose_component, size_component
from tests.plugins.extras.helpers import largest_face
from tests.shared_data import shared_path

PHOTOS = ("img1.jpg", "img10.jpg", "img17.jpg", "img22.jpg", "img38.jpg", "img47.jpg")


def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return image if sigma == 0 else cv2.GaussianBlur(image, (0, 0), sigma)


def darkened(image: np.ndarray, factor: float) -> np.ndarray:
    return (image.astype(np.float32) * factor).astype(np.uint8)


def test_components_and_their_geometric_mean():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert combine(dict.fromkeys(WEIGHTS, 1.0)) == 1.0
    assert combine({**dict.fromkeys(WEIGHTS, 1.0), "size": 0.0}) == 0.0
    assert combine({**dict.fromkeys(WEIGHTS, 1.0), "sharpness": 0.5}) == pytest.approx(0.5 ** WEIGHTS["sharpness"])
    assert exposure_component(0.5, 0.2) == 1.0 and exposure_component(0.05, 0.2) < exposure_component(0.2, 0.2)
    assert exposure_component(0.5, 0.0) == 0.0 and exposure_component(0.97, 0.2) < 0.2
    assert size_component(20) < size_component(60) < size_component(200) == 1.0
    assert pose_component(0, 0) == 1.0 > pose_component(30, 0) > pose_component(59, 0) > 0 == pose_component(80, 0)


def test_flat_grey_face_scores_zero_and_the_answer_has_every_measure():
    image = np.full((200, 200, 3), 128, dtype=np.uint8)
    face = Face(image, DetectedFace(BoundingBox(50, 50, 150, 150), 0.9))
    quality = QualityEstimator().analyze([face])[0]["quality"]
    assert quality["score"] == 0.0 and quality["sharpness"] == 0.0 and quality["face_size"] == 100.0
    assert set(quality) == {"score", "sharpness", "brightness", "contrast", "face_size", "pose",
                            "detection_probability", "components"}
    assert set(quality["components"]) == set(WEIGHTS)


@pytest.mark.integration
@pytest.mark.parametrize("photo", PHOTOS)
def test_score_falls_monotonically_with_blur_and_darkness(photo):
    face = largest_face(shared_path(f"datasets/deepface/{photo}"))
    image = face.image
    plugin = QualityEstimator()
    side = min(face.detection.box.width, face.detection.box.height)

    def score(pixels: np.ndarray) -> float:  # the same detection: only the pixels change
        return plugin.analyze([Face(pixels, face.detection)])[0]["quality"]["score"]

    # sigma in pixels of the 112-px aligned crop, scaled to the face's size in the photo
    by_blur = [score(blurred(image, sigma * side / 112)) for sigma in (0, 0.7, 1.5, 3, 6)]
    by_darkness = [score(darkened(image, factor)) for factor in (1.0, 0.7, 0.45, 0.25, 0.1)]
    assert all(a > b for a, b in zip(by_blur, by_blur[1:])), by_blur
    assert all(a > b for a, b in zip(by_darkness, by_darkness[1:])), by_darkness
    assert by_blur[0] > 0.8 and by_blur[-1] < 0.5 and by_darkness[-1] < 0.3


def test_a_tiny_face_scores_lower_than_the_same_face_large():
    import cv2

    face = largest_face(shared_path("datasets/deepface/img10.jpg"))
    image = face.image
    small = cv2.resize(image, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    small_face = Face(small, face.detection.scaled(0.15))
    plugin = QualityEstimator()
    large, tiny = (plugin.analyze([f])[0]["quality"] for f in (Face(image, face.detection), small_face))
    assert tiny["face_size"] < 40 < large["face_size"] and tiny["score"] < large["score"]
