"""Slow clients cannot pin the workers: headers or a body dribbled every 2 s while /healthcheck answers."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.reliability.helpers import UWSGI, UwsgiServer, image_bytes, install_test_plugins, post_image

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not UWSGI.exists(), reason="no .venv/bin/uwsgi")]
WORKERS = 2
SLOW_SENDERS = WORKERS + 2
RUN_S = 9.0
LINE_EVERY_S = 2.0


def dribble_headers(port: int, until: float, lines_sent: list[int]) -> None:
    """A request line, then one more header every 2 s, never the blank line that ends them."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /find_faces HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
        sent = 0
        try:
            while time.monotonic() < until:
                time.sleep(LINE_EVERY_S)
                sock.sendall(f"X-Slow-{sent}: 1\r\n".encode())
                sent += 1
        except OSError:
            pass  # cut by the server: also fine
        lines_sent.append(sent)


def test_header_dribblers_never_take_healthcheck_down(tmp_path):
    with UwsgiServer(install_test_plugins(tmp_path / "plugins"), tmp_path / "uwsgi.log",
                     UWSGI_PROCESSES=str(WORKERS)) as server:
        until = time.monotonic() + RUN_S
        lines: list[int] = []
        senders = [threading.Thread(target=dribble_headers, args=(server.port, until, lines))
                   for _ in range(SLOW_SENDERS)]
        for sender in senders:
            sender.start()
        time.sleep(LINE_EVERY_S + 0.5)  # every sender holds its connection by now
        answers = []
        while time.monotonic() < until - 0.5:
            started = time.perf_counter()
            response = requests.get(server.url + "/healthcheck", timeout=5)
            answers.append((response.status_code, time.perf_counter() - started))
            time.sleep(0.5)
        for sender in senders:
            sender.join(RUN_S)
    assert answers and all(status == 200 and seconds < 1.0 for status, seconds in answers), answers
    assert len(lines) == SLOW_SENDERS and max(lines) >= 2  # the senders really were dribbling meanwhile


#: The time a body may take to arrive (uwsgi.ini ``fastrouter-timeout = %(harakiri)``), small for the test.
BODY_BOUND_S = 5


def dribble_body(port: int, results: list[tuple[str, float]]) -> None:
    """Complete headers declaring 1 MB, then one byte of body every 2 s: how long until the server cut it."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /find_faces HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: 1000000\r\n\r\n")
        try:
            while time.monotonic() - started < 3 * BODY_BOUND_S:
                sock.sendall(b"x")
                time.sleep(LINE_EVERY_S)
            results.append(("still open", time.monotonic() - started))
        except OSError:
            results.append(("cut", time.monotonic() - started))


def test_body_dribblers_never_hold_a_worker_and_are_cut_within_the_bound(tmp_path):
    """Four connections sending a 1 MB body a byte every 2 s to 2 workers: the body used to stream to a
    worker, so they held both until UWSGI_HARAKIRI and /healthcheck died. uWSGI's fastrouter now receives
    each body before any worker sees it, and cuts one not received within UWSGI_HARAKIRI seconds."""
    with UwsgiServer(install_test_plugins(tmp_path / "plugins"), tmp_path / "uwsgi.log",
                     UWSGI_PROCESSES=str(WORKERS), UWSGI_HARAKIRI=str(BODY_BOUND_S)) as server:
        results: list[tuple[str, float]] = []
        senders = [threading.Thread(target=dribble_body, args=(server.port, results)) for _ in range(SLOW_SENDERS)]
        for sender in senders:
            sender.start()
        time.sleep(1.0)  # every sender is inside its body by now
        answers = []
        while len(answers) < 6:  # 3 s of health checks while the dribblers hold their connections
            started = time.perf_counter()
            response = requests.get(server.url + "/healthcheck", timeout=5)
            answers.append((response.status_code, time.perf_counter() - started))
            time.sleep(0.5)
        image = post_image(server.url, image_bytes("JPEG"), timeout=BODY_BOUND_S)
        for sender in senders:
            sender.join(4 * BODY_BOUND_S)
    assert answers and all(status == 200 and seconds < 1.0 for status, seconds in answers), answers
    assert image.status_code == 200, image.text
    assert len(results) == SLOW_SENDERS, results
    # cut once the bound passed: noticed at the sender's next byte, at most LINE_EVERY_S later (+ slack)
    assert all(outcome == "cut" and seconds < BODY_BOUND_S + LINE_EVERY_S + 2 for outcome, seconds in results), results


def test_bodies_of_every_size_pass_the_fastrouter(tmp_path):
    """The fastrouter keeps small bodies in memory and larger ones in a temporary file: both reach the app
    whole (kept in memory, a 200 KB body was cut: uwsgi.ini keeps only 16 KiB there)."""
    picture = image_bytes("PNG", 100, 100)
    with UwsgiServer(install_test_plugins(tmp_path / "plugins"), tmp_path / "uwsgi.log") as server:
        for padding in (0, 200_000, 3_000_000):
            response = post_image(server.url, picture + bytes(padding))  # bytes after IEND: the same picture
            assert response.status_code == 200, (padding, response.text)
            assert response.json()["result"]  # the fake detector found its faces: the picture arrived whole


def raw_answer(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_limit_answers_under_uwsgi_have_the_common_headers_and_one_connection_close(tmp_path):
    with UwsgiServer(install_test_plugins(tmp_path / "plugins"), tmp_path / "uwsgi.log",
                     MAX_BODY_BYTES="1000") as server:
        answer = raw_answer(server.port, b"POST //find_faces/ HTTP/1.1\r\nHost: x\r\nX-Request-Id: over-1\r\n"
                                         b"Content-Length: 5000\r\n\r\n" + bytes(5000))
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower().splitlines()
    assert head[0].startswith("http/1.1 413")
    assert head.count("connection: close") == 1, head
    assert "x-request-id: over-1" in head and any(line.startswith("cache-control: ") for line in head)
