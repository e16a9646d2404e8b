"""``INFERENCE_PRECISION=calculator:int8``: the service serves the int8 copy of the dlib ResNet that
``python -m tools.benchmarks.quantize`` wrote into the model store, and says so in /status.

The copy is calibrated here on 24 real CelebA photos (``../shared``); its embeddings must stay close to the f32
network's on other real faces (LFW over 6,000 pairs: 98.35 % against 98.50 %, docs/benchmarks.md) and must not
be the f32 ones (else the setting would not be running the copy).
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from facecore.app import create_app
from facecore.config import Settings
from facecore.inference_runtime import parse_plan
from tests.shared_data import shared_path

pytestmark = pytest.mark.integration
PHOTOS = ("img1.jpg", "img2.jpg", "couple.jpg")


def embeddings(client, folder) -> list[np.ndarray]:
    vectors = []
    for name in PHOTOS:
        data = {"file": (io.BytesIO((folder / name).read_bytes()), name)}
        reply = client.post("/find_faces?face_plugins=calculator", data=data, content_type="multipart/form-data")
        assert reply.status_code == 200, reply.get_json()
        for face in sorted(reply.get_json()["result"], key=lambda f: f["box"]["x_min"]):
            vectors.append(np.asarray(face["embedding"], dtype=np.float64))
    return vectors


def same_person(vectors: list[np.ndarray]) -> list[bool]:
    """dlib's rule on every pair: Euclidean distance under 0.6."""
    return [float(np.linalg.norm(a - b)) < 0.6 for i, a in enumerate(vectors) for b in vectors[i + 1:]]


def settings(root, precision: str) -> Settings:
    return Settings(models_root=root, models_offline=True, extras=(), inference=parse_plan("onnxruntime", precision))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A model store holding the int8 copy, written by the tool as a user runs it."""
    from tools.benchmarks import quantize

    calibration = shared_path("datasets/celeba-train")
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELS_ROOT", str(root))
        patch.setenv("MODELS_OFFLINE", "true")
        patch.delenv("INFERENCE_PRECISION", raising=False)
        assert quantize.main(["--calibration", str(calibration), "--photos", "24"]) == 0
    return root


def test_the_int8_copy_is_served_close_to_f32_and_reported(store):
    deepface = shared_path("datasets/deepface")
    f32 = create_app(settings(store, "f32")).test_client()
    int8 = create_app(settings(store, "calculator:int8")).test_client()
    assert int8.get("/status").get_json()["plugins"]["calculator"]["runtime"] == "onnxruntime int8"
    assert f32.get("/status").get_json()["plugins"]["calculator"]["runtime"] == "onnxruntime f32"
    want, got = embeddings(f32, deepface), embeddings(int8, deepface)
    assert len(want) == len(got) == 4  # img1, img2, the couple's two faces
    cosines = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(want, got)]
    assert min(cosines) > 0.99, cosines
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(want, got)) > 1e-4  # really another network
    # the same decisions on all 6 pairs: img1, img2 and the couple's left face are one woman, the right face a man
    # (measured distances f32 / int8: 0.38 / 0.40 within the woman's photos, 0.97 to 1.01 to the man)
    assert same_person(got) == same_person(want) == [True, True, False, True, False, False]


def test_int8_without_the_copy_stops_the_start_saying_how_to_make_it(tmp_path):
    with pytest.raises(Exception, match="tools.benchmarks.quantize"):
        create_app(settings(tmp_path, "calculator:int8")).test_client().get("/readiness")
