"""The CompreFace contract, field by field, on fake plugins (compreface-core-api.md sections 1 and 8)."""
from __future__ import annotations

import base64
import io

import pytest

from facecore import parallel
from facecore.app import create_app
from tests.conftest import png_bytes
from tests.fakes import FAKE_SETTINGS, Calculator, FaceDetector, fake_pipeline

ALL = "calculator,age,landmarks,pose"


def post(client, data: bytes, **fields):
    form = {"file": (io.BytesIO(data), "face.png"), **fields}
    return client.post("/find_faces", data=form, content_type="multipart/form-data")


def test_healthcheck(client):
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert response.get_json() == {"status": "OK"}


def test_status_fields_and_strict_slashes(client):
    for path in ("/status", "/status/"):
        body = client.get(path).get_json()
        assert body["status"] == "OK"
        assert body["build_version"] == "dev"
        assert body["calculator_version"] == "fake.Calculator@m2"
        assert body["similarity_coefficients"] == [1.2, 6.0]
        assert body["available_plugins"] == {
            "age": "fake.AgeDetector", "calculator": "fake.Calculator@m2", "detector": "fake.FaceDetector",
            "landmarks": "fake.LandmarksDetector", "pose": "fake.PoseEstimator", "broken": "fake.BrokenDetector"}


def test_keys_are_sorted_and_no_cache_header(client, png):
    response = post(client, png, face_plugins=ALL)
    text = response.get_data(as_text=True)
    assert text.index('"plugins_versions"') < text.index('"result"')
    face = text[text.index('"result"'):]
    assert face.index('"age"') < face.index('"box"') < face.index('"embedding"') < face.index('"execution_time"')
    assert response.headers["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, proxy-revalidate"


def test_find_faces_full_shape(client, png):
    body = post(client, png, face_plugins=ALL + ",bogus", limit="1").get_json()
    assert body["plugins_versions"] == {"age": "fake.AgeDetector", "calculator": "fake.Calculator@m2",
                                        "detector": "fake.FaceDetector", "landmarks": "fake.LandmarksDetector",
                                        "pose": "fake.PoseEstimator"}
    (face,) = body["result"]
    assert face["box"] == {"probability": 0.9, "x_max": 60, "x_min": 10, "y_max": 70, "y_min": 10}
    assert face["age"] == {"high": 32, "low": 25, "probability": 0.5}
    assert face["embedding"] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)
    assert face["landmarks"] == [[15, 15], [55, 15], [35, 40], [15, 65], [55, 65]]
    assert face["pose"] == {"pitch": 1.0, "yaw": 2.0, "roll": 3.0}
    assert set(face["execution_time"]) == {"age", "calculator", "detector", "landmarks", "pose"}
    assert all(isinstance(v, int) for v in face["execution_time"].values())


def test_calculator_version_identical_in_find_faces_and_status(client, png):
    body = post(client, png, face_plugins="calculator").get_json()
    assert body["plugins_versions"]["calculator"] == client.get("/status").get_json()["calculator_version"]


def test_without_plugins_only_box_and_time(client, png):
    body = post(client, png).get_json()
    assert body["plugins_versions"] == {"detector": "fake.FaceDetector"}
    assert [sorted(f) for f in body["result"]] == [["box", "execution_time"]] * 2


def test_sorted_by_area_and_limit(client, png):
    faces = post(client, png).get_json()["result"]
    areas = [(f["box"]["x_max"] - f["box"]["x_min"]) * (f["box"]["y_max"] - f["box"]["y_min"]) for f in faces]
    assert areas == sorted(areas, reverse=True) and len(areas) == 2
    assert len(post(client, png, limit="0").get_json()["result"]) == 2
    assert len(post(client, png, limit="").get_json()["result"]) == 2


def test_limit_applies_before_plugins(client, png):
    Calculator.batches.clear()
    post(client, png, face_plugins="calculator", limit="1")
    assert Calculator.batches == [1]


@pytest.mark.parametrize(("threads", "batches"), [(1, [2]), (2, [1, 1]), (3, [1, 1])])
@pytest.mark.parametrize("idle", ["all", "none"])
def test_a_plugin_gets_an_images_faces_in_one_batch_per_face_thread(png, threads, batches, idle, monkeypatch):
    """Busy or idle, the same batches: a model's floats may depend on its batch, and an answer must not
    depend on the load of the moment (one thread then runs them in turn)."""
    monkeypatch.setattr(parallel, "idle_cores", lambda cores: cores if idle == "all" else 0)
    settings = FAKE_SETTINGS.with_overrides(face_threads=threads)
    client = create_app(settings, pipeline=fake_pipeline(settings)).test_client()
    Calculator.batches.clear()
    post(client, png, face_plugins="calculator")
    assert sorted(Calculator.batches) == batches


def test_threshold_is_strict(client, png):
    assert len(post(client, png, det_prob_threshold="0.6").get_json()["result"]) == 1
    assert len(post(client, png, det_prob_threshold="0.59").get_json()["result"]) == 2
    response = post(client, png, det_prob_threshold="1")
    assert response.status_code == 400
    assert response.get_json() == {"message": "400 Bad Request: No face is found in the given image"}


def test_query_args_work_like_form_fields(client, png):
    response = client.post("/find_faces?limit=1&face_plugins=age", data={"file": (io.BytesIO(png), "x.png")},
                           content_type="multipart/form-data")
    body = response.get_json()
    assert len(body["result"]) == 1 and "age" in body["result"][0]


def test_boxes_in_original_pixels_when_downscaled(client):
    big = png_bytes(1000, 1000, noise=False)
    face = post(client, big, limit="1").get_json()["result"][0]
    assert face["box"]["x_min"] == 100 and face["box"]["x_max"] == 600


def test_base64_endpoint_same_response(client, png):
    encoded = base64.b64encode(png).decode()
    body = client.post("/find_faces_base64?face_plugins=age&limit=1", json={"file": encoded}).get_json()
    assert body == post(client, png, face_plugins="age", limit="1").get_json() | {"result": body["result"]}
    assert body["result"][0]["age"]["low"] == 25
    data_uri = client.post("/find_faces_base64", json={"file": "data:image/png;base64," + encoded})
    assert data_uri.status_code == 200


def test_detect_faces_false_whole_image(client):
    image = png_bytes(40, 20)
    body = post(client, image, detect_faces="false", face_plugins="calculator,pose,landmarks").get_json()
    (face,) = body["result"]
    assert face["box"] == {"probability": 1.0, "x_max": 40, "x_min": 0, "y_max": 20, "y_min": 0}
    assert "pose" not in face and "pose" not in body["plugins_versions"]
    assert face["landmarks"] == []


def test_detect_faces_false_with_broken_image_does_not_leak(client, png):
    before = FaceDetector.calls
    assert post(client, b"garbage", detect_faces="false").status_code == 400
    body = post(client, png).get_json()
    assert FaceDetector.calls == before + 1
    assert len(body["result"]) == 2 and body["result"][0]["box"]["probability"] == 0.9


def test_scan_faces_legacy_shape(client, png):
    body = client.post("/scan_faces", data={"file": (io.BytesIO(png), "x.png")},
                       content_type="multipart/form-data").get_json()
    assert body["calculator_version"] == "ScannerWithPlugins"
    assert sorted(body["result"][0]) == ["box", "embedding", "execution_time"]
    assert sorted(body["result"][0]["execution_time"]) == ["calculator", "detector"]


def test_vectorize_seed_shape(client, png):
    body = client.post("/vectorize", data={"file": (io.BytesIO(png), "x.png")},
                       content_type="multipart/form-data").get_json()
    assert body[0]["box"] == [10, 10, 60, 70]
    assert body[0]["score"] == 0.9
    assert body[0]["vector"] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)


def test_readiness(client):
    assert client.get("/readiness").status_code == 200


def test_timing_listeners_see_every_plugin_call(app, client, png):
    seen = []
    app.extensions["facecore.pipeline"].timing_listeners.append(lambda p, ms, n: seen.append((p.slug, n)))
    post(client, png, face_plugins="calculator,age")
    assert seen == [("detector", 2), ("calculator", 2), ("age", 2)]


def test_the_routes_are_listed_once_by_the_blueprint():
    """The limits' image endpoints come from the blueprint's rules; metric labels from the routed endpoint."""
    from facecore.app import create_app
    from facecore.web.endpoints import route_endpoints
    from tests.fakes import FAKE_SETTINGS, fake_pipeline

    app = create_app(FAKE_SETTINGS, pipeline=fake_pipeline())
    assert route_endpoints(app, "POST") == {"find_faces", "find_faces_base64", "scan_faces", "vectorize"}
    assert app.extensions["facecore.guard"].image_endpoints == route_endpoints(app, "POST")
    assert route_endpoints(app) >= {"healthcheck", "status", "metrics"}
