"""Every bad input gets a 4xx JSON {"message": ...}; the messages CompreFace's clients know stay exact."""
from __future__ import annotations

import io

import pytest

from tests.conftest import png_bytes

BAD = "400 Bad Request: "


def post(client, data, **fields):
    return client.post("/find_faces", data={"file": (io.BytesIO(data), "x.jpg"), **fields},
                       content_type="multipart/form-data")


def assert_error(response, status: int, message: str | None = None) -> None:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"message"}
    if message is not None:
        assert body["message"] == message


def test_missing_file(client):
    assert_error(client.post("/find_faces", data={}, content_type="multipart/form-data"), 400,
                 BAD + "No file is attached")


def test_empty_filename(client):
    response = client.post("/find_faces", data={"file": (io.BytesIO(b"x"), "")}, content_type="multipart/form-data")
    assert_error(response, 400, BAD + "No file is selected")


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"\x00" * 300,
                                  b"%!PS-Adobe-3.0 EPSF", b"%PDF-1.4", b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_broken_or_foreign_images(client, data):
    response = post(client, data)
    assert_error(response, 400)
    assert response.get_json()["message"].startswith(BAD + "Image has incorrect format or is broken")


@pytest.mark.parametrize("value", ["-0.1", "1.5", "abc", "nan", "inf"])
def test_bad_threshold(client, png, value):
    assert_error(post(client, png, det_prob_threshold=value), 400,
                 BAD + "Detection threshold incorrect (0 <= det_prob_threshold <= 1)")


@pytest.mark.parametrize("value,message", [("-1", "Limit value is invalid (limit >= 0)"),
                                           ("x", "Limit format is invalid (limit >= 0)"),
                                           ("1.5", "Limit format is invalid (limit >= 0)")])
def test_bad_limit(client, png, value, message):
    assert_error(post(client, png, limit=value), 400, BAD + message)


def test_bad_limit_reported_even_without_faces(client):
    assert_error(post(client, png_bytes(4, 4), limit="x"), 400, BAD + "Limit format is invalid (limit >= 0)")


def test_image_error_comes_before_argument_errors(client):
    response = post(client, b"junk", det_prob_threshold="abc")
    assert response.get_json()["message"].startswith(BAD + "Image has incorrect format")


def test_no_face(client):
    assert_error(post(client, png_bytes(4, 4)), 400, BAD + "No face is found in the given image")


@pytest.mark.parametrize("kwargs", [
    {"json": {"nofile": 1}},
    {"data": "plain text", "content_type": "text/plain"},
    {"data": "{broken json", "content_type": "application/json"},
    {"json": {"file": "abc"}},
    {"json": {"file": 12}},
    {"json": ["file"]},
])
def test_base64_bad_bodies(client, kwargs):
    assert_error(client.post("/find_faces_base64", **kwargs), 400)


def test_base64_valid_but_not_an_image(client):
    assert_error(client.post("/find_faces_base64", json={"file": "aGVsbG8="}), 400)


def test_plugin_failure_is_a_named_500(client, png):
    response = post(client, png, face_plugins="broken")
    assert_error(response, 500, "PluginError: fake.BrokenDetector error - boom")


def test_unknown_path_and_method(client):
    assert_error(client.get("/nope"), 404)
    assert client.get("/nope").get_json()["message"].startswith("404 Not Found")
    assert_error(client.get("/find_faces"), 405)


def test_body_too_large(app, png):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    client = app.test_client()
    assert_error(post(client, png_bytes(200, 200)), 413)
    assert_error(client.post("/find_faces_base64", json={"file": "A" * 5000}), 413)
