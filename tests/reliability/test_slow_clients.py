"""Slow clients cannot pin the workers: headers dribbled a line every 2 s while /healthcheck answers."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.reliability.helpers import UWSGI, UwsgiServer, install_test_plugins

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
                                         b"Content-Length: 5000\r\n\r\n")
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower().splitlines()
    assert head[0].startswith("http/1.1 413")
    assert head.count("connection: close") == 1, head
    assert "x-request-id: over-1" in head and any(line.startswith("cache-control: ") for line in head)
