"""A refused start stops, with one line and exit status 2, under uWSGI and ``make run`` (as under
``python -m facecore.app``): no worker respawned forever behind a port that accepts and hangs."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from facecore.errors import StartupError
from facecore.preflight import check_port
from tests.reliability.helpers import ROOT, UWSGI, UwsgiServer, free_port, install_test_plugins

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not UWSGI.exists(), reason="no .venv/bin/uwsgi")]
STOP_WITHIN_S = 60


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return install_test_plugins(tmp_path_factory.mktemp("plugins"))


def stopped(server: UwsgiServer) -> tuple[int, list[str]]:
    assert server.process is not None
    try:
        code = server.process.wait(STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        server.stop()
        raise AssertionError(f"uWSGI still running after {STOP_WITHIN_S} s:\n{server.log()}") from None
    return code, [line for line in server.log().splitlines() if line.strip()]


@pytest.mark.parametrize("setting,value,expected", [
    ("FACE_DETECTION_PLUGIN", "mtcnn", "cannot start: FACE_DETECTION_PLUGIN=mtcnn: unknown plugin 'mtcnn'; "
                                       "installed FaceDetector plugins: slowtest.SlowDetector"),
    ("CALCULATION_PLUGIN", "slowtest.SlowDetector", "cannot start: CALCULATION_PLUGIN=slowtest.SlowDetector: "
                                                    "plugin 'slowtest.SlowDetector' is not a Calculator"),
    ("MAX_IN_FLIGHT", "four", "cannot start: MAX_IN_FLIGHT='four' is not an integer"),
])
def test_uwsgi_stops_on_a_bad_setting_with_exit_2_and_one_line(plugin_dir, tmp_path, setting, value, expected):
    server = UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", **{setting: value}).start(wait=False)
    code, lines = stopped(server)
    assert code == 2, lines[-5:]
    assert lines[-1] == expected
    assert sum("cannot start" in line for line in lines) == 1
    assert "spawned uWSGI worker" not in server.log()  # refused before any worker existed


def test_uwsgi_stops_when_a_worker_cannot_load(plugin_dir, tmp_path):
    """A model that fails in the worker (not knowable before) stops the server instead of a respawn loop,
    with the exit status of every other refused start (it was uWSGI's failed-app status, 22)."""
    server = UwsgiServer(plugin_dir, tmp_path / "uwsgi.log", FAIL_LOAD="model file x.onnx is missing",
                         UWSGI_PROCESSES="2").start(wait=False)
    code, lines = stopped(server)
    assert code == 2, lines[-5:]
    failures = [line for line in lines if "cannot start" in line]
    assert 1 <= len(failures) <= 2, lines[-20:]  # once per worker, never respawned
    assert "x.onnx is missing" in failures[0]


def test_python_m_facecore_app_stops_when_a_model_cannot_load_with_exit_2(plugin_dir):
    env = UwsgiServer(plugin_dir, Path(os.devnull), FAIL_LOAD="model file x.onnx is missing").env
    done = subprocess.run([sys.executable, "-m", "facecore.app"], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=STOP_WITHIN_S)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == "cannot start: model file x.onnx is missing"


def test_make_run_stops_when_a_model_cannot_load_with_exit_2(plugin_dir):
    env = UwsgiServer(plugin_dir, Path(os.devnull), FAIL_LOAD="model file x.onnx is missing").env
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=STOP_WITHIN_S)
    assert done.returncode == 2, done.stderr[-2000:]  # make's own status for any failed recipe: not enough
    assert done.stderr.rstrip().endswith("] Error 2"), done.stderr[-2000:]  # uWSGI's status, as make reports it
    assert "cannot start: model file x.onnx is missing" in done.stderr


def make_run(port: int, **env: str) -> subprocess.CompletedProcess:
    plugin_env = {"FACE_DETECTION_PLUGIN": "facenet.FaceDetector", "EXTRA_PLUGINS": ""}
    return subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, capture_output=True, text=True,
                          timeout=STOP_WITHIN_S, env={**os.environ, **plugin_env, "ML_PORT": str(port), **env})


def test_make_run_names_ml_port_when_the_port_is_in_use():
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = make_run(port)
    assert done.returncode == 2
    refusals = [line for line in done.stderr.splitlines() if line.startswith("cannot start")]
    assert refusals == [f"cannot start: ML_PORT={port}: the port is in use or not allowed "
                        "(Address already in use); stop what holds it or set ML_PORT to a free port"]


def test_make_run_stops_on_a_plugin_name_with_exit_2():
    done = make_run(free_port(), FACE_DETECTION_PLUGIN="mtcnn")
    assert done.returncode == 2
    refusals = [line for line in done.stderr.splitlines() if line.startswith("cannot start")]
    assert len(refusals) == 1 and refusals[0].startswith("cannot start: FACE_DETECTION_PLUGIN=mtcnn: unknown plugin")
    assert "dlib.Calculator" not in refusals[0]  # only plugins of the kind asked for are listed


def test_preflight_port_check():
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        with pytest.raises(StartupError, match=f"ML_PORT={holder.getsockname()[1]}: the port is in use"):
            check_port(holder.getsockname()[1])
    check_port(free_port())


def test_preflight_cli_exit_status():
    done = subprocess.run([sys.executable, "-m", "facecore.preflight"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "GPU_IDX": "gpu"}, timeout=60)
    assert done.returncode == 2 and done.stderr.strip() == "cannot start: GPU_IDX='gpu' is not an integer"


def test_importing_the_app_opens_no_refusal_channel_outside_uwsgis_master():
    """Tests, tools and ``python -m facecore.app`` import the app too: only uWSGI's master makes the pipe."""
    code = ("import os; before = len(os.listdir('/proc/self/fd')); import facecore.app; "
            "from facecore import refused_start; "
            "print(refused_start._channel is None, len(os.listdir('/proc/self/fd')) - before)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "0"], done.stdout + done.stderr[-2000:]
