"""Imported by each uWSGI worker before it loads the app (uwsgi.ini ``import``): stops honoured while loading.

uWSGI ignores SIGHUP and SIGTERM while a worker loads its app. Its master stops workers with SIGHUP and
then waits for each in turn, so a worker that was loading when the stop came (``docker stop`` during a
start; models take seconds) never stopped and the master waited forever. A worker still loading has
nothing to drain: with the default action either signal ends it. Once the app is loaded, uWSGI installs
its own handlers (finish the request in hand, then exit) over these.
"""
from __future__ import annotations

import signal

for _stop in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(_stop, signal.SIG_DFL)
