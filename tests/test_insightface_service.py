"""The insightface and opencv families selected through the environment, in the running service, offline.

Models come from ../shared/models, put into a fresh model store the way an offline user would: a detector
ONNX file under a name of one's own, CompreFace's MXNet files as they are downloaded.
"""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from facecore.app import create_app
from facecore.config import load_settings
from tests.plugins.insightface.helpers import landmarks106_stand_in
from tests.reliability.helpers import assert_same_answers_from_threads
from tests.shared_data import shared_path

pytestmark = pytest.mark.integration


def seed_store(root: Path) -> None:
    models = shared_path("models")
    own = root / "insightface" / "detector" / "my_scrfd"
    own.mkdir(parents=True)
    shutil.copy(models / "scrfd_500m_bnkps.onnx", own / "my_scrfd.onnx")
    mobileface = root / "insightface" / "calculator" / "mobileface_v2"
    shutil.copytree(models / "mxnet" / "mobileface_v2", mobileface)
    folder = root / "insightface" / "genderage" / "genderage_v1"  # one download for the age and gender slugs
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "genderage_v1.zip", "w") as archive:  # as CompreFace's Drive archive
        for file in (models / "mxnet" / "genderage_v1").iterdir():
            archive.write(file, f"genderage_v1/{file.name}")
    stand_in = root / "insightface" / "landmarks2d106" / "2d106det"  # the pack's file name, as a user places it
    stand_in.mkdir(parents=True)
    landmarks106_stand_in(stand_in / "2d106det.onnx")
    yunet = root / "opencv" / "detector" / "yunet_2023mar"
    yunet.mkdir(parents=True)
    shutil.copy(models / "yunet_s_640_640.onnx", yunet / "face_detection_yunet_2023mar.onnx")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    seed_store(root)
    return root


def app_for(store: Path, **env: str):
    base = {"MODELS_ROOT": str(store), "MODELS_OFFLINE": "true", "EXTRA_PLUGINS": ""}
    return create_app(load_settings({**base, **env})).test_client()


def find(client, name: str, **fields):
    path = shared_path(f"datasets/deepface/{name}")
    return client.post("/find_faces", data={"file": (io.BytesIO(path.read_bytes()), name), **fields},
                       content_type="multipart/form-data")


def test_insightface_family_in_the_service(store):
    client = app_for(store, FACE_DETECTION_PLUGIN="insightface.FaceDetector@my_scrfd",
                     CALCULATION_PLUGIN="insightface.Calculator@mobileface_v2",
                     EXTRA_PLUGINS="insightface.AgeDetector@genderage_v1 insightface.GenderDetector@genderage_v1 "
                                   "insightface.LandmarksDetector insightface.PoseEstimator")
    status = client.get("/status").get_json()
    assert status["available_plugins"]["detector"] == "insightface.FaceDetector@my_scrfd"
    assert status["calculator_version"] == "insightface.Calculator@mobileface_v2"
    assert status["plugins"]["calculator"]["device"] == "cpu"
    body = find(client, "couple.jpg", face_plugins="calculator,age,gender,landmarks,pose").get_json()
    assert body["plugins_versions"]["calculator"] == status["calculator_version"]
    assert len(body["result"]) == 2
    for face in body["result"]:
        assert len(face["embedding"]) == 256 and len(face["landmarks"]) == 5
        assert face["gender"]["value"] in ("male", "female") and face["age"]["low"] == face["age"]["high"]
    (woman,) = find(client, "img4.jpg", face_plugins="gender").get_json()["result"]
    assert woman["gender"]["value"] == "female"


def test_same_person_closer_than_different_people(store):
    client = app_for(store, FACE_DETECTION_PLUGIN="insightface.FaceDetector@my_scrfd",
                     CALCULATION_PLUGIN="insightface.Calculator@mobileface_v2")

    def embedding(name: str) -> np.ndarray:
        vector = np.array(find(client, name, face_plugins="calculator", limit="1").get_json()["result"][0]["embedding"])
        return vector / np.linalg.norm(vector)
    same = np.linalg.norm(embedding("img1.jpg") - embedding("img2.jpg"))
    different = np.linalg.norm(embedding("img1.jpg") - embedding("img8.jpg"))
    assert same < different


def test_opencv_yunet_in_the_service(store):
    client = app_for(store, FACE_DETECTION_PLUGIN="opencv.FaceDetector@yunet_2023mar")
    assert client.get("/status").get_json()["available_plugins"]["detector"] == "opencv.FaceDetector@yunet_2023mar"
    assert len(find(client, "couple.jpg").get_json()["result"]) == 2


THREAD_EXTRAS = ("insightface.AgeDetector@genderage_v1 insightface.GenderDetector@genderage_v1 "
                 "insightface.LandmarksDetector insightface.PoseEstimator insightface.Landmarks2d106Detector")


@pytest.mark.parametrize("detector", ["insightface.FaceDetector@my_scrfd", "opencv.FaceDetector@yunet_2023mar"])
def test_same_answers_from_8_threads(store, detector):
    """No 2d106 weights are reachable here: a stand-in graph of that shape runs the plugin's plumbing."""
    client = app_for(store, FACE_DETECTION_PLUGIN=detector, CALCULATION_PLUGIN="insightface.Calculator@mobileface_v2",
                     EXTRA_PLUGINS=THREAD_EXTRAS, MAX_IN_FLIGHT="8")
    images = [shared_path(f"datasets/deepface/{name}").read_bytes() for name in ("img1.jpg", "couple.jpg")]
    assert_same_answers_from_threads(client, images, "calculator,age,gender,landmarks,pose,landmarks2d106")


def test_the_8_thread_tests_cover_every_builtin_plugin():
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager
    from tests.plugins.extras.test_service import EXTRAS as EXTRAS_FAMILY
    from tests.reliability.test_real_plugins import CONFIGS
    from tests.test_compreface_builds import COMPREFACE_DEFAULT

    registry = PluginRegistry.from_manager(build_plugin_manager())
    builtin = {name for name, cls in registry.classes.items() if cls.__module__.startswith("plugins.")}
    settings = [load_settings(env) for env, _ in CONFIGS.values()]
    covered = {s.split("@")[0] for setting in settings for s in (setting.detector, setting.calculator, *setting.extras)}
    covered |= {"insightface.FaceDetector", "opencv.FaceDetector", "insightface.Calculator"}
    covered |= {s.split("@")[0] for s in THREAD_EXTRAS.split()}
    covered |= set(EXTRAS_FAMILY)  # tests/plugins/extras/test_service.py runs them from 8 threads
    covered.add("insightface.facemask.MaskDetector")  # tests/plugins/insightface/test_facemask_oracle.py
    compreface = load_settings(COMPREFACE_DEFAULT)  # tests/test_compreface_builds.py, 8 threads
    covered |= {s.split("@")[0] for s in (compreface.detector, compreface.calculator, *compreface.extras)}
    assert builtin <= covered, f"not run from 8 threads: {sorted(builtin - covered)}"


def test_model_name_cannot_escape_the_store(store):
    from facecore.errors import StartupError
    with pytest.raises((StartupError, ValueError)):
        app_for(store, FACE_DETECTION_PLUGIN="insightface.FaceDetector@../../x")
