"""tools.load and benchmark.sh against a real HTTP server on the fake plugins (no model weights)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from facecore.app import create_app
from tests.conftest import png_bytes
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tools import load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def server():
    app = create_app(FAKE_SETTINGS, pipeline=fake_pipeline())
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "face.png"
    path.write_bytes(png_bytes(100, 100))
    return path


def test_load_reports_throughput_and_percentiles(server, image, capsys):
    assert load.main([str(image), "--url", server, "--concurrency", "3", "--requests", "30", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["requests"] == 30 and figures["failures"] == 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert figures["throughput_rps"] > 0


def test_load_refuses_other_hosts_and_unreachable_servers(image, capsys):
    assert load.main([str(image), "--url", "http://example.com:3000"]) == 1
    assert "refusing" in capsys.readouterr().err
    assert load.main([str(image), "--url", "http://127.0.0.1:9", "--requests", "1"]) == 1


def test_check_fails_without_an_embedding(server, tmp_path):
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(png_bytes(4, 4))  # the fake detector finds no face in a tiny image
    assert load.check(server, "find_faces", tiny.read_bytes()) is not None
    assert load.check(server, "vectorize", png_bytes(100, 100)) is None


def test_benchmark_script(server, image):
    env = {**os.environ, "ML_URL": server, "BENCH_IMAGE": str(image), "BENCH_REQUESTS": "10",
           "PYTHON": sys.executable}
    done = subprocess.run(["bash", os.path.join(ROOT, "benchmark.sh"), "2", "scan_faces"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "p95" in done.stdout and "10 requests" in done.stdout
    assert subprocess.run(["bash", os.path.join(ROOT, "benchmark.sh"), "--help"], capture_output=True,
                          text=True).returncode == 0


def test_face_plugins_reach_the_query(server, image, capsys):
    assert load.endpoint_url("http://h", "find_faces", "calculator,age").endswith("/find_faces?face_plugins=calculator,age")
    assert load.endpoint_url("http://h", "vectorize", "age").endswith("/vectorize")
    argv = [str(image), "--url", server, "--requests", "4", "--face-plugins", "calculator,age,gender", "--json"]
    assert load.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["face_plugins"] == "calculator,age,gender"
