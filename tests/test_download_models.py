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
