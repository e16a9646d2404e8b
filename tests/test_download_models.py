"""tools.download_models: fetch or import what the configured plugins need, and prepare derived files."""
from __future__ import annotations

import shutil
import zipfile

import pytest

from tests.shared_data import shared_path
from tools import download_models


def test_list_names_every_installed_plugin(capsys):
    assert download_models.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("facenet.FaceDetector", "dlib.Calculator", "insightface.Calculator", "opencv.FaceDetector"):
        assert name in out


def test_defaults_need_no_download_and_are_prepared(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELS_OFFLINE", "true")
    assert download_models.main(["--root", str(tmp_path)]) == 0
    assert "ok   dlib.Calculator" in capsys.readouterr().out
    assert list(tmp_path.rglob("*.onnx")), "the dlib ResNet was converted at build time"


def test_import_from_a_folder_offline(tmp_path, capsys):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    with zipfile.ZipFile(incoming / "genderage_v1.zip", "w") as archive:
        for file in shared_path("models/mxnet/genderage_v1").iterdir():
            archive.write(file, f"genderage_v1/{file.name}")
    shutil.copy(shared_path("models/yunet_s_640_640.onnx"), incoming / "face_detection_yunet_2023mar.onnx")
    root = tmp_path / "store"
    code = download_models.main(["--root", str(root), "--from", str(incoming), "--plugins",
                                 "insightface.AgeDetector@genderage_v1", "insightface.GenderDetector@genderage_v1",
                                 "opencv.FaceDetector@yunet_2023mar"])
    assert code == 0, capsys.readouterr().err
    assert (root / "insightface" / "genderage" / "genderage_v1" / "genderage_v1.zip").exists()
    assert (root / "opencv" / "detector" / "yunet_2023mar" / "face_detection_yunet_2023mar.onnx").exists()


def test_missing_model_offline_fails_with_exit_1(tmp_path, capsys):
    code = download_models.main(["--root", str(tmp_path), "--from", str(tmp_path), "--plugins",
                                 "opencv.FaceDetector@yunet_2023mar"])
    assert code == 1
    assert "FAIL opencv.FaceDetector@yunet_2023mar" in capsys.readouterr().err


@pytest.mark.parametrize("selection", ["nope.X", "dlib.Calculator@nope"])
def test_bad_selection_is_exit_1(selection, capsys):
    assert download_models.main(["--plugins", selection]) == 1
    assert "error:" in capsys.readouterr().err


@pytest.mark.integration
def test_liveness_weights_import_offline_and_are_converted_once(tmp_path, capsys):
    pytest.importorskip("torch")
    root = tmp_path / "store"
    args = ["--root", str(root), "--from", str(shared_path("models/antispoof-minifasnet")),
            "--plugins", "extras.LivenessDetector"]
    assert download_models.main(args) == 0, capsys.readouterr().err
    folder = root / "extras" / "liveness" / "minifasnet_v2_v1se"
    converted = sorted(p.name for p in folder.glob("*.onnx"))
    assert converted == ["2.7_80x80_MiniFASNetV2.onnx", "4_0_0_80x80_MiniFASNetV1SE.onnx"]
    stamps = [p.stat().st_mtime_ns for p in sorted(folder.glob("*.onnx"))]
    assert download_models.main(args) == 0
    assert [p.stat().st_mtime_ns for p in sorted(folder.glob("*.onnx"))] == stamps


def test_list_names_the_extras_and_their_licences(capsys):
    assert download_models.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "extras.LivenessDetector" in out and "Apache-2.0" in out
    assert "extras.QualityEstimator" in out
    assert "extras.MaskDetector" in out and "aizoo (MIT" in out and "extras.EmotionDetector" in out


@pytest.mark.integration
def test_keras_and_tensorflow_extras_import_offline_and_convert(tmp_path, capsys):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for folder in ("emotion-fer", "facemask-aizoo"):
        for file in shared_path(f"models/{folder}").iterdir():
            shutil.copy(file, incoming)
    root = tmp_path / "store"
    code = download_models.main(["--root", str(root), "--from", str(incoming), "--plugins", "extras.EmotionDetector",
                                 "extras.GenderDetector", "extras.MaskDetector@aizoo"])
    assert code == 0, capsys.readouterr().err
    for slug, model, onnx in (("emotion", "fer2013_mini_xception", "fer2013_mini_XCEPTION.102-0.66.onnx"),
                              ("gender", "gender_mini_xception", "gender_mini_XCEPTION.21-0.95.onnx"),
                              ("mask", "aizoo", "face_mask_detection.onnx")):
        assert (root / "extras" / slug / model / onnx).is_file(), slug
