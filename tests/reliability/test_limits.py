"""Body cap, pixel cap, formats and frames, through the HTTP layer (fake plugins, test client)."""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import textwrap

import pytest

from facecore.app import create_app
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.reliability.helpers import ROOT, animated_gif, image_bytes

SMALL_CAP = 50_000


@pytest.fixture
def small_cap_client():
    app = create_app(FAKE_SETTINGS.with_overrides(max_body_bytes=SMALL_CAP), pipeline=fake_pipeline())
    return app.test_client()


def assert_json_error(response, status: int, contains: str = "") -> None:
    assert response.status_code == status, response.data[:200]
    assert response.is_json and set(response.get_json()) == {"message"}
    assert contains in response.get_json()["message"]


def test_multipart_over_cap_is_413(small_cap_client):
    body = {"file": (io.BytesIO(b"\xff\xd8\xff" + bytes(SMALL_CAP)), "x.jpg")}
    response = small_cap_client.post("/find_faces", data=body, content_type="multipart/form-data")
    assert_json_error(response, 413, f"limit of {SMALL_CAP} bytes")


def test_base64_over_cap_is_413(small_cap_client):
    payload = json.dumps({"file": base64.b64encode(bytes(SMALL_CAP)).decode()})
    assert_json_error(small_cap_client.post("/find_faces_base64", data=payload, content_type="application/json"), 413)


def test_just_under_cap_is_served(small_cap_client):
    image = image_bytes("JPEG", 100, 100)
    assert len(image) < SMALL_CAP - 500
    response = small_cap_client.post("/find_faces", data={"file": (io.BytesIO(image), "x.jpg")},
                                     content_type="multipart/form-data")
    assert response.status_code == 200


def test_chunked_body_over_cap_is_413_while_reading(small_cap_client):
    """No Content-Length: the guard reads at most cap + 1 bytes and answers 413."""
    read = []

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            read.append(len(buffer))
            buffer[:] = b"\x00" * len(buffer)
            return len(buffer)

    from werkzeug.test import create_environ

    environ = create_environ("/find_faces", method="POST", content_type="multipart/form-data; boundary=x")
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(Endless()), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    seen = []
    body = b"".join(small_cap_client.application.wsgi_app(environ, lambda status, headers: seen.append(status)))
    assert seen == ["413 Request Entity Too Large"]
    assert json.loads(body)["message"].startswith("413 Request Entity Too Large: Request body exceeds")
    assert sum(read) <= SMALL_CAP + 2 * io.DEFAULT_BUFFER_SIZE


def test_pixel_cap_from_header(client):
    from tests.reliability.helpers import huge_png

    response = client.post("/find_faces", data={"file": (io.BytesIO(huge_png(8000, 7000)), "x.png")},
                           content_type="multipart/form-data")
    assert_json_error(response, 400, "Image is too large: 8000x7000 pixels exceeds the limit of 50000000")


RSS_PROBE = textwrap.dedent('''
    import io, gc, psutil
    from facecore.app import create_app
    from tests.fakes import FAKE_SETTINGS, fake_pipeline
    from tests.reliability.helpers import huge_png
    data = huge_png(20000, 20000)
    client = create_app(FAKE_SETTINGS, pipeline=fake_pipeline()).test_client()
    client.get("/healthcheck")
    gc.collect()
    before = psutil.Process().memory_info().rss
    response = client.post("/find_faces", data={"file": (io.BytesIO(data), "x.png")}, content_type="multipart/form-data")
    after = psutil.Process().memory_info().rss
    print(response.status_code, (after - before) / 2**20)
''')


def test_20000x20000_png_refused_without_decoding():
    """RSS is measured in a fresh process so other tests' allocations cannot hide or fake the growth."""
    out = subprocess.run([sys.executable, "-c", RSS_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    status, growth_mb = out.stdout.split()
    assert int(status) == 400
    assert float(growth_mb) < 50.0


FOREIGN = {
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    "pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
    "svg": b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
    "psd": b"8BPS\x00\x01" + bytes(6) + b"\x00\x03\x00\x00\x00\x10\x00\x00\x00\x10\x00\x08\x00\x03" + bytes(64),
    "xcf": b"gimp xcf v011\x00" + bytes(64),
    "tga": bytes(3) + b"\x02" + bytes(8) + b"\x10\x00\x10\x00\x18\x00" + bytes(16 * 16 * 3),
    "pcx": b"\x0a\x05\x01\x08" + bytes(124),
    "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_foreign_formats_renamed_jpg_refused(client, kind):
    response = client.post("/find_faces", data={"file": (io.BytesIO(FOREIGN[kind]), "photo.jpg")},
                           content_type="multipart/form-data")
    assert_json_error(response, 400, "Image has incorrect format or is broken")


@pytest.mark.parametrize("fmt,save", [("JPEG", {}), ("PNG", {}), ("TIFF", {}), ("BMP", {}), ("GIF", {}),
                                      ("ICO", {"sizes": [(64, 64)]}), ("WEBP", {})])
def test_contract_formats_accepted(client, fmt, save):
    data = image_bytes(fmt, 100, 100, **save)
    response = client.post("/find_faces", data={"file": (io.BytesIO(data), "x.bin")}, content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    assert response.status_code == 200 or "No face" in response.get_json()["message"]


def test_animation_first_frame_used(client):
    response = client.post("/find_faces", data={"file": (io.BytesIO(animated_gif(5, 100)), "x.gif")},
                           content_type="multipart/form-data")
    assert response.status_code == 200


def test_frame_cap(client):
    app = create_app(FAKE_SETTINGS.with_overrides(max_frames=10), pipeline=fake_pipeline())
    response = app.test_client().post("/find_faces", data={"file": (io.BytesIO(animated_gif(11)), "x.gif")},
                                      content_type="multipart/form-data")
    assert_json_error(response, 400, "too many frames: 11 exceeds the limit of 10")
