"""Declared models and sources, registration, the MXNet path's errors, and the measured figures' bounds."""
from __future__ import annotations

import sys

import pytest

import plugins.insightface
from facecore.model_store import ModelNotAvailable
from plugins.insightface.calculator import Calculator
from plugins.insightface.catalogue import CALCULATORS, DETECTORS, GENDERAGE, LANDMARKS106
from plugins.insightface.detector import FaceDetector


def test_registration_and_defaults():
    names = [cls.__name__ for cls in plugins.insightface.register_plugins()]
    assert names == ["FaceDetector", "Calculator", "AgeDetector", "GenderDetector", "LandmarksDetector",
                     "Landmarks2d106Detector", "PoseEstimator", "MaskDetector"]
    # CompreFace's code's first tuples: what its names without @model mean
    assert DETECTORS[0].name == "retinaface_mnet025_v1" and CALCULATORS[0].name == "arcface_mobilefacenet"
    assert [m.name for m in DETECTORS[:3]] == ["retinaface_mnet025_v1", "retinaface_mnet025_v2", "retinaface_r50_v1"]
    assert GENDERAGE[0].name == "genderage_v1"
    assert {"det_10g", "det_2.5g", "det_500m", "retinaface_mnet025_v1", "retinaface_mnet025_v2"} <= {
        m.name for m in DETECTORS}
    assert {"w600k_r50", "w600k_mbf", "glintr100", "mobileface_v2", "arcface_resnet50"} <= {m.name for m in CALCULATORS}
    assert LANDMARKS106[0].name == "2d106det"


def test_sources_are_the_official_locations():
    det = next(m for m in DETECTORS if m.name == "det_10g")
    assert det.files[0].source == "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip"
    assert det.files[0].member == "det_10g.onnx" and "non-commercial" in det.licence
    r50 = next(m for m in DETECTORS if m.name == "retinaface_r50_v1").files[0]
    assert r50.source == "gdrive:1LZ5h9f_YC5EdbIZAqVba9TKHipi90JBj" and r50.member is None
    mobileface = next(m for m in CALCULATORS if m.name == "mobileface_v2")
    assert mobileface.licence == "MIT" and all(f.source.startswith(
        "https://raw.githubusercontent.com/becauseofAI/MobileFace/master/MobileFace_Identification/")
        for f in mobileface.files)


def test_without_the_converter_an_mxnet_model_fails_with_a_clear_message(tmp_path, monkeypatch):
    from tests.plugins.insightface.measure import mxnet_plugin
    from tests.shared_data import shared_path

    source = shared_path("models/mxnet/mobileface_v2")
    monkeypatch.setitem(sys.modules, "srcext.mxnet", None)
    with pytest.raises(ModelNotAvailable, match="needs the MXNet->ONNX converter srcext.mxnet"):
        mxnet_plugin(Calculator, CALCULATORS, "mobileface_v2", "calculator", source, tmp_path)


def test_custom_models_are_local_onnx_files():
    spec = FaceDetector.custom_model("my_scrfd")
    assert [(f.filename, f.source) for f in spec.files] == [("my_scrfd.onnx", "local")]
    assert Calculator.custom_model("mine").similarity_coefficients is not None


@pytest.mark.integration
def test_genderage_v1_gender_accuracy_on_deepface():
    import tempfile
    from pathlib import Path

    from plugins.insightface.genderage import AgeDetector, GenderDetector
    from tests.plugins.insightface import measure
    from tests.shared_data import shared_path

    source = shared_path("models/mxnet/genderage_v1")
    shared_path("datasets/deepface")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        age, gender = (measure.mxnet_plugin(cls, GENDERAGE, "genderage_v1", "genderage", source, root)
                       for cls in (AgeDetector, GenderDetector))
        found = measure.genders((age, gender), measure.scrfd(root))
    right = sum(found[n][0] == g for n, g in measure.DEEPFACE_GENDERS.items())
    assert right >= 56 and found[4][0] == "female", found  # measured 59/61


@pytest.mark.integration
def test_mobileface_v2_verification_figures():
    import tempfile
    from pathlib import Path

    from tests.plugins.insightface import measure
    from tests.shared_data import shared_path

    source = shared_path("models/mxnet/mobileface_v2")
    shared_path("datasets/lfw-aligned-100pair")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        calculator = measure.mxnet_plugin(Calculator, CALCULATORS, "mobileface_v2", "calculator", source, root)
        lfw = measure.lfw_verification(calculator)
        deepface = measure.deepface_verification(calculator, measure.scrfd(root))
    assert lfw.pairs == 200 and lfw.accuracy >= 0.78, lfw  # measured 0.825
    assert deepface.pairs == 300 and deepface.accuracy >= 0.95, deepface  # measured 1.0
