"""Back-pressure and the body cap through a real threaded HTTP server (werkzeug) with a slow fake detector."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from facecore.app import create_app
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.reliability.helpers import SLOW_WIDTH, image_bytes

SLOW_S = 1.5
CAP = 200_000


@pytest.fixture(scope="module")
def server():
    pipeline = fake_pipeline()
    plain = pipeline.detector.detect

    def slow_detect(image, threshold):
        if image.shape[1] == SLOW_WIDTH:
            time.sleep(SLOW_S)
        return plain(image, threshold)

    pipeline.detector.detect = slow_detect
    settings = FAKE_SETTINGS.with_overrides(max_in_flight=1, queue_timeout_ms=100, max_body_bytes=CAP)
    httpd = make_server("127.0.0.1", 0, create_app(settings, pipeline=pipeline), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def post(url: str, data: bytes) -> requests.Response:
    return requests.post(url + "/find_faces", files={"file": ("x.png", data)}, timeout=30)


def test_full_queue_answers_503_fast_and_healthcheck_stays_up(server):
    slow, fast = image_bytes("PNG", SLOW_WIDTH, 100), image_bytes("PNG", 100, 100)
    with ThreadPoolExecutor(2) as pool:
        busy = pool.submit(post, server, slow)
        time.sleep(0.4)  # the slow request holds the only slot
        started = time.perf_counter()
        refused = post(server, fast)
        refused_s = time.perf_counter() - started
        health = requests.get(server + "/healthcheck", timeout=5)
        metrics = requests.get(server + "/metrics", timeout=5).text
        assert busy.result().status_code == 200
    assert refused.status_code == 503
    assert refused.json()["message"].startswith("503 Service Unavailable: Too many requests in flight")
    assert refused.headers["Retry-After"] == "1"
    assert refused_s < 0.5 * SLOW_S
    assert health.status_code == 200 and health.json() == {"status": "OK"}
    assert "facecore_queue_rejected_total 1.0" in metrics
    assert "facecore_in_flight 1.0" in metrics
    assert post(server, fast).status_code == 200  # the slot is given back


def test_chunked_upload_through_a_real_server(server):
    def chunks(data: bytes, size: int = 8192):
        for start in range(0, len(data), size):
            yield data[start:start + size]

    image = image_bytes("PNG", 100, 100)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    ok = requests.post(server + "/find_faces", data=chunks(body), headers=headers, timeout=30)
    assert ok.status_code == 200, ok.text
    too_big = requests.post(server + "/find_faces", data=chunks(body + bytes(CAP)), headers=headers, timeout=30)
    assert too_big.status_code == 413 and "MAX_BODY_BYTES" in too_big.json()["message"]
