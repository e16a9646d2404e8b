"""The extras family through HTTP, configured by EXTRA_PLUGINS like any face plugin."""
from __future__ import annotations

import io
import shutil

import pytest

from facecore.app import create_app
from facecore.config import Settings
from plugins.extras.catalogue import AIZOO, FER_EMOTION, FER_GENDER, MINIFASNET
from tests.reliability.helpers import assert_same_answers_from_threads
from tests.shared_data import shared_path

pytestmark = pytest.mark.integration
EXTRAS = ("facenet.PoseEstimator", "extras.LivenessDetector", "extras.QualityEstimator", "extras.EmotionDetector",
          "extras.EmotionScores", "extras.GenderDetector", "extras.MaskDetector")
SHARED_FOLDERS = {"liveness": "antispoof-minifasnet", "emotion": "emotion-fer", "gender": "emotion-fer",
                  "mask": "facemask-aizoo"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    pytest.importorskip("torch")  # the first load converts the liveness weights
    root = tmp_path_factory.mktemp("models")
    for specs, slug in ((MINIFASNET, "liveness"), (FER_EMOTION, "emotion"), (FER_GENDER, "gender"), (AIZOO, "mask")):
        folder = root / "extras" / slug / specs[0].name
        folder.mkdir(parents=True)
        for file in specs[0].files:
            shutil.copy(shared_path(f"models/{SHARED_FOLDERS[slug]}/{file.filename}"), folder)
    settings = Settings(models_root=root, models_offline=True, extras=EXTRAS, max_in_flight=8)  # 8 threads, none refused
    return create_app(settings).test_client()


def find(client, path, **fields):
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **fields}
    return client.post("/find_faces", data=data, content_type="multipart/form-data")


def test_status_and_apidocs_know_the_new_slugs(client):
    status = client.get("/status").get_json()
    assert status["available_plugins"]["liveness"] == "extras.LivenessDetector"
    assert status["available_plugins"]["quality"] == "extras.QualityEstimator"
    assert status["available_plugins"]["mask"] == "extras.MaskDetector"
    assert status["available_plugins"]["gender"] == "extras.GenderDetector"
    assert status["plugins"]["mask"]["licence"].startswith("MIT")
    assert "Apache-2.0" in status["plugins"]["liveness"]["licence"]
    face = client.get("/apidocs").get_json()["components"]["schemas"]["Face"]["properties"]
    assert {"liveness", "quality", "emotion", "emotions", "mask"} <= set(face)


def test_find_faces_answers_liveness_and_quality(client):
    samples = shared_path("models/antispoof-minifasnet/samples")
    real = find(client, samples / "image_T1.jpg", face_plugins="liveness,quality").get_json()["result"][0]
    spoof = find(client, samples / "image_F2.jpg", face_plugins="liveness").get_json()["result"][0]
    assert real["liveness"]["value"] == "real" and spoof["liveness"]["value"] == "spoof"
    assert 0 < real["quality"]["score"] <= 1 and "quality" not in spoof
    assert {"liveness", "quality"} <= set(real["execution_time"])


def test_whole_image_answers_quality_but_not_liveness(client):
    photo = shared_path("datasets/deepface/img1.jpg")
    face = find(client, photo, face_plugins="liveness,quality", detect_faces="false").get_json()["result"][0]
    assert "liveness" not in face and face["quality"]["pose"] == {"pitch": 0.0, "yaw": 0.0, "roll": 0.0}


def test_find_faces_answers_emotion_gender_and_mask(client):
    photo = shared_path("datasets/deepface/img1.jpg")  # a smiling woman
    face = find(client, photo, face_plugins="emotion,emotions,gender,mask").get_json()["result"][0]
    assert face["emotion"]["value"] == "happy" and face["gender"]["value"] == "female"
    assert face["mask"]["value"] == "without_mask" and len(face["emotions"]) == 7


def test_same_images_from_8_threads_give_identical_results(client):
    images = [shared_path(f"datasets/deepface/{name}").read_bytes() for name in ("couple.jpg", "img16.jpg")]
    assert_same_answers_from_threads(client, images, "liveness,quality,emotion,emotions,gender,mask")
