"""Request limits enforced at the WSGI level, before Flask reads a byte: the body cap and back-pressure.

Why here and not in Flask: a declared ``Content-Length`` over the cap is refused without parsing the
body (under uWSGI, whose fastrouter has received it already, a bounded part is read and dropped so the
413 reaches the client); a chunked body (no ``Content-Length``) is read with the cap applied while reading - uWSGI does
not de-chunk (its HTTP router passes chunked bodies raw), so it is read through ``uwsgi.chunked_read``
into one growing buffer, at most :data:`MAX_CHUNKS` chunks; and a request waiting for a free slot has
not yet had its body read, chunked or not, so a queue of waiting requests costs no memory. Which
requests take a slot is decided by the endpoint Flask routes them to (src/web/routing.py), never by
the spelling of the path.
"""
from __future__ import annotations

import io
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from facecore.config import DEFAULTS
from facecore.errors import FaceServiceError, PayloadTooLarge, ServiceUnavailable
from facecore.web.errors import error_body
from facecore.web.headers import common_headers

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

CHUNK_TIMEOUT_S = 10
#: A chunked body streams to the worker (uWSGI's fastrouter buffers only a declared length, uwsgi.ini):
#: it must arrive whole within this many seconds, else 408 and the worker is free again.
CHUNKED_BODY_S = 10
#: A body of 20 MB in 1-byte chunks is 20 million reads: refused past this many chunks.
MAX_CHUNKS = 65_536
#: Past the cap, this much more of a chunked body is read and dropped so the client can read the 413.
DRAIN_BYTES = 1024 * 1024
#: A body refused for its declared length is read and dropped up to this much, under uWSGI only (below).
DRAIN_BUFFERED_BYTES = 64 * 1024 * 1024


class LengthRequired(FaceServiceError):
    status = 411
    reason = "Length Required"


class BodyTimeout(FaceServiceError):
    status = 408
    reason = "Request Timeout"


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


def error_response(environ: dict, start_response: Callable, error: FaceServiceError,
                   headers: tuple[tuple[str, str], ...] = ()) -> list[bytes]:
    """The same JSON body and headers as Flask's answers (uWSGI adds ``Connection: close`` to every answer)."""
    body = error_body(error.message)
    start_response(f"{error.status} {error.reason}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    *common_headers(environ), *headers])
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
    body = bytearray()  # one buffer: a list of a million 1-byte objects cost 2 GB
    over = 0
    deadline = time.monotonic() + CHUNKED_BODY_S
    late = BodyTimeout(f"Request body not received within {CHUNKED_BODY_S} s")
    for _ in range(MAX_CHUNKS):
        left_s = deadline - time.monotonic()
        if left_s <= 0:
            raise late
        try:
            chunk = uwsgi.chunked_read(max(1, min(CHUNK_TIMEOUT_S, math.ceil(left_s))))
        except OSError:  # uWSGI's own timeout between chunks, or the client went away
            raise late from None
        if not chunk:
            return None if over else bytes(body)
        if over or len(body) + len(chunk) > cap:
            over += len(chunk)  # read on, unkept, a little: a client still sending would miss the 413
            if over > DRAIN_BYTES:
                return None
            continue
        body += chunk
    raise PayloadTooLarge(f"Request body is sent in more than {MAX_CHUNKS} chunks")


def drain_buffered_body(environ: dict, length: int) -> None:
    """Under uWSGI, read and drop up to :data:`DRAIN_BUFFERED_BYTES` of a body refused for its declared length.

    uWSGI's fastrouter has received the whole body before the worker sees the request (uwsgi.ini) and is
    still writing it to the worker: a worker that answers 413 and closes with the body unread resets that
    connection and the client never sees the 413. Reading a local socket costs milliseconds per 10 MB;
    past the bound the connection is closed (the client gets no answer). Other servers stream the body
    from the client: nothing is read there.
    """
    if "uwsgi.version" not in environ:
        return
    remaining = min(length, DRAIN_BUFFERED_BYTES)
    try:
        while remaining > 0 and (piece := environ["wsgi.input"].read(min(remaining, 65536))):
            remaining -= len(piece)
    except OSError:
        pass  # the client or the router gave up: nothing to answer


class RequestGuard:
    """WSGI middleware: body cap (413) and the in-flight limit (503 with Retry-After) for image endpoints."""

    def __init__(self, app: WSGIApp, limits: Limits, image_endpoints: frozenset[str], endpoint: Callable[[dict], str],
                 on_queue: Callable[[float, bool], None] | None = None) -> None:
        self.app = app
        self.image_endpoints = image_endpoints  # where the in-flight limit applies: the blueprint's POST endpoints
        self.limits = limits
        self.endpoint = endpoint
        self.limiter = InFlightLimiter(limits.max_in_flight, limits.queue_timeout_ms / 1000.0)
        self.on_queue = on_queue

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = declared_length(environ)
        if length is not None and length > self.limits.max_body_bytes:
            drain_buffered_body(environ, length)
            return error_response(environ, start_response, self._too_large())
        if self.endpoint(environ) not in self.image_endpoints:
            return self.app(environ, start_response)
        started = time.perf_counter()
        admitted = self.limiter.acquire()
        if self.on_queue is not None:
            self.on_queue(time.perf_counter() - started, admitted)
        if not admitted:
            busy = ServiceUnavailable(f"Too many requests in flight ({self.limiter.capacity}); retry later")
            return error_response(environ, start_response, busy, (("Retry-After", str(self.limits.retry_after_s)),))
        try:  # responses are built in full before they are returned: the work is done when the call returns
            if length is None and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                try:
                    self._dechunk(environ)
                except FaceServiceError as error:
                    return error_response(environ, start_response, error)
            return self.app(environ, start_response)
        finally:
            self.limiter.release()

    def _too_large(self) -> PayloadTooLarge:
        cap = self.limits.max_body_bytes
        return PayloadTooLarge(f"Request body exceeds the limit of {cap} bytes (MAX_BODY_BYTES)")

    def _dechunk(self, environ: dict) -> None:
        """Read a chunked body (inside the slot) and hand Flask a plain one."""
        body = read_chunked(environ, self.limits.max_body_bytes)
        if body is None:
            raise self._too_large()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
