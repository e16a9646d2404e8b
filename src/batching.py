"""Batching across concurrent requests, for GPUs (off by default: ``BATCH_WAIT_MS=0``).

A GPU runs a batch of 32 faces in about the time of one, so with several request threads per worker
(``UWSGI_THREADS``) it pays to wait a few milliseconds for other requests' faces. The first caller of
an empty batch becomes its leader: it waits up to ``wait_ms`` (or until ``max_faces`` have gathered),
runs the plugin once on every gathered face, and hands each caller its own slice of the results.
Detectors are not batched this way (images differ in size); face plugins and calculators are.
"""
from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Sequence

from facecore.plugin_api import Face, FacePlugin


@dataclass
class _Request:
    faces: Sequence[Face]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[dict[str, Any]] | None = None
    error: BaseException | None = None


class MicroBatcher:
    """Runs ``plugin.analyze`` on the faces of concurrent callers together, bounded in wait and size."""

    def __init__(self, plugin: FacePlugin, wait_ms: float, max_faces: int,
                 guard: AbstractContextManager[Any] | None = None) -> None:
        self.plugin = plugin
        self.guard = guard or nullcontext()  # held around each batch (the pipeline's per-plugin lock)
        self.wait_s = wait_ms / 1000.0
        self.max_faces = max(max_faces, 1)
        self._lock = threading.Condition()
        self._pending: list[_Request] = []
        self._leader_waiting = False
        self.batches_run = 0  # observability and tests

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, Any]]:
        request = _Request(faces)
        with self._lock:
            self._pending.append(request)
            lead = not self._leader_waiting
            if lead:
                self._leader_waiting = True
            elif self._gathered() >= self.max_faces:
                self._lock.notify_all()
        if lead:
            self._lead()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.results is not None
        return request.results

    def _gathered(self) -> int:
        return sum(len(r.faces) for r in self._pending)

    def _lead(self) -> None:
        deadline = time.monotonic() + self.wait_s
        with self._lock:
            while self._gathered() < self.max_faces:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            batch, self._pending = self._pending, []
            self._leader_waiting = False
        self._run(batch)

    def _run(self, batch: list[_Request]) -> None:
        faces = [face for request in batch for face in request.faces]
        try:
            with self.guard:
                results = self.plugin.analyze(faces) if faces else []
            if len(results) != len(faces):
                raise RuntimeError(f"returned {len(results)} results for {len(faces)} faces")
        except BaseException as error:  # every waiting request must hear of it, not hang
            for request in batch:
                request.error = error
                request.done.set()
            return
        self.batches_run += 1
        start = 0
        for request in batch:
            request.results = results[start:start + len(request.faces)]
            start += len(request.faces)
            request.done.set()
