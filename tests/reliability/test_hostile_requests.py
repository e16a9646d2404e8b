"""Requests built to break the web layer (fake plugins, Flask test client): parsers, headers, spellings.

Each answer must be a JSON 4xx (or the ordinary answer), never a 500, never a bypassed limit.
"""
from __future__ import annotations

import io
import json
import sys
import time
import tracemalloc
import types
from urllib.parse import unquote

import pytest

from facecore.app import create_app
from facecore.web import limits as limits_module
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.fuzz import crafted
from tests.reliability.helpers import image_bytes

IMAGE = image_bytes("PNG", 64, 64)
DEPTH = 100_000
LIMIT_DIGITS = 5000


@pytest.fixture
def app():
    return create_app(FAKE_SETTINGS.with_overrides(queue_timeout_ms=0), pipeline=fake_pipeline())


def assert_json_error(response, status: int, contains: str = "") -> None:
    assert response.status_code == status, response.data[:300]
    assert response.is_json and set(response.get_json()) == {"message"}
    assert contains in response.get_json()["message"]


# ------------------------------------------------------------------------------------- point 3: no 500
def test_deeply_nested_json_is_400(app):
    response = app.test_client().post("/find_faces_base64", data=crafted.nested_json(DEPTH),
                                      content_type="application/json")
    assert_json_error(response, 400, "Request body must be JSON")


@pytest.mark.parametrize("digits", [10, LIMIT_DIGITS])
def test_limit_with_too_many_digits_is_400(app, digits):
    response = app.test_client().post(f"/find_faces?limit={crafted.digits(digits)}",
                                      data={"file": (io.BytesIO(IMAGE), "x.png")}, content_type="multipart/form-data")
    assert_json_error(response, 400, "Limit value is invalid")


def test_limit_with_leading_zeros_still_works(app):
    response = app.test_client().post("/find_faces?limit=" + "0" * 50 + "1",
                                      data={"file": (io.BytesIO(IMAGE), "x.png")}, content_type="multipart/form-data")
    assert response.status_code == 200 and len(response.get_json()["result"]) == 1


def test_unexpected_error_text_never_reaches_the_client(app, caplog):
    @app.get("/explode")
    def explode():
        raise RuntimeError("secret /srv/models/key.txt value=42")

    response = app.test_client().get("/explode")
    assert_json_error(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "RuntimeError" not in response.get_data(as_text=True)
    assert "secret /srv/models/key.txt" in caplog.text  # the operator still sees it


# ------------------------------------------------------------------------------------- point 4: headers
@pytest.mark.parametrize("offered", ["abc\r\nX-Injected: 1", "line\nrequest_id=forged GET /admin -> 200",
                                     "x" * 65, "spaces are not allowed", "\u00e9t\u00e9"])
def test_unsafe_request_id_is_replaced(app, offered, caplog):
    environ = {"HTTP_X_REQUEST_ID": offered}
    for path in ("/healthcheck", "/status", "/find_faces"):
        client = app.test_client()
        response = (client.get(path, environ_base=environ) if path != "/find_faces" else
                    client.post(path, data={"file": (io.BytesIO(IMAGE), "x.png")},
                                content_type="multipart/form-data", environ_base=environ))
        assert response.status_code == 200, (path, response.data[:200])
        returned = response.headers["X-Request-Id"]
        assert returned != offered and returned.isalnum() and len(returned) == 16
    assert "forged" not in caplog.text and "X-Injected" not in caplog.text


def test_safe_request_id_is_echoed(app):
    response = app.test_client().get("/healthcheck", headers={"X-Request-Id": "req-42.a_b:c"})
    assert response.headers["X-Request-Id"] == "req-42.a_b:c"


def test_limit_answers_carry_the_common_headers():
    small = create_app(FAKE_SETTINGS.with_overrides(max_body_bytes=1000, queue_timeout_ms=0), pipeline=fake_pipeline())
    too_large = small.test_client().post("/find_faces", data={"file": (io.BytesIO(bytes(5000)), "x.png")},
                                         content_type="multipart/form-data", headers={"X-Request-Id": "big-1"})
    assert_json_error(too_large, 413)
    guard = small.extensions["facecore.guard"]
    for _ in range(guard.limiter.capacity):
        assert guard.limiter.acquire()
    busy = small.test_client().post("/find_faces", data={"file": (io.BytesIO(b"tiny"), "x.png")},
                                    content_type="multipart/form-data", headers={"X-Request-Id": "busy-1"})
    assert_json_error(busy, 503)
    for response, request_id in ((too_large, "big-1"), (busy, "busy-1")):
        assert response.headers["X-Request-Id"] == request_id
        assert "no-store" in response.headers["Cache-Control"]
        assert "Connection" not in response.headers  # uWSGI adds it to every answer: once


# ------------------------------------------------------------------------------------- point 5: spellings
IMAGE_ROUTES = ["find_faces", "find_faces_base64", "scan_faces", "vectorize"]


def spellings(route: str) -> list[str]:
    """Paths as a server hands them to the app (PATH_INFO, percent-decoded)."""
    encoded = route.replace("_", "%5F").replace("f", "%66", 1)
    return [unquote(path) for path in
            (f"/{route}", f"//{route}", f"/{route}/", f"//{route}//", f"/{encoded}", f"///{route}", f"/{route}%2F")]


def open_path(client, method: str, path: str, **kwargs):
    """The test client would read ``//x`` as a host name: the path goes straight into PATH_INFO."""
    return client.open("/", method=method, environ_overrides={"PATH_INFO": path}, **kwargs)


@pytest.mark.parametrize("route", IMAGE_ROUTES)
def test_every_spelling_of_an_image_route_takes_the_in_flight_limit(app, route):
    guard = app.extensions["facecore.guard"]
    for _ in range(guard.limiter.capacity):
        assert guard.limiter.acquire()
    client = app.test_client()
    for path in spellings(route):
        body = ({"data": json.dumps({"file": "aGk="}), "content_type": "application/json"} if "base64" in route else
                {"data": {"file": (io.BytesIO(IMAGE), "x.png")}, "content_type": "multipart/form-data"})
        assert_json_error(open_path(client, "POST", path, **body), 503, "Too many requests in flight")
    for path in spellings("healthcheck"):  # never limited, whatever the spelling
        assert open_path(client, "GET", path).status_code in (200, 308), path


@pytest.mark.parametrize("route", ["healthcheck", "status", "readiness", "apidocs"])
def test_metrics_count_every_spelling_under_its_endpoint(app, route):
    client = app.test_client()
    for path in spellings(route):
        open_path(client, "GET", path)
    exposition = client.get("/metrics").get_data(as_text=True)
    counted = [line for line in exposition.splitlines()
               if line.startswith("facecore_requests_total{") and f'endpoint="{route}"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counted) == len(spellings(route)), exposition
    assert 'endpoint="other"' not in exposition


# ------------------------------------------------------------------------------------- point 2: chunked bodies
class FakeUwsgi(types.ModuleType):
    """uwsgi.chunked_read handing out ``chunks`` chunks of ``size`` bytes, noting the slots in use at each read."""

    def __init__(self, guard, chunks: int, size: int) -> None:
        super().__init__("uwsgi")
        self.guard, self.left, self.size, self.in_flight_seen = guard, chunks, size, set()

    def chunked_read(self, timeout: int) -> bytes:
        self.in_flight_seen.add(self.guard.limiter.in_flight)
        if self.left == 0:
            return b""
        self.left -= 1
        return bytes([65 + self.left % 26]) * self.size


def chunked_environ(path: str = "/find_faces") -> dict:
    from werkzeug.test import create_environ

    environ = create_environ(path, method="POST", content_type="application/octet-stream")
    environ.pop("CONTENT_LENGTH", None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    return environ


def run_chunked(app, monkeypatch, chunks: int, size: int) -> tuple[str, bytes, FakeUwsgi]:
    fake = FakeUwsgi(app.extensions["facecore.guard"], chunks, size)
    monkeypatch.setitem(sys.modules, "uwsgi", fake)
    seen: list[str] = []
    body = b"".join(app.wsgi_app(chunked_environ(), lambda status, headers: seen.append(status)))
    return seen[0], body, fake


def test_chunked_body_is_read_inside_the_in_flight_slot(app, monkeypatch):
    status, _, fake = run_chunked(app, monkeypatch, 10, 100)
    assert status.startswith("400")  # 1000 bytes that are no multipart form: read, then judged
    assert fake.in_flight_seen == {1}


def test_chunked_body_in_tiny_chunks_costs_its_size_not_an_object_per_chunk(app, monkeypatch):
    chunks = limits_module.MAX_CHUNKS - 1
    tracemalloc.start()
    try:
        run_chunked(app, monkeypatch, chunks, 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * chunks, f"{peak} bytes traced for {2 * chunks} bytes of body"


class DribblingUwsgi(FakeUwsgi):
    """Chunks that each take ``every_s`` to arrive."""

    def __init__(self, guard, chunks: int, every_s: float) -> None:
        super().__init__(guard, chunks, 1)
        self.every_s = every_s

    def chunked_read(self, timeout: int) -> bytes:
        time.sleep(self.every_s)
        return super().chunked_read(timeout)


def test_chunked_body_dribbled_past_the_deadline_is_408_and_frees_the_worker(app, monkeypatch):
    """A chunked body streams to the worker (no router buffers it): it gets CHUNKED_BODY_S in all."""
    monkeypatch.setattr(limits_module, "CHUNKED_BODY_S", 1)
    fake = DribblingUwsgi(app.extensions["facecore.guard"], chunks=20, every_s=0.3)
    monkeypatch.setitem(sys.modules, "uwsgi", fake)
    seen: list[str] = []
    started = time.monotonic()
    body = b"".join(app.wsgi_app(chunked_environ(), lambda status, headers: seen.append(status)))
    assert seen[0].startswith("408") and json.loads(body)["message"].startswith("408 Request Timeout")
    assert time.monotonic() - started < 2.0 and fake.left > 10  # cut at the deadline, most chunks unread
    assert app.extensions["facecore.guard"].limiter.in_flight == 0


def test_chunked_body_in_too_many_chunks_is_refused(app, monkeypatch):
    status, body, fake = run_chunked(app, monkeypatch, limits_module.MAX_CHUNKS + 5, 1)
    assert status.startswith("413") and b"chunks" in body
    assert fake.left > 0  # reading stopped at the cap


# ------------------------------------------------------------------------------------- point 10: unknown plugins
def test_unknown_face_plugins_are_ignored_but_named(app, caplog):
    response = app.test_client().post("/find_faces?face_plugins=age,agee,calculator,mask",
                                      data={"file": (io.BytesIO(IMAGE), "x.png")}, content_type="multipart/form-data")
    assert response.status_code == 200  # CompreFace's behaviour for its clients
    assert set(response.get_json()["plugins_versions"]) == {"detector", "age", "calculator"}
    assert response.headers["X-Ignored-Face-Plugins"] == "agee, mask"
    assert "ignored unknown face_plugins: agee, mask" in caplog.text


def test_known_face_plugins_add_no_header(app):
    response = app.test_client().post("/find_faces?face_plugins=age", data={"file": (io.BytesIO(IMAGE), "x.png")},
                                      content_type="multipart/form-data")
    assert response.status_code == 200 and "X-Ignored-Face-Plugins" not in response.headers


def test_unsafe_unknown_names_are_counted_not_echoed(app):
    names = ",".join(["bad\u00e9name", "x" * 100, *[f"n{i}" for i in range(20)]])
    response = app.test_client().post("/find_faces", data={"file": (io.BytesIO(IMAGE), "x.png"), "face_plugins": names},
                                      content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.headers["X-Ignored-Face-Plugins"] == ", ".join([f"n{i}" for i in range(16)] + ["6 more"])
