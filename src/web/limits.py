"""Request limits enforced at the WSGI level, before Flask reads a byte: the body cap and back-pressure.

Why here and not in Flask: a declared ``Content-Length`` over the cap is refused without reading the
body; a chunked body (no ``Content-Length``) is read with the cap applied while reading - uWSGI's
``http-socket`` does not de-chunk, so it is read through ``uwsgi.chunked_read``; and a request waiting
for a free slot has not yet had its body buffered, so a queue of waiting requests costs no memory.
"""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from src.config import DEFAULTS
from src.errors import FaceServiceError, PayloadTooLarge, ServiceUnavailable
from src.web.dto import dumps

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

#: endpoints that decode an image and run models: the only ones that take an in-flight slot
CHUNK_TIMEOUT_S = 10


class LengthRequired(FaceServiceError):
    status = 411
    reason = "Length Required"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULTS.max_body_bytes
    max_in_flight: int = DEFAULTS.max_in_flight
    queue_timeout_ms: int = DEFAULTS.queue_timeout_ms
    retry_after_s: int = 1


class InFlightLimiter:
    """At most ``capacity`` image requests at once in this worker; the others wait ``timeout_s`` at most."""

    def __init__(self, capacity: int, timeout_s: float) -> None:
        self.capacity = capacity
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(capacity)
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def acquire(self) -> bool:
        if not self._slots.acquire(timeout=self.timeout_s):
            return False
        with self._lock:
            self._in_flight += 1
        return True

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._slots.release()


def error_response(start_response: Callable, error: FaceServiceError,
                   headers: tuple[tuple[str, str], ...] = ()) -> list[bytes]:
    body = dumps({"message": error.message})
    start_response(f"{error.status} {error.reason}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Connection", "close"), *headers])
    return [body]


def declared_length(environ: dict) -> int | None:
    raw = (environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return None


def read_chunked(environ: dict, cap: int) -> bytes | None:
    """The de-chunked body, or ``None`` once it passes ``cap`` (reading stops there)."""
    if environ.get("wsgi.input_terminated"):  # the server de-chunks (werkzeug, gunicorn)
        data = environ["wsgi.input"].read(cap + 1)
        return None if len(data) > cap else data
    try:
        import uwsgi
    except ImportError:
        raise LengthRequired("A request body needs a Content-Length or chunked encoding") from None
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = uwsgi.chunked_read(CHUNK_TIMEOUT_S)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)


class RequestGuard:
    """WSGI middleware: body cap (413) and the in-flight limit (503 with Retry-After); /healthcheck is exempt."""

    def __init__(self, app: WSGIApp, limits: Limits, image_paths: frozenset[str],
                 on_queue: Callable[[float, bool], None] | None = None) -> None:
        self.app = app
        self.image_paths = image_paths  # the routes the in-flight limit applies to (the blueprint's POST routes)
        self.limits = limits
        self.limiter = InFlightLimiter(limits.max_in_flight, limits.queue_timeout_ms / 1000.0)
        self.on_queue = on_queue

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        cap = self.limits.max_body_bytes
        too_large = PayloadTooLarge(f"Request body exceeds the limit of {cap} bytes (MAX_BODY_BYTES)")
        length = declared_length(environ)
        if length is not None and length > cap:
            return error_response(start_response, too_large)
        if length is None and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            try:
                body = read_chunked(environ, cap)
            except FaceServiceError as error:
                return error_response(start_response, error)
            if body is None:
                return error_response(start_response, too_large)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        if environ.get("PATH_INFO", "").rstrip("/") not in self.image_paths:
            return self.app(environ, start_response)
        started = time.perf_counter()
        admitted = self.limiter.acquire()
        if self.on_queue is not None:
            self.on_queue(time.perf_counter() - started, admitted)
        if not admitted:
            busy = ServiceUnavailable(f"Too many requests in flight ({self.limiter.capacity}); retry later")
            return error_response(start_response, busy, (("Retry-After", str(self.limits.retry_after_s)),))
        try:  # responses are built in full before they are returned: the work is done when the call returns
            return self.app(environ, start_response)
        finally:
            self.limiter.release()
