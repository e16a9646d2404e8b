"""Settings from the environment, validated once at start-up.

A bad value stops the start with one line naming the variable, the value and the valid choices.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from facecore.cpu_budget import available_cpus
from facecore.device import Device
from facecore.errors import StartupError
from facecore.inference_runtime import OPENVINO, RuntimePlan, openvino_installed, parse_plan

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def split_list(value: str) -> tuple[str, ...]:
    """CompreFace's list syntax: names separated by commas and/or white space."""
    return tuple(part for part in re.split(r"[,\s]+", value.strip()) if part)


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. Built from the environment by :func:`load_settings`."""

    port: int = 3000
    detector: str = "libfacedetection.FaceDetector"  # YuNet; MTCNN is still facenet.FaceDetector
    calculator: str = "dlib.Calculator"
    extras: tuple[str, ...] = ("facenet.LandmarksDetector", "dlib.AgeDetector", "dlib.GenderDetector",
                               "facenet.PoseEstimator")
    gpu_idx: int = -1
    img_length_limit: int = 640
    det_prob_threshold: float | None = None  # None: the detector's own default
    models_root: Path = Path("~/.cache/facecore/models")
    models_offline: bool = False
    logging_level: str = "info"
    build_version: str = "dev"
    max_body_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_frames: int = 100
    onnx_threads: int = 1  # intra-op threads per ONNX session
    warm_up: bool = True
    batch_wait_ms: int = 0  # >0: face plugins batch across concurrent requests (GPUs, UWSGI_THREADS > 1)
    batch_max_faces: int = 64
    face_chunk: int = 16  # faces per model call within a request: bounds its working memory
    face_threads: int = 2  # threads that run one request's face plugins at once (src/parallel.py)
    max_in_flight: int = 4  # image requests processed at once per worker; more wait ...
    queue_timeout_ms: int = 500  # ... this long for a slot, then 503 with Retry-After
    inference: RuntimePlan = RuntimePlan()  # INFERENCE_BACKEND / INFERENCE_PRECISION

    @property
    def device(self) -> Device:
        """Where and with how many threads the models run."""
        return Device(self.gpu_idx, self.onnx_threads, self.inference.default, self.inference, self.img_length_limit)

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


#: The defaults, stated once (in :class:`Settings`); the environment overrides them.
DEFAULTS = Settings()


def _int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StartupError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise StartupError(f"{name}={raw!r} must be >= {minimum}")
    return value


def _fraction(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise StartupError(f"{name}={raw!r} is not a number in [0, 1]")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise StartupError(f"{name}={raw!r} is not a boolean; choices: true, false")


def cores_per_worker(env: Mapping[str, str]) -> int:
    """The default ONNX thread count: the CPUs this process may use (a container's CPU limit included, see
    :mod:`facecore.cpu_budget`) shared among uWSGI's worker processes, so that processes x threads = CPUs
    (no oversubscription)."""
    workers = max(_int(env, "UWSGI_PROCESSES", 1, 1), 1)
    return max(available_cpus() // workers, 1)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment. Unlike CompreFace, an empty ``EXTRA_PLUGINS`` means no extras."""
    env = os.environ if env is None else env
    level = env.get("LOGGING_LEVEL_NAME", "").strip().lower() or DEFAULTS.logging_level
    if level not in LOG_LEVELS:
        raise StartupError(f"LOGGING_LEVEL_NAME={level!r} is not a level; choices: {', '.join(LOG_LEVELS)}")
    extras = split_list(env["EXTRA_PLUGINS"]) if "EXTRA_PLUGINS" in env else DEFAULTS.extras
    port = _int(env, "ML_PORT", DEFAULTS.port, 1)
    if port > 65535:
        raise StartupError(f"ML_PORT={port} is not a TCP port (1..65535)")
    return Settings(
        port=port,
        detector=env.get("FACE_DETECTION_PLUGIN", "").strip() or DEFAULTS.detector,
        calculator=env.get("CALCULATION_PLUGIN", "").strip() or DEFAULTS.calculator,
        extras=extras,
        gpu_idx=_int(env, "GPU_IDX", DEFAULTS.gpu_idx, -1),
        img_length_limit=_int(env, "IMG_LENGTH_LIMIT", DEFAULTS.img_length_limit, 0),
        det_prob_threshold=_fraction(env, "DET_PROB_THRESHOLD"),
        models_root=Path(env.get("MODELS_ROOT", "").strip() or DEFAULTS.models_root).expanduser(),
        models_offline=_bool(env, "MODELS_OFFLINE", DEFAULTS.models_offline),
        logging_level=level,
        build_version=env.get("APP_VERSION_STRING", "").strip() or DEFAULTS.build_version,
        max_body_bytes=_int(env, "MAX_BODY_BYTES", DEFAULTS.max_body_bytes, 1),
        max_pixels=_int(env, "MAX_IMAGE_PIXELS", DEFAULTS.max_pixels, 1),
        max_frames=_int(env, "MAX_IMAGE_FRAMES", DEFAULTS.max_frames, 1),
        onnx_threads=_int(env, "ONNX_THREADS", 0, 0) or cores_per_worker(env),  # 0: the cores of this worker
        warm_up=_bool(env, "WARM_UP", DEFAULTS.warm_up),
        batch_wait_ms=_int(env, "BATCH_WAIT_MS", DEFAULTS.batch_wait_ms, 0),
        batch_max_faces=_int(env, "BATCH_MAX_FACES", DEFAULTS.batch_max_faces, 1),
        face_chunk=_int(env, "FACE_CHUNK", DEFAULTS.face_chunk, 1),
        face_threads=_int(env, "FACE_THREADS", DEFAULTS.face_threads, 1),
        max_in_flight=_int(env, "MAX_IN_FLIGHT", DEFAULTS.max_in_flight, 1),
        queue_timeout_ms=_int(env, "QUEUE_TIMEOUT_MS", DEFAULTS.queue_timeout_ms, 0),
        inference=_runtime_plan(env),
    )


def _runtime_plan(env: Mapping[str, str]) -> RuntimePlan:
    try:
        plan = parse_plan(env.get("INFERENCE_BACKEND", ""), env.get("INFERENCE_PRECISION", ""))
    except ValueError as error:
        raise StartupError(str(error)) from None
    asked = [plan.default, *(choice for _, choice in plan.per_slug)]
    if any(choice.backend == OPENVINO for choice in asked) and not openvino_installed():
        raise StartupError("INFERENCE_BACKEND asks for openvino, which is not installed: "
                           "pip install 'face-core[openvino]'")
    return plan
