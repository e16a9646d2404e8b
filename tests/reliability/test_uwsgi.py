"""A real uWSGI (``uwsgi --ini uwsgi.ini``) with fake plugins: loading, dead workers, SIGTERM, the body cap."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.reliability.helpers import SLOW_WIDTH, UWSGI, UwsgiServer, image_bytes, install_test_plugins, post_image

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not UWSGI.exists(), reason="no .venv/bin/uwsgi")]

CAP = 100_000
FAST = image_bytes("PNG", 100, 100)
SLOW = image_bytes("PNG", SLOW_WIDTH, 100)


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return install_test_plugins(tmp_path_factory.mktemp("plugins"))


@pytest.fixture(scope="module")
def server(plugin_dir, tmp_path_factory):
    with UwsgiServer(plugin_dir, tmp_path_factory.mktemp("log") / "uwsgi.log", MAX_BODY_BYTES=str(CAP),
                     UWSGI_PROCESSES="2") as running:
        yield running


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_requests_during_load_wait_for_the_worker(plugin_dir, tmp_path):
    """The socket is open before the models are loaded, but no worker accepts until its app is built."""
    server = UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", SLOW_LOAD_S="3").start(wait=False)
    try:
        assert wait_for(lambda: port_open(server.port), 15), server.log()
        started = time.perf_counter()
        response = post_image(server.url, FAST)
        assert response.status_code == 200, server.log()
        assert time.perf_counter() - started > 1.0  # it waited in the listen queue, then was served
        assert requests.get(server.url + "/readiness", timeout=5).status_code == 200
    finally:
        server.stop()


def test_killed_worker_is_replaced(plugin_dir, tmp_path):
    with UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", SLOW_DETECT_S="5") as server:
        [worker] = server.workers()
        with ThreadPoolExecutor(1) as pool:
            doomed = pool.submit(lambda: post_image(server.url, SLOW, timeout=20))
            time.sleep(0.8)
            os.kill(worker, signal.SIGKILL)
            try:
                assert doomed.result().status_code >= 500
            except requests.RequestException:
                pass  # the connection died with the worker: what a client of a killed worker sees
        assert wait_for(lambda: server.workers() and server.workers() != [worker]), server.log()
        for _ in range(3):
            assert post_image(server.url, FAST).status_code == 200, server.log()


def test_a_request_over_the_time_limit_is_cut_and_the_worker_replaced(plugin_dir, tmp_path):
    """UWSGI_HARAKIRI (the per-request limit) reaches uWSGI through the environment and is enforced."""
    with UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", SLOW_DETECT_S="8", UWSGI_HARAKIRI="2") as server:
        [worker] = server.workers()
        started = time.perf_counter()
        try:
            assert post_image(server.url, SLOW, timeout=20).status_code >= 500
        except requests.RequestException:
            pass  # harakiri kills the worker with the connection
        assert time.perf_counter() - started < 6, server.log()
        assert "harakiri" in server.log().lower()
        assert wait_for(lambda: server.workers() and server.workers() != [worker]), server.log()
        assert post_image(server.url, FAST).status_code == 200, server.log()


def test_sigterm_drains_in_flight_requests(plugin_dir, tmp_path):
    with UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", SLOW_DETECT_S="2") as server:
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(lambda: post_image(server.url, SLOW, timeout=20))
            time.sleep(0.6)
            server.process.send_signal(signal.SIGTERM)
            response = in_flight.result()
        assert response.status_code == 200, server.log()
        assert len(response.json()["result"]) == 2
        server.process.wait(15)
        assert "goodbye" in server.log().lower() or server.process.returncode == 0, server.log()


def test_chunked_body_over_cap_is_413_json(server):
    def chunks():
        for _ in range(CAP // 4096 + 10):
            yield b"\x00" * 4096

    response = requests.post(server.url + "/find_faces", data=chunks(), timeout=20,
                             headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413
    assert response.json()["message"].startswith("413 Request Entity Too Large")


def test_chunked_body_under_cap_is_served(server):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n").encode() \
        + FAST + f"\r\n--{boundary}--\r\n".encode()
    response = requests.post(server.url + "/find_faces", data=iter([body[:1000], body[1000:]]), timeout=20,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 200, response.text


def test_declared_length_over_cap_is_413_json(server):
    """The worker refuses it without reading the body; uWSGI's fastrouter has received it by then (it
    receives every declared body before a worker sees it: tests/reliability/test_slow_clients.py)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"POST /find_faces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {CAP * 10}\r\n\r\n".encode() + b"{" * (CAP * 10))
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["message"].startswith("413 Request Entity Too Large")


def test_healthcheck_and_metrics_served(server):
    assert requests.get(server.url + "/healthcheck", timeout=5).json() == {"status": "OK"}
    assert "facecore_requests_total" in requests.get(server.url + "/metrics", timeout=5).text
