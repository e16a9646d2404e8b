"""opencv.FaceDetector (YuNet in cv2.FaceDetectorYN) with the zoo file imported into a temporary store."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.model_store import ModelStore
from plugins.opencv.yunet import MODELS, FaceDetector
from tests.plugins.insightface.helpers import load_from, local_store, read_rgb
from tests.shared_data import shared_path


def zoo_detector(tmp_path) -> FaceDetector:
    """The declared yunet_2023mar model, imported from the byte-identical shared file (sha256 checked)."""
    spec = MODELS[0]
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / spec.files[0].filename).write_bytes(shared_path("models/yunet_s_640_640.onnx").read_bytes())
    store = ModelStore(tmp_path / "models", offline=True)
    store.import_from("opencv", "detector", spec, folder)
    detector = FaceDetector(spec)
    load_from(store, detector)
    return detector


def own_detector(tmp_path, filename: str) -> FaceDetector:
    store = local_store(tmp_path, "opencv", "detector", "my_yunet", shared_path(f"models/{filename}"))
    detector = FaceDetector(FaceDetector.custom_model("my_yunet"))
    load_from(store, detector)
    return detector


@pytest.mark.integration
@pytest.mark.parametrize("which", ["yunet_2023mar", "yunet_n_dynamic.onnx"])
def test_yunet_finds_the_43_dlib_faces(tmp_path, which):
    from tools.eval_detector_dlib_faces import evaluate

    detector = zoo_detector(tmp_path) if which == "yunet_2023mar" else own_detector(tmp_path, which)
    score = evaluate(lambda image: detector.detect(image, detector.default_threshold),
                     shared_path("datasets/dlib-faces"))
    assert score.faces == 43 and score.matched == 43, score
    assert score.false_detections <= 3, score


@pytest.mark.integration
def test_cv2_and_our_own_yunet_decoder_agree(tmp_path):
    from plugins.insightface.detector import FaceDetector as OnnxDetector

    image = read_rgb(shared_path("datasets/dlib-faces/2007_007763.jpg"))
    by_cv2 = sorted(own_detector(tmp_path / "a", "yunet_n_dynamic.onnx").detect(image, 0.6), key=lambda f: f.box.x_min)
    store = local_store(tmp_path / "b", "insightface", "detector", "yn", shared_path("models/yunet_n_dynamic.onnx"))
    ours = OnnxDetector(OnnxDetector.custom_model("yn"))
    load_from(store, ours)
    by_ours = sorted(ours.detect(image, 0.6), key=lambda f: f.box.x_min)
    assert len(by_cv2) == len(by_ours) >= 7
    for a, b in zip(by_cv2, by_ours):
        assert abs(a.probability - b.probability) < 0.02
        assert np.allclose([a.box.x_min, a.box.y_min, a.box.x_max, a.box.y_max],
                           [b.box.x_min, b.box.y_min, b.box.x_max, b.box.y_max], atol=1.5)
        assert np.allclose(a.landmarks, b.landmarks, atol=1.5)


def test_the_declared_model_is_the_zoo_file_with_its_published_checksum():
    spec = MODELS[0]
    assert spec.name == "yunet_2023mar" and spec.licence == "MIT"
    assert spec.files[0].sha256 == "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
    assert spec.files[0].source.startswith("https://media.githubusercontent.com/media/opencv/opencv_zoo/")


def test_register_plugins_names_the_detector():
    import plugins.opencv

    assert plugins.opencv.register_plugins() == [FaceDetector]
