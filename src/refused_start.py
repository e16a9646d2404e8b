"""One exit status for every refused start under uWSGI: a worker that cannot load tells its master.

Settings are refused in the master (exit status 2, :mod:`facecore.uwsgi_preflight`). A model that fails to load
can only be seen in a worker, which must exit with uWSGI's failed-app status 22 so that ``need-app`` stops
the master instead of respawning the worker forever; the master then exits 22 as well, and it runs no
Python at its exit. So the worker first tells a thread in the master (a pipe made before the fork), which
registers ``_exit(2)`` as the master's last C exit handler, and waits for its acknowledgement: the master
then ends with :data:`EXIT_REFUSED_START`, as ``python -m facecore.app`` and ``make run`` do on any refused start.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import threading
import time
from dataclasses import dataclass

#: The exit status of a refused start, whichever check refused it (documented in the README).
EXIT_REFUSED_START = 2

#: uWSGI's exit status for a worker whose app failed to load: with ``need-app`` the master then stops the
#: whole server (any other status and it would replace the worker, forever).
UWSGI_FAILED_APP_CODE = 22

_ACK_WAIT_S = 2.0


@dataclass(frozen=True)
class _Channel:
    """Made in the master before the fork, so every worker inherits both ends and the shared byte."""

    master_pid: int
    refusals_read: int
    refusals_write: int
    acknowledged: mmap.mmap  # MAP_SHARED | MAP_ANONYMOUS: written by the master, read by the worker


_channel: _Channel | None = None  # only uWSGI's master (and its workers, by inheritance) ever set it


def install_in_master() -> None:
    """In uWSGI's master, before it forks its workers: other processes that import the app make nothing."""
    global _channel  # noqa: PLW0603 - one master per process
    read_end, write_end = os.pipe()
    _channel = _Channel(os.getpid(), read_end, write_end, mmap.mmap(-1, 1))
    threading.Thread(target=_await_refusal, args=(_channel,), name="refused-start", daemon=True).start()


def _await_refusal(channel: _Channel) -> None:
    if os.read(channel.refusals_read, 1):
        libc = ctypes.CDLL(None)
        # _exit(2), called with __cxa_atexit's argument; registered last, so run first, when the master exits
        libc.__cxa_atexit(ctypes.cast(libc._exit, ctypes.c_void_p), ctypes.c_void_p(EXIT_REFUSED_START), None)
        channel.acknowledged[0] = 1


def record_refusal() -> None:
    """Called in a worker whose app cannot start, before it exits with :data:`UWSGI_FAILED_APP_CODE`."""
    channel = _channel
    if channel is None or channel.master_pid == os.getpid():
        return  # not a worker of a master that listens (another server, a test)
    os.write(channel.refusals_write, b"!")
    deadline = time.monotonic() + _ACK_WAIT_S
    while not channel.acknowledged[0] and time.monotonic() < deadline:
        time.sleep(0.01)
