"""Pure parts of the dlib family: score mapping, age interval, 68->5 points, registration, the HOG floor."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from facecore.plugin_api import Calculator, FaceDetector as FaceDetectorBase, FacePlugin
from plugins.dlib import models as specs, register_plugins, scores
from plugins.dlib.age_mapping import AGE_CLASSES, age_interval, expected_age
from plugins.dlib.detector import FaceDetector
from plugins.dlib.shapes import five_from_68

finite = st.floats(min_value=-50, max_value=50, allow_nan=False)


# ------------------------------------------------------------------------------------------ scores
@given(finite, finite)
def test_probability_is_monotone_in_score(a: float, b: float) -> None:
    for slope in (scores.HOG_SLOPE, scores.MMOD_SLOPE):
        pa, pb = scores.score_to_probability(a, slope), scores.score_to_probability(b, slope)
        assert 0.0 <= pa <= 1.0
        if a < b:
            assert pa <= pb


def test_boundary_score_is_default_threshold() -> None:
    assert scores.score_to_probability(0.0, scores.HOG_SLOPE) == scores.DEFAULT_THRESHOLD == 0.5
    assert scores.score_to_probability(1.5, scores.HOG_SLOPE) > 0.95  # a typical frontal face
    assert scores.score_to_probability(1.0, scores.MMOD_SLOPE) > 0.98
    assert scores.score_to_probability(-1e6, 2.0) == 0.0  # no overflow


@given(st.floats(min_value=0.001, max_value=0.999))
def test_inverse_round_trips(p: float) -> None:
    assert scores.score_to_probability(scores.probability_to_score(p, 2.0), 2.0) == pytest.approx(p, abs=1e-9)


def test_inverse_at_the_ends() -> None:
    assert scores.probability_to_score(0.0, 2.0) == -math.inf
    assert scores.probability_to_score(1.0, 2.0) == math.inf


class FakeHog:
    """Stands in for dlib's HOG detector: records the score floor it is asked for."""

    def __init__(self, found: list[tuple[tuple[int, int, int, int], float]]) -> None:
        self.found = found
        self.floors: list[float] = []

    def run(self, image, upsample, floor):
        import dlib

        self.floors.append(floor)
        kept = [(dlib.rectangle(*box), s) for box, s in self.found if s >= floor]
        return [r for r, _ in kept], [s for _, s in kept], [0] * len(kept)


@pytest.mark.parametrize("threshold, floor", [(0.5, 0.0), (0.2, math.log(0.25) / 2), (0.0, scores.MIN_HOG_SCORE),
                                              (1.0, scores.MAX_HOG_SCORE)])
def test_hog_is_asked_for_every_box_the_threshold_keeps(threshold: float, floor: float) -> None:
    detector = FaceDetector(specs.HOG)
    detector._detector = FakeHog([((10, 20, 49, 69), 1.5), ((100, 100, 139, 139), -0.3)])
    found = detector.detect(np.zeros((200, 200, 3), np.uint8), threshold)
    assert detector._detector.floors == [pytest.approx(floor)]
    assert all(face.probability > threshold for face in found)
    if threshold == 0.2:
        assert len(found) == 2  # the weak box (p 0.35) is kept at a low threshold
    if threshold == 0.5:
        assert len(found) == 1
        box = found[0].box
        assert (box.x_min, box.y_min, box.x_max, box.y_max) == (10, 20, 50, 70)  # inclusive -> exclusive
        assert found[0].probability == pytest.approx(scores.score_to_probability(1.5, scores.HOG_SLOPE))
        assert found[0].landmarks is None


# ------------------------------------------------------------------------------------------ age
def one_hot(age: int) -> np.ndarray:
    values = np.zeros(AGE_CLASSES)
    values[age] = 1.0
    return values


def test_confident_age_gets_the_five_year_floor() -> None:
    interval = age_interval(one_hot(33))
    assert (interval.low, interval.high) == (31, 35)
    assert interval.probability == pytest.approx(1.0)
    assert interval.to_json() == {"low": 31, "high": 35, "probability": pytest.approx(1.0)}


@pytest.mark.parametrize("age, low, high", [(0, 0, 4), (1, 0, 4), (80, 76, 80)])
def test_interval_stays_within_the_classes(age: int, low: int, high: int) -> None:
    interval = age_interval(one_hot(age))
    assert (interval.low, interval.high) == (low, high)


def test_unsure_distribution_gives_a_wide_interval_holding_half_the_mass() -> None:
    values = np.exp(-0.5 * ((np.arange(AGE_CLASSES) - 40.0) / 10.0) ** 2)
    interval = age_interval(values / values.sum())
    assert interval.low <= 40 <= interval.high
    assert interval.high - interval.low + 1 >= 12  # +-0.67 sigma holds half a normal
    assert 0.5 <= interval.probability < 0.6


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=AGE_CLASSES, max_size=AGE_CLASSES))
def test_interval_invariants(raw: list[float]) -> None:
    values = np.asarray(raw) + 1e-9
    values /= values.sum()
    interval = age_interval(values)
    assert 0 <= interval.low <= interval.high < AGE_CLASSES
    assert interval.high - interval.low + 1 >= 5
    assert interval.probability == pytest.approx(values[interval.low:interval.high + 1].sum(), abs=1e-9)
    assert interval.probability >= 0.5 - 1e-9
    assert interval.low - 0.5 <= expected_age(values) <= interval.high + 0.5


# ------------------------------------------------------------------------------------------ 68 -> 5
def synthetic_68() -> np.ndarray:
    points = np.zeros((68, 2))
    points[36:42] = [[30, 40], [35, 37], [40, 37], [45, 40], [40, 43], [35, 43]]  # centre (37.5, 40)
    points[42:48] = [[60, 40], [65, 37], [70, 37], [75, 40], [70, 43], [65, 43]]  # centre (67.5, 40)
    points[30] = [52, 60]
    points[48] = [38, 80]
    points[54] = [66, 80]
    return points


def test_five_points_from_68() -> None:
    five = five_from_68(synthetic_68())
    np.testing.assert_allclose(five, [[37.5, 40], [67.5, 40], [52, 60], [38, 80], [66, 80]])


def test_five_points_are_left_first_even_when_mirrored() -> None:
    mirrored = synthetic_68()
    mirrored[:, 0] = 100 - mirrored[:, 0]
    five = five_from_68(mirrored)
    assert five[0, 0] < five[1, 0] and five[3, 0] < five[4, 0]
    np.testing.assert_allclose(five[2], [48, 60])


# ------------------------------------------------------------------------------------------ registration
def test_registered_classes_and_slugs() -> None:
    classes = {cls.__name__: cls for cls in register_plugins()}
    assert set(classes) == {"FaceDetector", "Calculator", "AgeDetector", "GenderDetector", "Landmarks68Detector",
                            "LandmarksDetector", "PoseEstimator"}
    assert issubclass(classes["FaceDetector"], FaceDetectorBase)
    assert issubclass(classes["Calculator"], Calculator)
    slugs = {name: cls.slug for name, cls in classes.items() if issubclass(cls, FacePlugin)}
    assert slugs == {"Calculator": "calculator", "AgeDetector": "age", "GenderDetector": "gender",
                     "Landmarks68Detector": "landmarks68", "LandmarksDetector": "landmarks", "PoseEstimator": "pose"}
    assert classes["PoseEstimator"].requires_detection
    assert classes["FaceDetector"].model_names() == ["hog", "mmod"]
    assert classes["FaceDetector"].default_threshold == 0.5


def test_model_specs() -> None:
    assert specs.RESNET_SPEC.similarity_coefficients is not None
    c0, c1 = specs.RESNET_SPEC.similarity_coefficients
    assert 0.3 < c0 < 0.5 and 2.0 < c1 < 10.0
    assert "non-commercial" in specs.LANDMARKS68_SPEC.licence
    for spec in (specs.MMOD_SPEC, specs.RESNET_SPEC, specs.AGE_SPEC, specs.GENDER_SPEC, specs.LANDMARKS68_SPEC):
        assert all(f.source.startswith("package:") and f.sha256 for f in spec.files)


def test_importing_the_package_loads_no_heavy_module() -> None:
    code = ("import sys, plugins.dlib; heavy = [m for m in ('dlib', 'cv2', 'onnxruntime') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_landmarks_read_the_68_point_model_only_when_needed(tmp_path) -> None:
    from facecore.plugin_api import BoundingBox, DetectedFace, Face, PluginNotLoaded
    from plugins.dlib.landmarks import PoseEstimator

    pose = PoseEstimator(None)
    pose._path = tmp_path / "absent.dat"  # would fail to load: the detector's points make it unnecessary
    marks = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], dtype=np.float64)
    face = Face(np.zeros((140, 120, 3), np.uint8), DetectedFace(BoundingBox(20, 20, 100, 120), 0.9, marks))
    result = pose.analyze([face])[0]["pose"]
    assert set(result) == {"pitch", "yaw", "roll"} and abs(result["yaw"]) < 5
    with pytest.raises(PluginNotLoaded, match="dlib.PoseEstimator used before load()"):
        PoseEstimator(None).predictor()


# ------------------------------------------------------------------------------------------ jitter
def test_jittered_descriptor_is_the_mean_over_the_copies_in_one_batch() -> None:
    from plugins.dlib.calculator import JitteredEmbedder

    batches = []

    def inner(chips):  # descriptor = (mean pixel, 1)
        batches.append(len(chips))
        return np.array([[float(np.mean(c)), 1.0] for c in chips], dtype=np.float32).reshape(len(chips), 2)

    def shifted(chip, copies):  # copy k = chip + k
        return [chip + k for k in range(copies)]

    chips = [np.full((150, 150, 3), 10, np.uint8), np.full((150, 150, 3), 20, np.uint8)]
    vectors = JitteredEmbedder(inner, 4, shifted)(chips)
    assert batches == [8]  # both faces' 4 copies in one network run
    np.testing.assert_allclose(vectors, [[11.5, 1.0], [21.5, 1.0]])  # (10+11+12+13)/4, (20+...+23)/4
    assert vectors.dtype == np.float32
    assert JitteredEmbedder(inner, 4, shifted)([]).shape == (0, 2) and batches[-1] == 0
    with pytest.raises(ValueError, match="at least 2"):
        JitteredEmbedder(inner, 1, shifted)


def test_dlibs_jitter_gives_that_many_moved_copies_of_the_chip() -> None:
    from plugins.dlib.calculator import dlib_jitter

    yy, xx = np.mgrid[0:150, 0:150]
    # gradients symmetric about the vertical axis (dlib also mirrors): any shift, zoom or turn changes pixels
    chip = np.stack([yy, 2 * np.abs(xx - 75), np.full_like(xx, 128)], axis=-1).astype(np.uint8)
    copies = dlib_jitter(chip, 5)
    assert len(copies) == 5 and all(c.shape == (150, 150, 3) and c.dtype == np.uint8 for c in copies)
    assert all(not np.array_equal(c, chip) for c in copies)
    assert all(np.abs(c.astype(int) - chip).mean() < 40 for c in copies)  # small moves, not new images
