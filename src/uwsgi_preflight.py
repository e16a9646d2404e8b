"""Imported by uWSGI's master before it forks any worker (uwsgi.ini ``shared-import``).

A bad setting or plugin name ends the server here with one line and exit status 2; without this the
master would replace failing workers forever (src/preflight.py says why).
"""
from __future__ import annotations

import os

from facecore.preflight import EXIT_BAD_SETTING, check_in_child

if check_in_child() != 0:
    os._exit(EXIT_BAD_SETTING)  # the master: no Python clean-up of a server that never served
