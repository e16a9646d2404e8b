"""Checks that stop a start before any worker exists: settings, plugin names, the port.

Why: under uWSGI a worker that fails to start is replaced, forever, while the port accepts connections
that hang. These checks run first - ``make run`` calls ``python -m facecore.preflight --port`` before uWSGI
binds, and uWSGI's master imports :mod:`facecore.uwsgi_preflight` (uwsgi.ini ``shared-import``) before it
forks - and a failure is one line on stderr and exit status 2, as ``python -m facecore.app`` does.
Models are not loaded here (that is each worker's job); a worker that cannot load them stops the whole
server (uWSGI's ``need-app``) with exit status 2 as well, see :mod:`facecore.refused_start`.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import traceback
from typing import Mapping

from facecore.config import Settings, load_settings
from facecore.errors import StartupError
from facecore.refused_start import EXIT_REFUSED_START

EXIT_BAD_SETTING = EXIT_REFUSED_START


def check_configuration(env: Mapping[str, str] | None = None) -> Settings:
    """Settings, plugin names and kinds, model names: everything but loading the models."""
    from facecore.pipeline import Pipeline
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    settings = load_settings(env)
    Pipeline.from_settings(settings, PluginRegistry.from_manager(build_plugin_manager()))
    return settings


def check_port(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - the address uWSGI binds
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uWSGI binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(f"ML_PORT={port}: the port is in use or not allowed ({error.strerror}); "
                               "stop what holds it or set ML_PORT to a free port") from None


def check_in_child() -> int:
    """:func:`check_configuration` in a forked child, so plugin packages are never imported into uWSGI's
    master (its workers fork from it); returns the child's exit status, 0 when all is well."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's outcome is its exit status
        code = 0
        try:
            check_configuration()
        except StartupError as error:
            print(f"cannot start: {error}", file=sys.stderr, flush=True)
            code = EXIT_BAD_SETTING
        except BaseException:  # noqa: BLE001 - a bug in a plugin package must still stop the start
            traceback.print_exc()
            code = EXIT_BAD_SETTING
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m facecore.preflight", description=__doc__.split("\n")[0])
    parser.add_argument("--port", action="store_true", help="only the settings and that ML_PORT is free")
    args = parser.parse_args(argv)
    try:
        if args.port:
            check_port(load_settings().port)
        else:
            check_configuration()
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTING) from None


if __name__ == "__main__":
    main()
