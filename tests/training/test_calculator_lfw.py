"""LFW through the service's pipeline (training.evaluate --calculator): the subject is the central face, a photo
without a face is embedded from the median of the detector's own boxes, raw or unit vectors are compared, the
accuracy at dlib's fixed threshold is reported, and dlib's HOG + 5-point pipeline tells a real same pair from a
different one."""
from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest

from tools.common.pairs import Pair
from training.calculator_lfw import (
    COSINE,
    EUCLIDEAN,
    PairDistances,
    PhotoEmbeddings,
    central_face,
    cut,
    embed_photos,
    median_box,
    pair_distances,
)
from training.evaluate import fixed_threshold_accuracy


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
    assert np.allclose(photos.vectors[tmp_path / "miss.png"], [0.0, 2.0])  # as returned by the whole-image call
    pairs = [Pair(files[0], files[3], False, 0), Pair(files[0], files[1], True, 0)]
    distances, same, folds, dropped = astuple(pair_distances(pairs, photos))
    assert dropped == 0 and distances == pytest.approx([np.sqrt(2.0), 0.0]) and same.tolist() == [False, True]

    dropping = embed_photos(files, FakeEmbedder(fake.boxes, {"miss.png"}), fallback=False)
    assert dropping.fallback_box is None and dropping.vectors[tmp_path / "miss.png"] is None
    assert pair_distances(pairs, dropping).dropped == 1


def test_cosine_compares_unit_vectors_and_euclidean_the_raw_descriptors():
    a, b, c, d = (Path(name) for name in "abcd")
    photos = PhotoEmbeddings({a: np.array([3.0, 4.0]), b: np.array([6.0, 8.0]), c: np.array([0.0, 1.0]), d: None})
    pairs = [Pair(a, b, True, 0), Pair(a, c, False, 1), Pair(a, d, False, 1)]
    cosine, same, folds, dropped = astuple(pair_distances(pairs, photos, COSINE))
    # unit (0.6, 0.8) vs (0.6, 0.8): 0; vs (0, 1): |(0.6, -0.2)| = sqrt(0.4)
    assert cosine == pytest.approx([0.0, np.sqrt(0.4)]) and same.tolist() == [True, False] and folds.tolist() == [0, 1]
    assert dropped == 1
    euclidean = pair_distances(pairs, photos, EUCLIDEAN).distances
    assert euclidean == pytest.approx([5.0, np.sqrt(18.0)])  # |(3, 4)|; |(3, 3)|
    with pytest.raises(ValueError, match="distance"):
        pair_distances(pairs, photos, "manhattan")


def test_accuracy_at_a_fixed_threshold_is_taken_per_fold():
    pairs = PairDistances(np.array([0.5, 0.7, 0.65, 0.3, 0.1, 0.9]), np.array([True, True, False, False, True, False]),
                          np.array([0, 0, 0, 0, 1, 1]))
    # fold 0 at 0.6: same, different, different, same -> right, wrong, right, wrong = 0.5; fold 1: both right = 1.0
    fixed = fixed_threshold_accuracy(pairs, 0.6)
    assert (fixed.threshold, fixed.accuracy_mean, fixed.accuracy_std) == pytest.approx((0.6, 0.75, 0.25))
    # at 0.66 the different pair at 0.65 is called same too (fold 0: 1 of 4 right); at 0.8 the same pair at 0.7
    # is right again (2 of 4); fold 1 stays right
    assert fixed_threshold_accuracy(pairs, 0.66).accuracy_mean == pytest.approx((0.25 + 1.0) / 2)
    assert fixed_threshold_accuracy(pairs, 0.8).accuracy_mean == pytest.approx((0.5 + 1.0) / 2)


def test_evaluate_passes_the_distance_on_and_reports_the_fixed_threshold(monkeypatch, capsys, tmp_path):
    import json

    import training.evaluate as evaluate

    asked = {}
    folds = np.repeat(np.arange(10), 2)
    distances = np.tile([0.4, 0.8], 10)
    distances[0] = 0.7  # fold 0: its same pair is above 0.6

    def fake_calculator_lfw(calculator, lfw, pairs_file, detector, fallback, distance, jitter):
        asked.update(calculator=calculator, detector=detector, distance=distance, jitter=jitter)
        pairs = PairDistances(distances, np.tile([True, False], 10), folds)
        return pairs, PhotoEmbeddings({Path("x"): np.ones(2)})

    monkeypatch.setattr(evaluate, "calculator_lfw", fake_calculator_lfw)
    argv = ["--calculator", "dlib.Calculator", "--detector", "dlib.FaceDetector@hog", "--lfw", str(tmp_path),
            "--distance", "euclidean", "--threshold", "0.6"]
    assert evaluate.main(argv) == 0
    assert asked == {"calculator": "dlib.Calculator", "detector": "dlib.FaceDetector@hog", "distance": "euclidean",
                     "jitter": 0}
    out = capsys.readouterr().out
    assert "Accuracy at fixed threshold 0.6 mean: 0.9500" in out  # 9 folds right, fold 0 half right
    assert "Accuracy at fixed threshold 0.6 std dev: 0.1500" in out
    assert evaluate.main(argv + ["--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["LFW"]
    assert figures["fixed"] == pytest.approx({"threshold": 0.6, "accuracy_mean": 0.95, "accuracy_std": 0.15})
    assert evaluate.main(argv[:-4] + ["--jitter", "10"]) == 0 and "fixed threshold" not in capsys.readouterr().out
    assert asked["distance"] == "cosine" and asked["jitter"] == 10
    with pytest.raises(SystemExit):  # jitter needs the calculator's own chips
        evaluate.main(["--model", "m.onnx", "--lfw", str(tmp_path), "--jitter", "10"])


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
    distances, _, _, dropped = astuple(pair_distances([Pair(same[0], same[1], True, 0),
                                                       Pair(same[0], other, False, 0)], photos))
    assert dropped == 0 and distances[0] < distances[1]
