"""Clean shutdown: SIGTERM ends the server, its workers and its router, even while the workers load."""
from __future__ import annotations

import os
import signal
import socket
import time

import psutil
import pytest

from tests.reliability.helpers import UWSGI, UwsgiServer, install_test_plugins

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not UWSGI.exists(), reason="no .venv/bin/uwsgi")]
STOP_WITHIN_S = 15


def test_sigterm_while_the_workers_load_stops_everything(tmp_path):
    """docker stop during a start (models loading for seconds): the master waited forever for a worker
    that ignored the stop while it loaded."""
    server = UwsgiServer(install_test_plugins(tmp_path / "plugins"), tmp_path / "uwsgi.log", UWSGI_PROCESSES="2",
                         SLOW_LOAD_S="4").start(wait=False)
    assert server.process is not None
    try:
        deadline = time.monotonic() + 10
        while len(psutil.Process(server.process.pid).children()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # two workers (loading) and the router
        family = [server.process.pid, *(child.pid for child in psutil.Process(server.process.pid).children())]
        time.sleep(1.0)  # inside the 4 s load
        os.kill(server.process.pid, signal.SIGTERM)
        assert server.process.wait(STOP_WITHIN_S) == 0, server.log()
        time.sleep(0.5)
        assert not [pid for pid in family if psutil.pid_exists(pid)
                    and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE], server.log()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", server.port)) != 0  # the port is free again
    finally:
        server.stop()
