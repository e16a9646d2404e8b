"""A loaded uWSGI worker ends with ``_exit(status)``, skipping the C exit handlers of native libraries.

Why: uWSGI ends a worker (``SIGTERM``; ``SIGHUP`` when idle) by calling ``exit()`` from its signal handler,
in whichever thread the kernel delivered the signal to - often one of onnxruntime's, OpenCV's or
OpenBLAS's pool threads, sometimes while that thread waits on a condition variable. ``exit()`` then runs
Python's finalisation (which waits for the main thread, still serving) and onnxruntime's static
destructors (which destroy that very condition variable and wait for its waiters to leave): the worker
never ends and the master waits for it (``SIGTERM`` to the whole process group, systemd's default, hung
this way in most runs with the real plugins; gdb showed both stacks). uwsgi.ini ``skip-atexit`` makes
uWSGI's SIGTERM handler call ``_exit`` itself; this covers its other ``exit()`` calls. Registered last, this
handler runs first and ends the process with the status uWSGI chose; nothing a worker holds needs a
clean-up at exit (requests are finished or abandoned by then, logs are written line by line).
"""
from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("facecore")


def skip_native_exit_handlers() -> bool:
    """Make ``exit(status)`` in this process end at once with ``status``; False where libc lacks ``on_exit``."""
    libc = ctypes.CDLL(None)
    try:
        on_exit = libc.on_exit  # glibc; on_exit(function(status, arg), arg): _exit(status) ignores arg
    except AttributeError:
        log.warning("no on_exit in this C library: a worker's exit runs the native libraries' exit handlers")
        return False
    return on_exit(ctypes.cast(libc._exit, ctypes.c_void_p), None) == 0
