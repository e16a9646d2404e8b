"""The portrait levers' measurement (issue 15): its large-photo rule, its ratios, and a run on a real portrait."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from tests.shared_data import shared_path
from tools.benchmarks.portrait_levers import WAYS, main, ratios
from tools.benchmarks.reduced_decode import is_large


def jpeg(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


def test_only_photos_whose_longer_side_reaches_the_limit_are_halved():
    assert is_large(jpeg(1280, 720), 1280)
    assert is_large(jpeg(600, 1600), 1280)
    assert not is_large(jpeg(1272, 720), 1280)
    assert not is_large(b"not a jpeg", 1280)


def test_each_way_is_compared_with_the_service_as_it_is():
    measured = {"now": [60.0, 66.0, 63.0], "both": [45.0, 42.0, 50.0]}
    assert ratios(measured) == pytest.approx({"now": 1.0, "both": 63.0 / 45.0})


def test_a_folder_without_photos_is_refused(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "no JPEG" in capsys.readouterr().err


@pytest.mark.integration
def test_every_way_is_measured_on_a_real_portrait(tmp_path, capsys):
    shutil.copy(shared_path("datasets/deepface/img4.jpg"), tmp_path / "img4.jpg")
    assert main([str(tmp_path), "--images", "1", "--repeats", "1", "--rounds", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "x |" in line]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(WAYS)
    cpu = {row.split(" | ")[0].lstrip("| "): float(row.split(" | ")[2]) for row in rows}
    assert all(value > 0 for value in cpu.values())


@pytest.fixture
def yunet_models(monkeypatch):
    """The YuNet plugin's models as they were, back after the test (the tool adds to the class)."""
    from plugins.libfacedetection.detector import FaceDetector

    monkeypatch.setattr(FaceDetector, "models", FaceDetector.models)
    return FaceDetector


def test_each_scale_becomes_a_yunet_model_of_its_own(yunet_models):
    from tools.benchmarks.yunet_scales import register_scales

    FaceDetector = yunet_models  # noqa: N806 - the class itself

    assert register_scales([1.1, 1.15]) == ["libfacedetection.FaceDetector@yunet_scaled_1100",
                                            "libfacedetection.FaceDetector@yunet_scaled_1150"]
    register_scales([1.1])  # twice: still one model
    models = {m.name: m for m in FaceDetector.models}
    assert [name for name in models if name.startswith("yunet_scaled_")] == ["yunet_scaled_1100", "yunet_scaled_1150"]
    assert FaceDetector(models["yunet_scaled_1100"]).scale == 1.1
    assert FaceDetector().scale == 1.25  # the default is untouched


def test_a_scale_out_of_range_is_refused():
    from tools.benchmarks.yunet_scales import main as yunet_scales

    with pytest.raises(SystemExit):
        yunet_scales(["--scales", "3"])


@pytest.mark.integration
def test_a_scale_is_scored_on_wider_face(yunet_models, capsys):
    from tools.benchmarks.yunet_scales import main as yunet_scales

    dataset = shared_path("datasets/wider-val-dev")
    assert yunet_scales(["--scales", "1.1", "--dataset", str(dataset), "--limit", "3"]) == 0
    assert "| `libfacedetection.FaceDetector@yunet_scaled_1100` |" in capsys.readouterr().out
