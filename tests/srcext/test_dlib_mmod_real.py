"""The MMOD detector on ONNX Runtime against ``dlib.cnn_face_detection_model_v1(dat)(image, 0)`` on real photos."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import shared_path

#: Photos with faces of 80 px or more (found at upsample 0), and one without a face.
DLIB_FACES = ["2008_001009.jpg", "2008_001322.jpg", "2008_002506.jpg", "2009_004587.jpg", "2008_002079.jpg"]
DEEPFACE = ["img1.jpg", "couple.jpg", "selfie-many-people.jpg"]  # scaled to 640 px wide, as a service would see them
#: Measured: rectangles identical, confidences within 1.35e-6 relative (float32 summation order).
CONFIDENCE_RTOL = 1e-5


def _model_path() -> Path:
    models = pytest.importorskip("face_recognition_models")
    return Path(models.__file__).parent / "models" / "mmod_human_face_detector.dat"


def _images() -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    images = []
    for name in DLIB_FACES:
        images.append((name, np.asarray(Image.open(shared_path("datasets/dlib-faces") / name).convert("RGB"))))
    for name in DEEPFACE:
        photo = Image.open(shared_path("datasets/deepface") / name).convert("RGB")
        size = (640, round(photo.height * 640 / photo.width))
        images.append((name, np.asarray(photo.resize(size, Image.BILINEAR))))
    return images


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    dlib = pytest.importorskip("dlib")
    from srcext.dlib import MmodDetector, convert_cached

    onnx_path = convert_cached(_model_path(), tmp_path_factory.mktemp("onnx"))
    return dlib.cnn_face_detection_model_v1(str(_model_path())), MmodDetector.from_onnx(onnx_path)


@pytest.mark.integration
def test_detections_equal_dlib(both):
    reference, ours = both
    total = 0
    for name, image in _images():
        expected = sorted(((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence)
                           for d in reference(image, 0)), key=lambda item: -item[4])
        found = [(d.left, d.top, d.right, d.bottom, d.confidence) for d in ours(image)]
        assert len(found) == len(expected), f"{name}: dlib {expected}, onnx {found}"
        for want, got in zip(expected, found):
            assert got[:4] == want[:4], f"{name}: dlib {want}, onnx {got}"
            assert got[4] == pytest.approx(want[4], rel=CONFIDENCE_RTOL), name
        total += len(found)
    assert total >= 18  # 2 + 3 + 3 + 2 + 0 + 1 + 2 + 5 faces


@pytest.mark.integration
def test_plugin_backends_agree(tmp_path):
    """``dlib.FaceDetector@mmod``: the ONNX backend (default) gives dlib's boxes and probabilities."""
    pytest.importorskip("dlib")
    import dataclasses

    from facecore.device import Device
    from facecore.model_store import ModelStore
    from plugins.dlib import models as specs
    from plugins.dlib.detector import FaceDetector

    store = ModelStore(tmp_path, offline=True)
    image = dict(_images())["couple.jpg"]
    found = {}
    for backend in ("onnx", "dlib"):
        spec = dataclasses.replace(specs.MMOD_SPEC, options={**specs.MMOD_SPEC.options, "backend": backend})
        plugin = FaceDetector(spec)
        plugin.load(store.context_for(plugin, Device(detection_side=640)))  # the service's detection copy
        assert plugin.describe()["backend"] == backend
        if backend == "onnx":  # bounded by the copy, so it keeps ONNX Runtime's arena; the boxes stay dlib's
            assert plugin._detector.session.get_session_options().enable_cpu_mem_arena is True
        found[backend] = sorted(plugin.detect(image, 0.5), key=lambda face: -face.probability)
    assert len(found["onnx"]) == len(found["dlib"]) == 2
    for ours, theirs in zip(found["onnx"], found["dlib"]):
        assert ours.box == theirs.box
        assert ours.probability == pytest.approx(theirs.probability, rel=CONFIDENCE_RTOL)
