"""``facenet.FaceDetector`` on real photos. Figures measured with
``python -m tools.eval_detector_dlib_faces``: recall 42/43, no false detection (see docs/detectors.md)."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.boxes import order_landmarks as contract_order
from facecore.plugin_api import PluginError
from plugins.facenet.detector import COMPREFACE_MARGINS, MTCNN, FaceDetector
from tests.shared_data import shared_path
from tools.eval_detector_dlib_faces import evaluate, read_boxes


def read_rgb(path, longest: int | None = 640) -> np.ndarray:
    """The photo as RGB, shrunk as the core shrinks request images."""
    import cv2

    image = cv2.imread(str(path))[:, :, ::-1]
    scale = longest / max(image.shape[:2]) if longest else 1.0
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def test_contract_order_puts_smaller_x_first():
    marks = np.array([[[50, 10], [20, 12], [35, 30], [22, 40], [48, 41]]], dtype=float)
    ordered = contract_order(marks)
    np.testing.assert_allclose(ordered[0, :2], [[20, 12], [50, 10]])
    np.testing.assert_allclose(ordered[0, 3:], [[22, 40], [48, 41]])
    np.testing.assert_allclose(marks[0, 0], [50, 10])  # input untouched


def test_detect_before_load_says_so():
    with pytest.raises(PluginError, match="before load"):
        FaceDetector(MTCNN).detect(np.zeros((50, 50, 3), np.uint8), 0.5)


def test_model_choice_and_defaults():
    assert FaceDetector.default_threshold == 0.85
    assert FaceDetector.model_names() == ["mtcnn", "mtcnn_compreface"]
    assert FaceDetector(FaceDetector.find_model("mtcnn_compreface")).margins == COMPREFACE_MARGINS


@pytest.mark.integration
def test_recall_and_false_detections_on_dlib_faces(detector):
    folder = shared_path("datasets/dlib-faces")
    score = evaluate(lambda image: detector.detect(image, detector.default_threshold), folder)
    assert score.faces == 43
    assert score.recall >= 0.95  # measured 42/43 = 0.977
    assert score.false_detections <= 1  # measured 0
    assert score.mean_iou >= 0.65  # measured 0.690


@pytest.mark.integration
def test_no_face_on_dogs(detector):
    assert detector.detect(read_rgb(shared_path("datasets/dlib-faces/dogs.jpg")), 0.5) == []


@pytest.mark.integration
def test_couple_has_two_faces_with_sane_landmarks(detector):
    image = read_rgb(shared_path("datasets/deepface/couple.jpg"))
    faces = detector.detect(image, detector.default_threshold)
    assert len(faces) == 2
    for face in faces:
        assert 0.85 < face.probability <= 1.0
        assert 0 <= face.box.x_min < face.box.x_max <= image.shape[1]
        assert 0 <= face.box.y_min < face.box.y_max <= image.shape[0]
        assert np.asarray(face.landmarks).shape == (5, 2)


@pytest.mark.integration
def test_landmarks_lie_in_their_box_in_contract_order(detector):
    folder = shared_path("datasets/dlib-faces")
    checked = 0
    for name in read_boxes(folder):
        for face in detector.detect(read_rgb(folder / name), detector.default_threshold):
            marks, box = np.asarray(face.landmarks), face.box
            assert np.all((marks[:, 0] >= box.x_min) & (marks[:, 0] <= box.x_max)), name
            assert np.all((marks[:, 1] >= box.y_min) & (marks[:, 1] <= box.y_max)), name
            assert marks[0, 0] < marks[1, 0] and marks[3, 0] < marks[4, 0], name
            assert max(marks[0, 1], marks[1, 1]) < marks[2, 1] < min(marks[3, 1], marks[4, 1]), name
            checked += 1
    assert checked >= 40


@pytest.mark.integration
def test_threshold_is_strict_and_margins_grow_boxes(detector):
    image = read_rgb(shared_path("datasets/deepface/couple.jpg"))
    found = detector.detect_raw(image)
    cut = float(np.sort(found.scores)[0])
    assert len(detector.detect(image, cut)) == len(found) - 1
    padded = FaceDetector(FaceDetector.find_model("mtcnn_compreface"))
    padded.cascade = detector.cascade
    tight, wide = detector.detect(image, 0.85), padded.detect(image, 0.85)
    assert len(tight) == len(wide) == 2
    for small, big in zip(sorted(tight, key=lambda f: f.box.x_min), sorted(wide, key=lambda f: f.box.x_min)):
        assert big.box.width == pytest.approx(small.box.width * (1 + 0.2126 + 0.2231), rel=0.05)


@pytest.mark.integration
def test_default_steps_find_the_partly_hidden_faces(detector):
    """Why the default uses the common stage thresholds: with CompreFace's, such faces come and go."""
    image = read_rgb(shared_path("datasets/deepface/img62.jpg"))
    assert len(detector.detect(image, detector.default_threshold)) >= 2  # measured 2 (CompreFace steps: 1 or 2)
    selfie = read_rgb(shared_path("datasets/deepface/selfie-many-people.jpg"))
    assert len(detector.detect(selfie, detector.default_threshold)) >= 5  # measured 5 (CompreFace steps: 4 or 5)


def test_only_p_net_keeps_the_arena(tmp_path):
    # P-Net runs on the pyramid of the detection copy (bounded); R- and O-Net on a batch of candidates (not)
    from facecore.device import Device
    from facecore.model_store import ModelStore

    plugin = FaceDetector(FaceDetector.find_model(None))
    plugin.load(ModelStore(tmp_path, offline=True).context_for(plugin, Device(detection_side=640)))
    cascade = plugin.cascade
    kept = {kind: getattr(cascade, kind).session.get_session_options().enable_cpu_mem_arena
            for kind in ("pnet", "rnet", "onet")}
    assert kept == {"pnet": True, "rnet": False, "onet": False}
