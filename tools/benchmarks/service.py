"""Our service under uWSGI on a free localhost port, and a threaded HTTP load at a given concurrency."""
from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlencode

from tools.benchmarks import PROJECT_ROOT
from tools.benchmarks.stats import RunSummary, mean_per_face
from tools.common.service import ALL_SLUGS

log = logging.getLogger(__name__)

READY_LINE = "WSGI app 0 (mountpoint='') ready"  # uWSGI logs it once per worker (lazy-apps)
DEFAULT_SLUGS = ",".join(ALL_SLUGS)  # every face plugin, as a face_plugins query value
#: uWSGI closes the connection after each response (it says "Connection: close"),
#: so a pooled connection (requests.Session) is reset on its next request: one connection per request.
CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    env: dict[str, str]  # FACE_DETECTION_PLUGIN etc.; an absent key keeps the service's default
    face_plugins: str
    root: Path = PROJECT_ROOT  # the checkout to run (its uwsgi.ini and .venv): another commit's, to compare


HOG = ServiceConfig("dlib HOG + dlib.Calculator",
                    {"FACE_DETECTION_PLUGIN": "dlib.FaceDetector@hog", "CALCULATION_PLUGIN": "dlib.Calculator",
                     "EXTRA_PLUGINS": ""}, "calculator")
DEFAULT = ServiceConfig("default plugins", {}, DEFAULT_SLUGS)
#: the default plugins with the opt-in reduced precision (OpenVINO bf16 for every ONNX model)
BF16 = ServiceConfig("default plugins, bf16", {"INFERENCE_BACKEND": "auto", "INFERENCE_PRECISION": "bf16"},
                     DEFAULT_SLUGS)
#: the default plugins with one request's face plugins run one after another (FACE_THREADS' A/B)
ONE_THREAD = ServiceConfig("default plugins, FACE_THREADS=1", {"FACE_THREADS": "1"}, DEFAULT_SLUGS)
CONFIGS = {"hog": HOG, "default": DEFAULT, "bf16": BF16, "default-1t": ONE_THREAD}
#: variables removed from the caller's environment, so that only the config chooses plugins and runtimes
CONFIG_VARIABLES = ("FACE_DETECTION_PLUGIN", "CALCULATION_PLUGIN", "EXTRA_PLUGINS", "INFERENCE_BACKEND",
                    "INFERENCE_PRECISION", "FACE_THREADS")


def insightface_config(models_root: Path, detector: str, calculator: str, env: dict[str, str] | None = None,
                       name: str = "SCRFD-500M + MobileFace v2") -> ServiceConfig:
    """The service on the ONNX files InsightFace's package is given (models of one's own in ``models_root``)."""
    return ServiceConfig(name, {"FACE_DETECTION_PLUGIN": f"insightface.FaceDetector@{detector}",
                                "CALCULATION_PLUGIN": f"insightface.Calculator@{calculator}", "EXTRA_PLUGINS": "",
                                "MODELS_ROOT": str(models_root), **(env or {})}, "calculator")


def checkout_config(root: Path, commit: str) -> ServiceConfig:
    """The default plugins as another checkout (``root``, with its own .venv) serves them."""
    return ServiceConfig(f"default plugins @ {commit}", {}, DEFAULT_SLUGS, root=root)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """``.venv/bin/uwsgi --ini uwsgi.ini`` with the config's plugins; a context manager that stops it."""

    def __init__(self, config: ServiceConfig, processes: int, threads: int, log_path: Path,
                 venv: Path | None = None, extra_args: Sequence[str] = ()) -> None:
        self.config, self.processes, self.threads = config, processes, threads
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.log_path = log_path
        self.venv = venv or config.root / ".venv"
        self.process: subprocess.Popen | None = None
        self.startup_s = float("nan")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Service":
        env = {key: value for key, value in os.environ.items()
               if key not in CONFIG_VARIABLES}
        env.update(self.config.env)
        env.update(ML_PORT=str(self.port), UWSGI_PROCESSES=str(self.processes), UWSGI_THREADS=str(self.threads),
                   PATH=f"{self.venv / 'bin'}:{env.get('PATH', '')}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - kept open while uWSGI runs
        started = time.perf_counter()
        command = [str(self.venv / "bin" / "uwsgi"), "--ini", "uwsgi.ini", *self.extra_args]
        self.process = subprocess.Popen(command, cwd=self.config.root, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        handle.close()
        try:
            self._wait_ready(started)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, started: float, timeout: float = 180.0) -> None:
        """Until every worker has logged its app ready (models loaded and warmed) and /readiness says 200."""
        import requests

        assert self.process is not None
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"uWSGI exited with {self.process.returncode}; see {self.log_path}")
            ready = self.log_path.read_text(encoding="utf-8", errors="replace").count(READY_LINE)
            if ready >= self.processes:
                try:
                    if requests.get(f"{self.url}/readiness", timeout=5).status_code == 200:
                        self.startup_s = time.perf_counter() - started
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"uWSGI not ready after {timeout:.0f} s; see {self.log_path}")

    def __exit__(self, *exc: Any) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # its own session: the master and its workers. SIGINT stops uWSGI at once; its graceful SIGTERM
        # waited 30 s per stop here, which only lengthened the benchmark.
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the master and every worker have used so far."""
        import psutil

        assert self.process is not None
        master = psutil.Process(self.process.pid)
        return sum(sum(p.cpu_times()[:2]) for p in [master, *master.children(recursive=True)])

    def rss_mb(self) -> float:
        """Resident memory of the master and every worker, summed (shared pages count once per process)."""
        import psutil

        assert self.process is not None
        master = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [master, *master.children(recursive=True)]) / 2 ** 20


@dataclass(frozen=True)
class Upload:
    """One photo's ``/find_faces`` request, encoded once before the clock starts, as a client holding the bytes
    would send it: the load generator shares the CPU with the service, so it must cost as little as it can."""

    name: str
    body: bytes
    content_type: str

    @classmethod
    def of(cls, name: str, data: bytes) -> "Upload":
        boundary = f"facecore-bench-{uuid.uuid4().hex}"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n").encode()
        return cls(name, head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}")


def post(service: Service, upload: Upload, query: str, timeout: float = 120.0) -> tuple[int, dict[str, Any]]:
    """POST ``upload`` to /find_faces on a new connection (uWSGI closes each one): the status and the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=timeout)
    try:
        connection.request("POST", f"/find_faces?{query}", body=upload.body,
                           headers={"Content-Type": upload.content_type, **CLOSE})
        response = connection.getresponse()
        raw = response.read()
        is_json = (response.getheader("Content-Type") or "").startswith("application/json")
        return response.status, json.loads(raw) if is_json else {}
    finally:
        connection.close()


def load(service: Service, images: list[Path], concurrency: int, rounds: int, label: str) -> RunSummary:
    """POST every image ``rounds`` times from ``concurrency`` threads; latency is per request, client side."""
    uploads = [Upload.of(p.name, p.read_bytes()) for p in images]
    jobs: queue.Queue = queue.Queue()
    for _ in range(rounds):
        for upload in uploads:
            jobs.put(upload)
    records: list[dict[str, Any]] = []
    lock = threading.Lock()
    query = urlencode({"face_plugins": service.config.face_plugins})

    def client() -> None:
        while True:
            try:
                upload = jobs.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                status, body = post(service, upload, query)
            except (OSError, http.client.HTTPException, ValueError) as error:  # a reset is a failed request
                log.warning("%s: %s", upload.name, error)
                status, body = 0, {}
            latency = (time.perf_counter() - started) * 1000.0
            with lock:
                records.append({"image": upload.name, "status": status, "latency_ms": latency,
                                "times": [f.get("execution_time", {}) for f in body.get("result", [])]})

    _warm(service, uploads[0], query)
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    cpu_before, client_before = service.cpu_s(), time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu_s, client_cpu_s = service.cpu_s() - cpu_before, time.process_time() - client_before
    face_times = [t for r in records for t in r["times"]]
    summary = RunSummary(label, concurrency, len(records), len(face_times), wall, [r["latency_ms"] for r in records],
                         service.rss_mb(), mean_per_face(face_times),
                         errors=sum(1 for r in records if r["status"] == 0 or r["status"] >= 500), cpu_s=cpu_s)
    summary.extra["client_cpu_ms_per_image"] = 1000.0 * client_cpu_s / max(len(records), 1)
    summary.extra["faces_by_image"] = {r["image"]: len(r["times"]) for r in records}
    summary.extra["statuses"] = sorted({r["status"] for r in records})
    return summary


def _warm(service: Service, upload: Upload, query: str) -> None:
    """A few untimed requests so every worker has served once (connections, lazy allocations)."""
    for _ in range(2 * service.processes):
        post(service, upload, query)
