"""libfacedetection.FaceDetector (YuNet compiled into the yuface wheel) on real photos."""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from facecore.device import Device
from facecore.errors import StartupError
from facecore.model_store import ModelStore
from facecore.pipeline import load_plugin
from plugins.libfacedetection.detector import YUNET, YUNET_UPSCALED, FaceDetector, openmp_thread_setter
from tests.plugins.insightface.helpers import read_rgb
from tests.shared_data import shared_path


def loaded(tmp_path, model=YUNET, device: Device | None = None) -> FaceDetector:
    detector = FaceDetector(model)
    load_plugin(detector, ModelStore(tmp_path, offline=True), device or Device())
    return detector


def test_the_library_is_pinned_by_its_sha256(tmp_path):
    wrong = dataclasses.replace(YUNET.files[0], sha256="0" * 64)
    with pytest.raises(StartupError, match="sha256|checksum"):
        loaded(tmp_path, dataclasses.replace(YUNET, files=(wrong,)))


def test_without_the_wheel_the_start_names_the_alternative(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "yuface" else real_find_spec(name, *a))
    with pytest.raises(StartupError, match="facenet.FaceDetector"):
        loaded(tmp_path)


def test_unreadable_weights_fall_back_to_the_library_with_one_warning(tmp_path, monkeypatch, caplog):
    import srcext.libfacedetection.yunet as builder
    from srcext.libfacedetection.layers import LayoutError

    def refuse(path):
        raise LayoutError(f"{path}: the layer table has 40 layers")

    monkeypatch.setattr(builder, "graph_from_library", refuse)
    with caplog.at_level(logging.WARNING, logger="plugins.libfacedetection.detector"):
        detector = loaded(tmp_path)
    warnings = [r for r in caplog.records if r.name == "plugins.libfacedetection.detector" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "calling the library itself" in warnings[0].getMessage()
    assert detector.session is None and detector._detect is not None
    assert detector.detect(np.zeros((64, 64, 3), np.uint8), 0.5) == []


def test_a_windows_library_is_not_read_as_elf(tmp_path, caplog):
    from plugins.libfacedetection.detector import library_graph

    dll = tmp_path / "libfacedetection.dll"
    dll.write_bytes(b"MZ" + b"\0" * 200)
    with caplog.at_level(logging.WARNING):
        assert library_graph(dll) is None
    assert "not an ELF file" in caplog.text


def test_the_default_path_runs_libfacedetections_weights_on_onnx_runtime(tmp_path):
    detector = loaded(tmp_path)
    assert detector.session is not None and detector._detect is None
    assert detector.runtime_description == "onnxruntime f32"


def test_its_session_keeps_the_arena_under_the_services_detection_copy(tmp_path):
    # 27.0 -> 24.9 ms per deepface portrait in the service (docs/benchmarks.md, tools.benchmarks.service_ab)
    options = loaded(tmp_path, device=Device(detection_side=640)).session.get_session_options()
    assert options.enable_cpu_mem_arena is True and options.enable_mem_pattern is False
    assert loaded(tmp_path, device=Device(detection_side=0)).session.get_session_options().enable_cpu_mem_arena is False


def test_the_bundled_openmp_runtime_is_found():
    from pathlib import Path

    import yuface.yuface as native

    assert openmp_thread_setter(Path(native.__file__).parent) is not None


@pytest.mark.integration
@pytest.mark.parametrize("path", ["graph", "library"])
@pytest.mark.parametrize("model", [YUNET_UPSCALED, YUNET], ids=lambda m: m.name)
def test_couple_has_two_faces_with_landmarks_inside(tmp_path, monkeypatch, model, path):
    from facecore.imaging import downscale
    from plugins.libfacedetection import detector as module

    if path == "library":
        monkeypatch.setattr(module, "library_graph", lambda library: None)
    detector = loaded(tmp_path, model)
    small, _ = downscale(read_rgb(shared_path("datasets/deepface/couple.jpg")), 640)  # as the pipeline does
    faces = detector.detect(small, detector.default_threshold)
    assert len(faces) == 2
    for face in faces:
        assert 0.8 < face.probability <= 1.0
        box = face.box
        assert all(box.x_min <= x <= box.x_max and box.y_min <= y <= box.y_max for x, y in face.landmarks)
        left_eye, right_eye = face.landmarks[0], face.landmarks[1]
        assert left_eye[0] < right_eye[0]  # image-left eye first, as every detector's 5 points


@pytest.mark.integration
@pytest.mark.parametrize("model", [YUNET_UPSCALED, YUNET], ids=lambda m: m.name)
def test_finds_the_43_dlib_faces(tmp_path, model):
    from tools.eval_detector_dlib_faces import evaluate

    detector = loaded(tmp_path, model)
    score = evaluate(lambda image: detector.detect(image, detector.default_threshold),
                     shared_path("datasets/dlib-faces"))
    assert score.faces == 43 and score.matched >= 42, score
    assert score.false_detections <= 2, score


@pytest.mark.integration
def test_wider_average_precision_on_the_first_photos(tmp_path):
    """The default detector through the service's pipeline on 20 WIDER photos (measured 40.3 / 90.4 for
    the 640 px YuNet-s of OpenCV's zoo on the same photos; 162 photos: docs/detectors.md)."""
    from facecore.config import Settings
    from tools.benchmark_wider import read_set, score
    from tools.common.service import build_detector_only

    truths = dict(list(read_set(shared_path("datasets/wider-val-dev")).items())[:20])
    pipeline = build_detector_only(Settings(models_root=tmp_path, models_offline=True, onnx_threads=1))
    result = score(pipeline, truths, "default")
    assert result.faces == 457 and result.large_faces == 155
    assert result.ap_all > 38 and result.ap_large > 85, result
