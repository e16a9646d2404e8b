"""Readiness, metrics, logs, the OpenAPI document and the new settings (fake plugins)."""
from __future__ import annotations

import base64
import io
import logging

import pytest

from facecore.app import create_app
from facecore.config import load_settings
from facecore.errors import StartupError
from facecore.web.openapi import DOCUMENT
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.reliability.helpers import image_bytes


def test_healthcheck_contract(client):
    response = client.get("/healthcheck")
    assert response.status_code == 200 and response.get_json() == {"status": "OK"}


def test_readiness_follows_the_pipeline():
    pipeline = fake_pipeline()
    pipeline.ready = False
    client = create_app(FAKE_SETTINGS, pipeline=pipeline).test_client()
    assert client.get("/readiness").status_code == 503
    assert client.get("/healthcheck").status_code == 200  # liveness does not wait for models
    pipeline.ready = True
    assert client.get("/readiness").get_json() == {"status": "OK"}


def test_created_app_is_ready_after_warm_up():
    """create_app loads and warms before it returns, so a served app is always ready."""
    from facecore.app import build_pipeline
    from tests.fakes import fake_registry

    settings = FAKE_SETTINGS.with_overrides(warm_up=True, extras=("fake.AgeDetector",))
    pipeline = build_pipeline(settings, fake_registry())
    assert pipeline.ready


def test_metrics_count_requests_faces_and_plugins(client, png):
    client.post("/find_faces?face_plugins=age", data={"file": (io.BytesIO(png), "x.png")},
                content_type="multipart/form-data")
    client.post("/find_faces", data={"file": (io.BytesIO(b"junk"), "x.png")}, content_type="multipart/form-data")
    client.get("/no/such/path/12345")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'facecore_requests_total{endpoint="find_faces",outcome="ok",status="200"} 1.0' in text
    assert 'facecore_requests_total{endpoint="find_faces",outcome="client_error",status="400"} 1.0' in text
    assert 'facecore_requests_total{endpoint="other",outcome="client_error",status="404"} 1.0' in text
    assert "12345" not in text  # unknown paths never become labels
    assert 'facecore_faces_per_image_count 1.0' in text
    assert 'facecore_plugin_seconds_count{plugin="age"} 1.0' in text
    assert 'facecore_request_seconds_bucket{endpoint="find_faces",le="+Inf"} 2.0' in text
    assert "facecore_queue_seconds_count 2.0" in text
    assert "facecore_in_flight 0.0" in text


def test_logs_never_hold_image_content(client, caplog):
    image = image_bytes("PNG", 64, 64, seed=7)
    encoded = base64.b64encode(image).decode()
    with caplog.at_level(logging.DEBUG):
        ok = client.post("/find_faces_base64", json={"file": encoded}, headers={"X-Request-Id": "abc123"})
        bad = client.post("/find_faces_base64", json={"file": encoded[:-7] + "!!!"})
        broken = client.post("/find_faces_base64", json={"file": base64.b64encode(b"%PDF-1.4" + image).decode()})
    assert ok.status_code == 200 and bad.status_code == 400 and broken.status_code == 400
    text = "\n".join(record.getMessage() + str(record.exc_text or "") for record in caplog.records)
    assert "request_id=abc123" in text
    for start in range(0, len(encoded) - 16, 16):
        assert encoded[start:start + 16] not in text
    assert repr(image[8:24])[2:-1] not in text


def route_paths(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.rule, method.lower()))
    return routes


def test_every_route_is_documented(app, client):
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert route_paths(app) == documented
    assert client.get("/apidocs").get_json() == DOCUMENT


def test_limits_settings_parse():
    settings = load_settings({"MAX_IN_FLIGHT": "3", "QUEUE_TIMEOUT_MS": "0"})
    assert (settings.max_in_flight, settings.queue_timeout_ms) == (3, 0)
    defaults = load_settings({})
    assert (defaults.max_in_flight, defaults.queue_timeout_ms, defaults.max_body_bytes, defaults.max_pixels) == \
        (4, 500, 20 * 1024 * 1024, 50_000_000)


@pytest.mark.parametrize("env,name", [({"MAX_IN_FLIGHT": "0"}, "MAX_IN_FLIGHT"),
                                      ({"QUEUE_TIMEOUT_MS": "-1"}, "QUEUE_TIMEOUT_MS"),
                                      ({"MAX_IN_FLIGHT": "many"}, "MAX_IN_FLIGHT")])
def test_bad_limits_settings_stop_the_start(env, name):
    with pytest.raises(StartupError, match=name):
        load_settings(env)
