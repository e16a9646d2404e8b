"""The extras family through HTTP, configured by EXTRA_PLUGINS like any face plugin."""
from __future__ import annotations

import io
import shutil

import pytest

from plugins.extras.catalogue import MINIFASNET
from src.app import create_app
from src.config import Settings
from tests.shared_data import shared_path

pytestmark = pytest.mark.integration
EXTRAS = ("facenet.PoseEstimator", "extras.LivenessDetector", "extras.QualityEstimator")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    pytest.importorskip("torch")  # the first load converts the liveness weights
    root = tmp_path_factory.mktemp("models")
    folder = root / "extras" / "liveness" / MINIFASNET[0].name
    folder.mkdir(parents=True)
    for file in MINIFASNET[0].files:
        shutil.copy(shared_path(f"models/antispoof-minifasnet/{file.filename}"), folder)
    settings = Settings(models_root=root, models_offline=True, extras=EXTRAS)
    return create_app(settings).test_client()


def find(client, path, **fields):
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **fields}
    return client.post("/find_faces", data=data, content_type="multipart/form-data")


def test_status_and_apidocs_know_the_new_slugs(client):
    status = client.get("/status").get_json()
    assert status["available_plugins"]["liveness"] == "extras.LivenessDetector"
    assert status["available_plugins"]["quality"] == "extras.QualityEstimator"
    assert "Apache-2.0" in status["plugins"]["liveness"]["licence"]
    face = client.get("/apidocs").get_json()["components"]["schemas"]["Face"]["properties"]
    assert {"liveness", "quality"} <= set(face)


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
