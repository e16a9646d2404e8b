"""Prometheus metrics of one worker, served at ``/metrics``.

Each app has its own registry (tests build many apps; a worker builds one). Under uWSGI every worker
answers with its own counts: scrape through the service (any worker) for rates, or set
``PROMETHEUS_MULTIPROC_DIR`` for prometheus-client's multiprocess mode if exact totals matter.
Labels are bounded: requests are counted by the endpoint Flask routes them to (src/web/routing.py),
and a request no view answers as ``other``, never by its path's text.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
FACE_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)


def outcome_label(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (413, 429, 503):
        return "rejected"
    return "client_error" if status < 500 else "server_error"


class Metrics:
    """The service's instruments, on a registry of their own."""

    def __init__(self) -> None:
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
        self.in_flight = Gauge("facecore_in_flight", "Image requests being processed in this worker", registry=r)

    def track_in_flight(self, read: Callable[[], float]) -> None:
        self.in_flight.set_function(read)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def on_queue(self, waited_s: float, admitted: bool) -> None:
        self.queue_seconds.observe(waited_s)
        if not admitted:
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

            try:  # every response is built in full by the time the call returns (no streaming)
                return app(environ, recording_start)
            finally:
                finish()

        return counted
