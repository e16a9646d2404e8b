"""CompreFace's default build's environment strings, pasted as they are: offline without models the service
stops with one line naming the missing model, its file, URL and the import command (never "unknown plugin");
with the models imported (random-weight stand-ins built by TensorFlow, zipped as CompreFace distributes them)
it starts and answers every plugin's JSON, the same from 8 threads as from one."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import pytest

from facecore.app import create_app
from facecore.config import load_settings
from facecore.errors import StartupError
from tests.reliability.helpers import ROOT, assert_same_answers_from_threads
from tests.shared_data import shared_path

COMPREFACE_DEFAULT = {
    "FACE_DETECTION_PLUGIN": "facenet.FaceDetector",
    "CALCULATION_PLUGIN": "facenet.Calculator",
    "EXTRA_PLUGINS": "facenet.LandmarksDetector,agegender.AgeDetector,agegender.GenderDetector,"
                     "facenet.facemask.MaskDetector,facenet.PoseEstimator",
}


def settings(root, **extra):
    return load_settings({**COMPREFACE_DEFAULT, "MODELS_ROOT": str(root), "MODELS_OFFLINE": "true",
                          "WARM_UP": "true", **extra})


def test_offline_without_models_the_start_names_the_model_file_url_and_import_command(tmp_path):
    with pytest.raises(StartupError) as raised:
        create_app(settings(tmp_path))
    message = str(raised.value)
    assert "unknown plugin" not in message and "\n" not in message.strip()
    assert "facenet.Calculator (model 20180402-114759) failed in load" in message
    assert "20180402-114759.pb" in message and "drive.google.com" in message
    assert "python -m tools.download_models --from DIR" in message


def test_every_compreface_plugin_name_is_known(tmp_path):
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    registry = PluginRegistry.from_manager(build_plugin_manager())
    names = [COMPREFACE_DEFAULT["FACE_DETECTION_PLUGIN"], COMPREFACE_DEFAULT["CALCULATION_PLUGIN"],
             *COMPREFACE_DEFAULT["EXTRA_PLUGINS"].split(","), "facenet.Calculator@20180408-102900",
             "facenet.Calculator@inception_resnetv1_casia_masked", "agegender.AgeDetector@22801",
             "agegender.GenderDetector@21936", "facenet.facemask.MaskDetector@inception_v3_on_mafa_kaggle123",
             "insightface.FaceDetector@retinaface_mnet025_v1", "insightface.Calculator@arcface_mobilefacenet",
             "insightface.LandmarksDetector", "insightface.GenderDetector", "insightface.AgeDetector",
             "insightface.PoseEstimator", "insightface.Landmarks2d106Detector@2d106det"]
    for name in names:
        assert str(registry.create(name)) == name


def zip_folder(target, top: str, files: dict[str, object]) -> None:
    with zipfile.ZipFile(target, "w") as bundle:
        bundle.writestr(f"{top}/", b"")
        for name, source in files.items():
            bundle.write(source, f"{top}/{name}")


@pytest.mark.integration
@pytest.mark.tensorflow_oracle
def test_with_the_models_imported_the_default_build_starts_and_answers(tmp_path):
    from tests.srcext import tf_agegender, tf_facenet, tf_keras_mask

    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    zip_folder(downloads / "20180402-114759.zip", "20180402-114759",
               {"20180402-114759.pb": tf_facenet.build() / "facenet.pb"})
    for step, labels in (("22801", 8), ("21936", 2)):
        folder = tf_agegender.build(labels)
        zip_folder(downloads / f"{step}.zip", step, {
            f"model.ckpt-{step}{suffix}": next(folder.glob(f"model.ckpt-*{suffix}"))
            for suffix in (".index", ".data-00000-of-00001")})
    saved = tf_keras_mask.build() / "saved_tf21"
    zip_folder(downloads / "inception_v3_on_mafa_kaggle123.zip", "inception_v3_on_mafa_kaggle123",
               {path.relative_to(saved).as_posix(): path for path in saved.rglob("*") if path.is_file()})
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root)], capture_output=True, text=True, timeout=900, cwd=ROOT,
                              env={**__import__("os").environ, **COMPREFACE_DEFAULT, "MODELS_ROOT": str(root)})
    assert imported.returncode == 0, imported.stderr
    client = create_app(settings(root, MAX_IN_FLIGHT="8")).test_client()
    status = client.get("/status").get_json()
    assert status["calculator_version"] == "facenet.Calculator"
    assert set(status["available_plugins"]) == {"detector", "calculator", "landmarks", "age", "gender", "mask",
                                                "pose"}
    photo = shared_path("datasets/deepface/img4.jpg").read_bytes()
    data = {"file": (io.BytesIO(photo), "img4.jpg"), "face_plugins": "calculator,age,gender,mask,landmarks,pose"}
    body = client.post("/find_faces", data=data, content_type="multipart/form-data").get_json()
    (face,) = body["result"]
    assert len(face["embedding"]) == 512
    assert face["mask"]["value"] in ("without_mask", "with_mask", "mask_weared_incorrect")
    assert 0 <= face["mask"]["probability"] <= 1
    assert (face["age"]["low"], face["age"]["high"]) in ((0, 2), (4, 6), (8, 12), (15, 20), (25, 32), (38, 43),
                                                         (48, 53), (60, 100))
    assert face["gender"]["value"] in ("male", "female")
    assert set(body["plugins_versions"]) == {"detector", "calculator", "age", "gender", "mask", "landmarks", "pose"}
    assert set(face["execution_time"]) >= {"mask", "age", "gender", "calculator", "detector"}
    images = [shared_path(f"datasets/deepface/{name}").read_bytes() for name in ("img1.jpg", "couple.jpg")]
    assert_same_answers_from_threads(client, images, "calculator,age,gender,mask,landmarks,pose")
