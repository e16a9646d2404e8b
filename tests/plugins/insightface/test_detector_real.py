"""insightface.FaceDetector end to end with real ONNX files served as models of one's own, on dlib-faces.

Figures (recall, false detections, ms/image) are in docs/detectors.md; the bounds here leave a margin.
"""
from __future__ import annotations

import numpy as np
import pytest

from facecore.model_store import ModelNotAvailable
from plugins.insightface.detector import FaceDetector
from plugins.insightface.router import UnknownDetectorLayout
from tests.plugins.insightface.helpers import load_from, local_store, read_rgb, two_output_graph
from tests.shared_data import shared_path

CASES = {  # model file -> (layout, default threshold, most false detections allowed on the 10 images)
    "scrfd_500m_bnkps.onnx": ("scrfd", 0.5, 1),
    "retinaface_mbnet025.onnx": ("retinaface", 0.8, 3),
    "yunet_n_dynamic.onnx": ("yunet", 0.8, 3),
    "yunet_s_640_640.onnx": ("yunet", 0.8, 3),
}


def load(tmp_path, filename: str) -> FaceDetector:
    store = local_store(tmp_path, "insightface", "detector", "my_model", shared_path(f"models/{filename}"))
    detector = FaceDetector(FaceDetector.custom_model("my_model"))
    load_from(store, detector)
    return detector


@pytest.mark.integration
@pytest.mark.parametrize("filename", sorted(CASES))
def test_detector_finds_the_43_dlib_faces(tmp_path, filename):
    from tools.eval_detector_dlib_faces import evaluate

    layout, threshold, most_false = CASES[filename]
    detector = load(tmp_path, filename)
    assert detector.decoder.kind == layout and detector.default_threshold == threshold
    folder = shared_path("datasets/dlib-faces")
    score = evaluate(lambda image: detector.detect(image, detector.default_threshold), folder)
    assert score.faces == 43 and score.matched == 43, score
    assert score.false_detections <= most_false, score


@pytest.mark.integration
@pytest.mark.parametrize("filename", sorted(CASES))
def test_detections_follow_the_contract(tmp_path, filename):
    detector = load(tmp_path, filename)
    image = read_rgb(shared_path("datasets/dlib-faces/2008_002079.jpg"))
    faces = detector.detect(image, 0.5)
    assert faces
    for face in faces:
        box, marks = face.box, np.asarray(face.landmarks)
        assert 0.5 < face.probability <= 1.0 and 0 <= box.x_min < box.x_max <= image.shape[1]
        assert marks.shape == (5, 2) and marks[0, 0] < marks[1, 0] and marks[3, 0] < marks[4, 0]
        inside = (marks[:, 0] > box.x_min - 2) & (marks[:, 0] < box.x_max + 2) & (marks[:, 1] > box.y_min - 2)
        assert inside.all() and marks[2, 1] > marks[:2, 1].max() - 2  # nose under the eyes
    assert detector.detect(image, 1.0) == []
    scaled = detector.detect(np.ascontiguousarray(image[:, :, :]), 0.5)
    assert len(scaled) == len(faces)


def test_its_session_keeps_the_arena_under_the_services_detection_copy(tmp_path):
    from facecore.device import Device

    store = local_store(tmp_path, "insightface", "detector", "my_model", shared_path("models/scrfd_500m_bnkps.onnx"))
    for side, kept in ((640, True), (0, False)):
        detector = load_from(store, FaceDetector(FaceDetector.custom_model("my_model")), Device(detection_side=side))
        assert detector.session.get_session_options().enable_cpu_mem_arena is kept


def test_an_unknown_onnx_layout_is_refused_by_name(tmp_path):
    store = local_store(tmp_path, "insightface", "detector", "odd", two_output_graph(tmp_path / "odd.onnx"))
    detector = FaceDetector(FaceDetector.custom_model("odd"))
    with pytest.raises(UnknownDetectorLayout, match="unknown face detector layout with 2 outputs"):
        load_from(store, detector)


def test_a_missing_model_of_ones_own_says_where_to_put_it(tmp_path):
    from facecore.model_store import ModelStore

    detector = FaceDetector(FaceDetector.custom_model("my_scrfd"))
    with pytest.raises(ModelNotAvailable, match="insightface/detector/my_scrfd/my_scrfd.onnx"):
        load_from(ModelStore(tmp_path), detector)
    with pytest.raises(ValueError, match="invalid model name"):
        FaceDetector.custom_model("../escape")
