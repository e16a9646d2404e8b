"""LFW through the service's pipeline (training.evaluate --calculator): the subject is the central face, a photo
without a face is embedded from the median of the detector's own boxes, and dlib's HOG + 5-point pipeline
tells a real same pair from a different one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common.pairs import Pair
from training.calculator_lfw import central_face, cut, embed_photos, median_box, pair_distances


def _face(x0: int, y0: int, x1: int, y1: int, embedding=(1.0, 0.0)) -> dict:
    return {"box": {"x_min": x0, "y_min": y0, "x_max": x1, "y_max": y1, "probability": 1.0},
            "embedding": list(embedding)}


def test_the_central_face_is_the_subject_not_the_largest():
    big_corner, small_centre = _face(0, 0, 120, 120), _face(100, 100, 150, 150)
    assert central_face([big_corner, small_centre], 250, 250) is small_centre
    assert central_face([], 250, 250) is None


def test_median_box_and_cut():
    assert median_box([(0.2, 0.2, 0.6, 0.7), (0.3, 0.1, 0.7, 0.9), (0.25, 0.3, 0.65, 0.8)]) == (0.25, 0.2, 0.65, 0.8)
    image = np.arange(20 * 10 * 3, dtype=np.uint8).reshape(20, 10, 3)
    region = cut(image, (0.2, 0.25, 0.8, 1.2))  # past the bottom edge: clipped
    assert region.shape == (15, 6, 3) and np.array_equal(region, image[5:20, 2:8])


class FakeEmbedder:
    """Finds one face (at a box set per photo) except in ``blind`` photos; records the whole-image calls."""

    def __init__(self, boxes: dict[str, tuple[int, int, int, int]], blind: set[str]) -> None:
        self.boxes, self.blind, self.whole_images = boxes, blind, []

    def faces(self, path: Path, detect: bool = True, image=None) -> list[dict]:
        if not detect:
            self.whole_images.append(image.shape)
            return [_face(0, 0, image.shape[1], image.shape[0], (0.0, 2.0))]
        return [] if path.name in self.blind else [_face(*self.boxes[path.name])]


def _photos(tmp_path: Path, names: list[str]) -> list[Path]:
    import cv2

    paths = []
    for name in names:
        cv2.imwrite(str(tmp_path / name), np.zeros((200, 100, 3), np.uint8))
        paths.append(tmp_path / name)
    return paths


def test_a_photo_without_a_face_is_embedded_from_the_median_detected_box(tmp_path):
    files = _photos(tmp_path, ["a.png", "b.png", "c.png", "miss.png"])
    fake = FakeEmbedder({"a.png": (10, 20, 60, 120), "b.png": (20, 40, 70, 140), "c.png": (30, 60, 80, 160)},
                        blind={"miss.png"})
    photos = embed_photos(files, fake)
    assert photos.missed == [tmp_path / "miss.png"]
    assert photos.fallback_box == pytest.approx((0.2, 0.2, 0.7, 0.7))  # (20, 40, 70, 140) of 100x200
    assert fake.whole_images == [(100, 50, 3)]
    assert np.allclose(photos.vectors[tmp_path / "miss.png"], [0.0, 1.0])  # unit, from the whole-image call
    pairs = [Pair(files[0], files[3], False, 0), Pair(files[0], files[1], True, 0)]
    distances, same, folds, dropped = pair_distances(pairs, photos)
    assert dropped == 0 and distances == pytest.approx([np.sqrt(2.0), 0.0]) and same.tolist() == [False, True]

    dropping = embed_photos(files, FakeEmbedder(fake.boxes, {"miss.png"}), fallback=False)
    assert dropping.fallback_box is None and dropping.vectors[tmp_path / "miss.png"] is None
    assert pair_distances(pairs, dropping)[3] == 1


@pytest.mark.integration
def test_dlibs_own_hog_and_5_point_pipeline_separates_a_real_same_pair_from_a_different_one():
    from facecore.config import load_settings
    from tests.shared_data import shared_path
    from tools.common.embeddings import Embedder
    from tools.common.service import build

    images = shared_path("datasets/lfw/images")
    same = [images / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg", images / "Abel_Pacheco" / "Abel_Pacheco_0004.jpg"]
    other = images / "Akhmed_Zakayev" / "Akhmed_Zakayev_0001.jpg"
    settings = load_settings().with_overrides(calculator="dlib.Calculator", detector="dlib.FaceDetector@hog",
                                              extras=())
    photos = embed_photos([*same, other], Embedder(pipeline=build(settings)))
    distances, _, _, dropped = pair_distances([Pair(same[0], same[1], True, 0), Pair(same[0], other, False, 0)],
                                              photos)
    assert dropped == 0 and distances[0] < distances[1]
