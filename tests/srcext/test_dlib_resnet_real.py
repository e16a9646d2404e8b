"""The converted dlib face ResNet against dlib itself, on real face chips made by dlib."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import shared_path

IMAGES = ["img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg", "img5.jpg", "img8.jpg", "couple.jpg"]


def _model_dir() -> Path:
    models = pytest.importorskip("face_recognition_models")
    return Path(models.__file__).parent / "models"


@pytest.fixture(scope="module")
def chips_and_reference():
    dlib = pytest.importorskip("dlib")
    from PIL import Image

    folder = shared_path("datasets/deepface")
    models = _model_dir()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    recognizer = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    chips = []
    for name in IMAGES:
        image = np.asarray(Image.open(folder / name).convert("RGB"))
        for box in detector(image, 1):
            chips.append(dlib.get_face_chip(image, predictor(image, box), size=150, padding=0.25))
    assert len(chips) >= 8
    # num_jitters=0 on a 150x150 chip: dlib runs the net once, no jitter, no resampling.
    reference = np.array([recognizer.compute_face_descriptor(chip, num_jitters=0) for chip in chips])
    return np.stack(chips).transpose(0, 3, 1, 2).astype(np.float32), reference


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    import onnxruntime as ort

    from srcext.dlib import convert_cached

    path = convert_cached(_model_dir() / "dlib_face_recognition_resnet_model_v1.dat", tmp_path_factory.mktemp("onnx"))
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.integration
def test_embeddings_equal_dlib(chips_and_reference, session):
    chips, reference = chips_and_reference
    ours = session.run(None, {"input": chips})[0]
    assert ours.shape == (len(chips), 128)
    cosine = (ours * reference).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(reference, axis=1)
    max_abs = float(np.abs(ours - reference).max())
    assert float((1 - cosine).max()) < 1e-4, f"cosine distance {(1 - cosine).max()}"
    assert max_abs < 1e-4, f"max abs diff {max_abs}"


@pytest.mark.integration
def test_batch_of_8_equals_one_by_one(chips_and_reference, session):
    chips = chips_and_reference[0][:8]
    batch = session.run(None, {"input": chips})[0]
    single = np.concatenate([session.run(None, {"input": chips[i:i + 1]})[0] for i in range(len(chips))])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-5)


@pytest.mark.integration
def test_mmod_detector_converts(tmp_path):
    import onnx

    from srcext.dlib import convert_mmod

    model = convert_mmod(_model_dir() / "mmod_human_face_detector.dat")
    onnx.checker.check_model(model)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["dlib_detector_window"] == "80x80"
    assert [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim][:2] == ["batch", 1]
