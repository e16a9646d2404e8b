"""Run one request's independent pieces of work on a few threads of its worker process.

Why: a worker handles one request at a time (``UWSGI_THREADS=1``) and each ONNX session runs on
``ONNX_THREADS`` cores, so at low load the other cores of the machine sat idle while one face plugin
after another ran. The face plugins of a request (and halves of one plugin's faces) do not depend on
each other, and ONNX Runtime, OpenCV and numpy release the GIL while they compute, so a second thread
finishes the request sooner. The caller's thread works too: with one thread nothing changes at all.

Only while cores are idle, though: when every core is busy (the other workers are computing too), a
second thread only takes turns with them and cost 15-30 % of the throughput on group photos
(docs/benchmarks.md). So each request looks at how many cores are idle, both at this instant and over
the time since its worker's previous request: a worker between two requests of a busy server is idle
for an instant only.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

from facecore.cpu_budget import available_cpus

ResultT = TypeVar("ResultT")


def idle_now(cores: int) -> int | None:
    """Of ``cores``, how many have nothing to run at this instant: Linux counts the runnable threads in the
    fourth field of /proc/loadavg ("2/345"), the calling thread included. None where it cannot be read."""
    try:
        with open("/proc/loadavg", "rb") as handle:
            runnable = int(handle.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(cores - runnable, 0)


def cpu_jiffies() -> tuple[int, int] | None:
    """(idle, all) clock ticks the CPUs have spent since boot: /proc/stat's first line, idle + iowait."""
    try:
        with open("/proc/stat", "rb") as handle:
            ticks = [int(field) for field in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (ticks[3] + ticks[4], sum(ticks[:8])) if len(ticks) >= 8 else None


class RecentIdle:
    """The CPUs' idle share since the previous reading; readings less than ``min_ticks`` apart keep the last
    share (a tick is 10 ms of one CPU), so that one short gap does not count as an idle machine."""

    def __init__(self, read: Callable[[], tuple[int, int] | None] = cpu_jiffies, min_ticks: int = 10) -> None:
        self._read = read
        self._min_ticks = min_ticks
        self._last: tuple[int, int] | None = None
        self._share: float | None = None
        self._lock = threading.Lock()

    def share(self) -> float | None:
        sample = self._read()
        if sample is None:
            return None
        with self._lock:
            if self._last is None:
                self._last = sample
            elif sample[1] - self._last[1] >= self._min_ticks:
                self._share = (sample[0] - self._last[0]) / (sample[1] - self._last[1])
                self._last = sample
            return self._share


_recent = RecentIdle()


def idle_cores(cores: int) -> int | None:
    """Of ``cores``, how many are idle both now and lately (a core counts when at least 40 % of one was idle
    since the previous reading); None where neither can be read."""
    now, share = idle_now(cores), _recent.share()
    lately = None if share is None else int(cores * share + 0.6)
    if now is None or lately is None:
        return now if lately is None else lately
    return min(now, lately)


def return_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    Why: glibc gives each thread that allocates its own heap arena and keeps what a pool thread freed there; after
    a request of hundreds of faces spread over two threads the worker stayed ~100 MB larger than before it
    (tests/reliability/test_memory_bounds.py)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@dataclass
class Outcome(Generic[ResultT]):
    """What one task gave: its value, or the exception it raised (re-raised by the runner)."""

    value: ResultT | None = None
    error: BaseException | None = None


class TaskRunner:
    """Runs lists of tasks on ``threads`` threads (the caller's and ``threads - 1`` pool threads).

    The pool is made on first use in the process that uses it: a pool made before a fork has no threads
    in the child. Every task of a call has finished or been skipped when :meth:`run` returns or raises,
    so nothing of one request is still running into the next.
    """

    def __init__(self, threads: int, idle: Callable[[int], int | None] | None = None) -> None:
        self.threads = max(int(threads), 1)
        self._cores = available_cpus()  # a container's CPU limit included
        self._idle = idle
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

    def threads_now(self) -> int:
        """The threads the work about to start gets: one, plus one per idle core, up to ``threads``
        (all of them where idleness cannot be read)."""
        if self.threads == 1:
            return 1
        idle = (self._idle or idle_cores)(self._cores)
        return self.threads if idle is None else min(self.threads, 1 + idle)

    def run(self, tasks: Sequence[Callable[[], ResultT]]) -> list[ResultT]:
        """The tasks' values in the tasks' order, on :meth:`threads_now` threads; the first failure (in the
        tasks' order) is raised once every task has ended.

        After a failure the remaining tasks are skipped: their work would be thrown away.
        """
        outcomes: list[Outcome[ResultT] | None] = [None] * len(tasks)
        cursor = iter(range(len(tasks)))
        cursor_lock = threading.Lock()
        failed = threading.Event()

        def drain() -> None:
            while not failed.is_set():
                with cursor_lock:
                    index = next(cursor, None)
                if index is None:
                    return
                try:
                    outcomes[index] = Outcome(value=tasks[index]())
                except BaseException as error:  # handed to the caller below, never lost in a pool thread
                    outcomes[index] = Outcome(error=error)
                    failed.set()

        helpers = min(self.threads_now(), len(tasks)) - 1 if len(tasks) > 1 else 0  # one task: nothing to ask
        futures: list[Future[None]] = [self._executor().submit(drain) for _ in range(helpers)] if helpers else []
        drain()
        for future in futures:
            future.result()
        for outcome in outcomes:
            if outcome is not None and outcome.error is not None:
                raise outcome.error
        return [outcome.value for outcome in outcomes]  # type: ignore[union-attr,misc]

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=self.threads - 1, thread_name_prefix="face-work")
                self._pool_pid = os.getpid()
            return self._pool
