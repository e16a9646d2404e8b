"""Shared helpers of the reliability tests: images, a slow fake plugin package, a real uWSGI server."""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
UWSGI = ROOT / ".venv" / "bin" / "uwsgi"
SLOW_WIDTH = 123  # the slow test detector sleeps on images exactly this wide

PLUGIN_SOURCE = '''
"""Fake plugins for server tests: a detector that sleeps on 123-px-wide images, a calculator slow to load."""
import os
import time

from facecore import hookimpl
from tests import fakes


class SlowDetector(fakes.FaceDetector):
    name = "slowtest.SlowDetector"

    def detect(self, image, threshold):
        if image.shape[1] == 123:
            time.sleep(float(os.environ.get("SLOW_DETECT_S", "2")))
        return super().detect(image, threshold)


class SlowCalculator(fakes.Calculator):
    name = "slowtest.SlowCalculator"

    def load(self, ctx):
        time.sleep(float(os.environ.get("SLOW_LOAD_S", "0")))
        if os.environ.get("FAIL_LOAD"):
            from facecore.errors import StartupError
            raise StartupError(os.environ["FAIL_LOAD"])


@hookimpl
def register_plugins():
    return [SlowDetector, SlowCalculator, fakes.AgeDetector]
'''


def image_bytes(fmt: str, width: int = 100, height: int = 100, seed: int = 0, **save: object) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(width, 1), yy * 255 // max(height, 1), (xx + yy) % 256], axis=2)
    noisy = np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, format=fmt, **save)
    return out.getvalue()


def animated_gif(frames: int, size: int = 32) -> bytes:
    pictures = [Image.new("RGB", (size, size), (i * 7 % 256, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:], duration=10)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(width: int, height: int) -> bytes:
    """A valid grey PNG of width x height black pixels, a few hundred KB (zeros compress ~1000:1)."""
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"".join(parts))
            + png_chunk(b"IEND", b""))


def install_test_plugins(folder: Path) -> Path:
    """A plugin package importable from ``folder`` with its entry point (a dist-info, no pip needed)."""
    package = folder / "facecore_slowtest"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    info = folder / "facecore_slowtest-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: facecore-slowtest\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[facecore.plugins]\nslowtest = facecore_slowtest\n")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UwsgiServer:
    """``uwsgi --ini uwsgi.ini`` on a free port with the slow fake plugins (or what ``env`` selects)."""

    def __init__(self, plugin_dir: Path, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, "ML_PORT": str(self.port), "PYTHONPATH": f"{ROOT}{os.pathsep}{plugin_dir}",
                    "FACECORE_LOAD_PLUGINS": "slowtest", "FACE_DETECTION_PLUGIN": "slowtest.SlowDetector",
                    "CALCULATION_PLUGIN": "slowtest.SlowCalculator", "EXTRA_PLUGINS": "", "WARM_UP": "false",
                    "UWSGI_PROCESSES": "1", "LOGGING_LEVEL_NAME": "warning", **env}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "UwsgiServer":
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(UWSGI), "--ini", "uwsgi.ini"], cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                if requests.get(self.url + "/readiness", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"uWSGI not ready in {timeout} s:\n{self.log()}")

    def workers(self) -> list[int]:
        """The worker processes: the master's children but its HTTP router and fastrouter (uwsgi.ini)."""
        import psutil

        assert self.process is not None
        routers = {int(pid) for pid in re.findall(r"spawned uWSGI (?:http|fastrouter) \d+ \(pid: (\d+)\)", self.log_path.read_text(errors="replace"))}
        return sorted(child.pid for child in psutil.Process(self.process.pid).children() if child.pid not in routers)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def __enter__(self) -> "UwsgiServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def post_image(url: str, data: bytes, timeout: float = 30.0, **params: str) -> requests.Response:
    return requests.post(url + "/find_faces", files={"file": ("x.jpg", data)}, params=params, timeout=timeout)


def python() -> str:
    return sys.executable


def _stable(body: dict) -> dict:
    for face in body["result"]:
        face.pop("execution_time")  # the only part that may differ between two answers
    return body


def assert_same_answers_from_threads(client, images: list[bytes], face_plugins: str, threads: int = 8,
                                     requests_count: int = 16) -> None:
    """Each image answered from ``threads`` threads at once equals its answer from one thread (Flask client)."""
    from concurrent.futures import ThreadPoolExecutor

    def post(data: bytes) -> dict:
        response = client.post(f"/find_faces?face_plugins={face_plugins}",
                               data={"file": (io.BytesIO(data), "x.jpg")}, content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)
        return _stable(response.get_json())

    expected = [post(image) for image in images]
    assert all(body["result"] for body in expected)
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda index: (index % len(images), post(images[index % len(images)])),
                                range(requests_count)))
    for which, body in answers:
        assert body == expected[which]
