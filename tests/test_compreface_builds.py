"""CompreFace's default build's environment strings, pasted as they are: offline without models the service
stops with one line naming the missing model, its file, URL and the import command (never "unknown plugin");
with the models imported (random-weight stand-ins built by TensorFlow, zipped as CompreFace distributes them)
it starts and answers every plugin's JSON, the same from 8 threads as from one. The same for the Mobilenet and
SubCenter-ArcFace-r100 builds (and their -gpu strings): the one-line error offline, and a start with MXNet stand-ins."""
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

INSIGHTFACE_EXTRAS = ("insightface.LandmarksDetector,insightface.GenderDetector,insightface.AgeDetector,"
                      "insightface.facemask.MaskDetector,insightface.PoseEstimator")
#: CompreFace's other builds (its Makefile and custom-builds/*): the -gpu ones add GPU_IDX=0 to the same strings
BUILDS = {
    "FaceNet": COMPREFACE_DEFAULT,
    "Mobilenet": {"FACE_DETECTION_PLUGIN": "insightface.FaceDetector@retinaface_mnet025_v1",
                  "CALCULATION_PLUGIN": "insightface.Calculator@arcface_mobilefacenet",
                  "EXTRA_PLUGINS": INSIGHTFACE_EXTRAS},
    "SubCenter-ArcFace-r100": {"FACE_DETECTION_PLUGIN": "insightface.FaceDetector@retinaface_r50_v1",
                               "CALCULATION_PLUGIN": "insightface.Calculator@arcface-r100-msfdrop75",
                               "EXTRA_PLUGINS": INSIGHTFACE_EXTRAS},
}
BUILDS["Mobilenet-gpu"] = {**BUILDS["Mobilenet"], "GPU_IDX": "0"}
BUILDS["SubCenter-ArcFace-r100-gpu"] = {**BUILDS["SubCenter-ArcFace-r100"], "GPU_IDX": "0"}


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


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_every_builds_strings_offline_without_models_give_the_one_line_model_error(build, tmp_path):
    with pytest.raises(StartupError) as raised:
        create_app(load_settings({**BUILDS[build], "MODELS_ROOT": str(tmp_path), "MODELS_OFFLINE": "true"}))
    message = str(raised.value)
    assert "unknown plugin" not in message and "\n" not in message.strip()
    detector = BUILDS[build]["FACE_DETECTION_PLUGIN"]
    calculator = BUILDS[build]["CALCULATION_PLUGIN"]
    assert message.startswith((f"{detector} ", f"{calculator} ")) and "failed in load" in message
    assert "drive.google.com" in message and "python -m tools.download_models --from DIR" in message


def test_every_compreface_plugin_name_is_known(tmp_path):
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    registry = PluginRegistry.from_manager(build_plugin_manager())
    names = [COMPREFACE_DEFAULT["FACE_DETECTION_PLUGIN"], COMPREFACE_DEFAULT["CALCULATION_PLUGIN"],
             *COMPREFACE_DEFAULT["EXTRA_PLUGINS"].split(","), "facenet.Calculator@20180408-102900",
             "facenet.Calculator@inception_resnetv1_casia_masked", "agegender.AgeDetector@22801",
             "agegender.GenderDetector@21936", "facenet.facemask.MaskDetector@inception_v3_on_mafa_kaggle123",
             "insightface.FaceDetector@retinaface_mnet025_v1", "insightface.Calculator@arcface_mobilefacenet",
             "insightface.LandmarksDetector", "insightface.GenderDetector", "insightface.AgeDetector",
             "insightface.PoseEstimator", "insightface.Landmarks2d106Detector@2d106det",
             "insightface.facemask.MaskDetector", "insightface.facemask.MaskDetector@mobilenet_v2_on_mafa_kaggle123",
             "insightface.facemask.MaskDetector@resnet18_on_mafa_kaggle123",
             *(name for build in BUILDS.values() for name in (build["FACE_DETECTION_PLUGIN"],
                                                              build["CALCULATION_PLUGIN"],
                                                              *build["EXTRA_PLUGINS"].split(",")))]
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


def retinaface_stand_in(folder, prefix: str) -> None:
    """A tiny MXNet graph with RetinaFace's outputs per stride (plumbing only: it finds no face)."""
    import numpy as np

    from tests.srcext.mxnet_graphs import SymbolWriter

    writer = SymbolWriter()
    data = writer.var("data")
    heads = []
    for stride in (32, 16, 8):
        pooled = writer.op("Pooling", f"pool{stride}", [data], kernel=(stride, stride), stride=(stride, stride),
                           pool_type="avg")
        for head, channels in (("cls_prob_reshape", 4), ("bbox_pred", 8), ("landmark_pred", 20)):
            name = f"face_rpn_{head}_stride{stride}"
            weight = writer.var(f"{name}_weight", np.zeros((channels, 3, 1, 1), np.float32))
            bias = writer.var(f"{name}_bias", np.zeros(channels, np.float32))
            heads.append(writer.op("Convolution", name, [pooled, weight, bias], kernel=(1, 1), num_filter=channels))
    writer.save(folder, prefix, heads)


def zip_files(target, files: dict[str, object]) -> None:
    with zipfile.ZipFile(target, "w") as bundle:
        for name, source in files.items():
            bundle.write(source, name)


@pytest.mark.integration
@pytest.mark.mxnet_oracle
@pytest.mark.parametrize("build", ["Mobilenet", "SubCenter-ArcFace-r100"])
def test_with_the_models_imported_the_insightface_builds_start(build, tmp_path):
    """Stand-ins in CompreFace's zips: a plumbing RetinaFace, MobileFace V2 (an MXNet ArcFace-style model) for the
    calculator, the real genderage_v1, and a random gluon MobileNetV2 saved by MXNet for the mask."""
    import os
    import shutil

    import numpy as np

    from tests.srcext import gluon_oracle

    strings = BUILDS[build]
    detector = strings["FACE_DETECTION_PLUGIN"].split("@")[1]
    calculator = strings["CALCULATION_PLUGIN"].split("@")[1]
    downloads, root, work = tmp_path / "downloads", tmp_path / "models", tmp_path / "work"
    downloads.mkdir()
    work.mkdir()
    retinaface_stand_in(work, "R50")
    zip_files(downloads / f"{detector}.zip", {f"{detector}/R50-symbol.json": work / "R50-symbol.json",
                                              f"{detector}/R50-0000.params": work / "R50-0000.params"})
    mobileface = shared_path("models/mxnet/mobileface_v2")
    zip_files(downloads / f"{calculator}.zip", {
        f"{calculator}/model-symbol.json": mobileface / "MobileFace_Identification_V2-symbol.json",
        f"{calculator}/model-0000.params": mobileface / "MobileFace_Identification_V2-0000.params"})
    genderage = shared_path("models/mxnet/genderage_v1")
    zip_files(downloads / "genderage_v1.zip", {"genderage_v1/model-symbol.json": genderage / "model-symbol.json",
                                               "genderage_v1/model-0000.params": genderage / "model-0000.params"})
    mask = gluon_oracle.build(work / "mask", "mobilenet_v2_1_0", 3, np.zeros((1, 3, 224, 224), np.float32),
                              np.zeros((1, 112, 112, 3), np.uint8))
    zip_files(downloads / "mobilenetv2_1_0.zip", {"mobilenetv2_1_0.params": mask.params})
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root)], capture_output=True, text=True, timeout=900, cwd=ROOT,
                              env={**os.environ, **strings, "MODELS_ROOT": str(root)})
    assert imported.returncode == 0, imported.stderr
    client = create_app(load_settings({**strings, "MODELS_ROOT": str(root), "MODELS_OFFLINE": "true",
                                       "WARM_UP": "true"})).test_client()
    status = client.get("/status").get_json()
    assert status["calculator_version"] == strings["CALCULATION_PLUGIN"]
    assert set(status["available_plugins"]) == {"detector", "calculator", "landmarks", "age", "gender", "mask",
                                                "pose"}
    assert status["available_plugins"]["mask"] == "insightface.facemask.MaskDetector"
    photo = shared_path("datasets/deepface/img4.jpg").read_bytes()
    data = {"file": (io.BytesIO(photo), "img4.jpg"), "face_plugins": "calculator,age,gender,mask",
            "detect_faces": "false"}
    response = client.post("/find_faces", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    (face,) = response.get_json()["result"]
    assert face["gender"]["value"] in ("male", "female") and len(face["embedding"]) > 0
    assert "mask" not in face  # CompreFace leaves the mask out when detect_faces=false
    shutil.rmtree(root / "insightface" / "mask")  # all but the mask model: the error names the mask's file
    with pytest.raises(StartupError) as raised:
        create_app(load_settings({**strings, "MODELS_ROOT": str(root), "MODELS_OFFLINE": "true"}))
    assert str(raised.value).startswith("insightface.facemask.MaskDetector (model mobilenet_v2_on_mafa_kaggle123)")
    assert "mobilenetv2_1_0.params" in str(raised.value) and "\n" not in str(raised.value).strip()
