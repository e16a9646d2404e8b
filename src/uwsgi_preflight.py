"""Imported by uWSGI's master before it forks any worker (uwsgi.ini ``shared-import``).

A bad setting or plugin name ends the server here with one line and exit status 2; without this the
master would replace failing workers forever (src/preflight.py says why). Importing
:mod:`facecore.refused_start` here, before the fork, lets a worker that cannot load its models make the master
exit 2 as well.
"""
from __future__ import annotations

import os

from facecore import refused_start
from facecore.preflight import EXIT_BAD_SETTING, check_in_child

if check_in_child() != 0:
    os._exit(EXIT_BAD_SETTING)  # the master: no Python clean-up of a server that never served
refused_start.install_in_master()
