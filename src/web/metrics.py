"""Prometheus metrics of the service, served at ``/metrics``: one view over every uWSGI worker.

Under uWSGI, whichever worker answers a scrape, ``/metrics`` sums the counts of all the server's workers,
those of workers that died and were respawned included, so counters only grow (prometheus-client's
multiprocess mode). The workers share a folder named after the uWSGI master's pid, under
``PROMETHEUS_MULTIPROC_DIR`` (default: the temp folder's ``facecore-metrics``); a new server starts with an
empty one, and folders of servers no longer running are removed. Outside uWSGI (tests, the development
server) each app has its own registry. Labels are bounded: requests are counted by the endpoint Flask routes
them to (src/web/routing.py), and a request no view answers as ``other``, never by its path's text.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
FACE_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SERVER_DIR_PREFIX = "uwsgi-"


def uwsgi_master_pid() -> int | None:
    """The uWSGI master's pid when this process is a uWSGI worker, else None."""
    try:
        import uwsgi  # only importable inside a uWSGI worker
    except ImportError:
        return None
    return int(uwsgi.masterpid()) or None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_metrics_dir(base: Path, master_pid: int) -> Path:
    """This server's folder under ``base``, created; folders of servers that are gone are removed."""
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f"{SERVER_DIR_PREFIX}*"):
        pid = stale.name[len(SERVER_DIR_PREFIX):]
        if pid.isdigit() and int(pid) != master_pid and not pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = base / f"{SERVER_DIR_PREFIX}{master_pid}"
    folder.mkdir(exist_ok=True)
    for live_gauge in folder.glob("gauge_live*_*.db"):  # a dead worker's requests are no longer in flight
        pid = live_gauge.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(folder))
    return folder


def enable_multiprocess(master_pid: int | None = None) -> Path | None:
    """Under uWSGI, point prometheus-client at the workers' shared folder; returns it (None: one process)."""
    master_pid = master_pid or uwsgi_master_pid()
    if master_pid is None:
        return None
    base = Path(os.environ.get(MULTIPROC_ENV) or Path(tempfile.gettempdir()) / "facecore-metrics")
    if base.name.startswith(SERVER_DIR_PREFIX):  # already set up in this process (tests build many apps)
        base = base.parent
    folder = server_metrics_dir(base, master_pid)
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.MultiProcessValue()
    return folder


def outcome_label(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (413, 429, 503):
        return "rejected"
    return "client_error" if status < 500 else "server_error"


class Metrics:
    """The service's instruments, on a registry of their own."""

    def __init__(self, shared_dir: Path | None = None) -> None:
        """``shared_dir``: the workers' folder from :func:`enable_multiprocess` (None: this process only)."""
        self.shared_dir = shared_dir
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("facecore_requests", "HTTP requests by endpoint, status and outcome",
                                ("endpoint", "status", "outcome"), registry=r)
        self.latency = Histogram("facecore_request_seconds", "Request latency, until the response is built",
                                 ("endpoint",), buckets=LATENCY_BUCKETS, registry=r)
        self.faces = Histogram("facecore_faces_per_image", "Faces returned per image request",
                               buckets=FACE_BUCKETS, registry=r)
        self.plugin_seconds = Histogram("facecore_plugin_seconds", "Model inference time per plugin and request",
                                        ("plugin",), buckets=LATENCY_BUCKETS, registry=r)
        self.queue_seconds = Histogram("facecore_queue_seconds", "Time an image request waited for a slot",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.queue_rejected = Counter("facecore_queue_rejected", "Image requests refused because all slots were busy",
                                      registry=r)
        self.in_flight = Gauge("facecore_in_flight", "Image requests being processed (all workers: their sum)",
                               registry=r, multiprocess_mode="livesum")
        self._read_in_flight: Callable[[], float] = lambda: 0.0

    def track_in_flight(self, read: Callable[[], float]) -> None:
        """The gauge is set from ``read`` when a request is admitted and when one ends (a value per worker)."""
        self._read_in_flight = read

    def exposition(self) -> tuple[bytes, str]:
        if self.shared_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker, path=str(self.shared_dir))
        return generate_latest(every_worker), CONTENT_TYPE_LATEST

    def on_queue(self, waited_s: float, admitted: bool) -> None:
        self.queue_seconds.observe(waited_s)
        if admitted:
            self.in_flight.set(self._read_in_flight())
        else:
            self.queue_rejected.inc()

    def observe_result(self, faces: int) -> None:
        self.faces.observe(faces)

    def observe_plugin(self, plugin: Any, milliseconds: float, faces: int) -> None:
        """A pipeline timing listener: one model call of ``plugin`` (exact, batched calls included)."""
        self.plugin_seconds.labels(plugin.slug).observe(milliseconds / 1000.0)

    def middleware(self, app: Callable, endpoint: Callable[[dict], str]) -> Callable:
        """Outermost WSGI layer: counts every answer, the ones the limits give included, by ``endpoint(environ)``."""

        def counted(environ: dict, start_response: Callable) -> Iterable[bytes]:
            started = time.perf_counter()
            label = endpoint(environ)
            seen: dict[str, int] = {}

            def recording_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                seen["status"] = int(status.split(" ", 1)[0])
                return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

            def finish() -> None:
                status = seen.get("status", 500)
                self.requests.labels(label, str(status), outcome_label(status)).inc()
                self.latency.labels(label).observe(time.perf_counter() - started)
                self.in_flight.set(self._read_in_flight())

            try:  # every response is built in full by the time the call returns (no streaming)
                return app(environ, recording_start)
            finally:
                finish()

        return counted
