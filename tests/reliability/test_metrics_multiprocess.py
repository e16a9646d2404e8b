"""One metrics view: ``/metrics`` of a 2-worker uWSGI server sums every worker, dead ones included."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest
import requests

from facecore.web.metrics import SERVER_DIR_PREFIX, server_metrics_dir
from tests.reliability.helpers import UWSGI, UwsgiServer, install_test_plugins

STATUS_COUNTER = re.compile(r'^facecore_requests_total\{endpoint="status",outcome="ok",status="200"\} (\S+)$', re.M)
DEAD_PID = 2 ** 22 + 12345  # above Linux's pid_max default: never a live process


def status_count(server: UwsgiServer) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    found = STATUS_COUNTER.search(text)
    return float(found.group(1)) if found else 0.0


def respawned(server: UwsgiServer, old: list[int], timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = server.workers()
        if len(now) == len(old) and now != old:
            server.wait_ready()
            return now
        time.sleep(0.2)
    raise AssertionError(f"no respawn:\n{server.log()}")


@pytest.mark.integration
@pytest.mark.skipif(not UWSGI.exists(), reason="no .venv/bin/uwsgi")
def test_counters_sum_every_worker_and_only_grow(tmp_path):
    base = tmp_path / "metrics"
    stale = base / f"{SERVER_DIR_PREFIX}{DEAD_PID}"
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"old")
    plugins = install_test_plugins(tmp_path / "plugins")
    with UwsgiServer(plugins, tmp_path / "uwsgi.log", UWSGI_PROCESSES="2", PROMETHEUS_MULTIPROC_DIR=str(base)) as server:
        for _ in range(20):
            assert requests.get(server.url + "/status", timeout=10).status_code == 200
        scrapes = [status_count(server) for _ in range(10)]
        assert scrapes == [20.0] * 10, scrapes  # whichever worker answers: the sum of both
        assert not stale.exists(), "the folder of a server that is gone was not removed at start"
        assert [p.name for p in base.iterdir()] == [f"{SERVER_DIR_PREFIX}{server.process.pid}"]
        for worker in server.workers():  # kill both workers, one after the other: their counts must survive
            before = server.workers()
            os.kill(worker, signal.SIGKILL)
            respawned(server, before)
        after = [status_count(server) for _ in range(6)]
        assert after == [20.0] * 6, (after, server.log())
        text = requests.get(server.url + "/metrics", timeout=10).text
        assert re.search(r"^facecore_in_flight 0\.0$", text, re.M), text  # dead workers' gauges are dropped


def test_server_folder_is_per_master_and_sweeps_dead_servers(tmp_path):
    (tmp_path / f"{SERVER_DIR_PREFIX}{DEAD_PID}").mkdir()
    (tmp_path / f"{SERVER_DIR_PREFIX}{os.getppid()}").mkdir()  # a live server's folder is kept
    (tmp_path / "unrelated").mkdir()
    folder = server_metrics_dir(tmp_path, os.getpid())
    assert folder == tmp_path / f"{SERVER_DIR_PREFIX}{os.getpid()}" and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{SERVER_DIR_PREFIX}{os.getpid()}", f"{SERVER_DIR_PREFIX}{os.getppid()}", "unrelated"])
