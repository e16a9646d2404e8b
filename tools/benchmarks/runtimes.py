"""The default plugins' models under ONNX Runtime and OpenVINO (f32, bf16): time per call, interleaved.

    python -m tools.benchmarks.runtimes [--rounds 15] [--threads 1] [--batch 8] [--plugins dlib.Calculator]

Each plugin is loaded once per runtime with the same thread count; every round calls each runtime once on
the same input (the detector on a 640 px photo with 5 faces, the face plugins on a batch of that photo's
faces), in turn, so that a loaded machine slows all of them alike. Reports the median ms per call of each
runtime, and each runtime's speed-up over ONNX Runtime as the median of the per-round ratios with their
range (the day's spread), in wall time and in this process's CPU time (which other work on a shared
machine inflates less), plus the largest output difference from ONNX Runtime. ``dlib.Calculator`` also gets an
"onnxruntime int8" row when ``tools.benchmarks.precision_lfw`` has written its int8 copy into the store.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facecore.device import Device
from facecore.imaging import downscale
from facecore.inference_runtime import BF16, F32, ONNXRUNTIME, OPENVINO, RuntimeChoice
from facecore.model_store import ModelStore
from facecore.plugin_api import Face
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tools.benchmarks import SHARED
from tools.common.images import read_rgb

PLUGINS = ("facenet.FaceDetector", "dlib.Calculator", "dlib.AgeDetector", "dlib.GenderDetector")
CHOICES = (RuntimeChoice(ONNXRUNTIME, F32), RuntimeChoice(OPENVINO, F32), RuntimeChoice(OPENVINO, BF16))
PHOTO = SHARED / "datasets" / "deepface" / "selfie-many-people.jpg"


@dataclass(frozen=True)
class RuntimeRow:
    plugin: str
    runtime: str
    median_ms: float
    speedup: float  # median over rounds of ONNX Runtime's time / this one's
    speedup_range: tuple[float, float]
    cpu_speedup: float
    cpu_speedup_range: tuple[float, float]
    max_difference: float


def load(name: str, choice: RuntimeChoice, threads: int, store: ModelStore) -> Any:
    plugin = PluginRegistry.from_manager(build_plugin_manager()).create(name)
    plugin.load(store.context_for(plugin, Device(threads=threads, runtime=choice)))
    return plugin


def call_of(plugin: Any, image: np.ndarray, faces: list[Face]) -> Callable[[], np.ndarray]:
    """One call of the plugin on the benchmark input, returning its numbers (to compare runtimes)."""
    if plugin.slug == "detector":
        return lambda: np.array([[*f.box.__dict__.values(), f.probability] for f in plugin.detect(image, 0.85)])
    if plugin.slug == "calculator":
        return lambda: np.asarray(plugin.embed(faces))
    return lambda: np.array([[float(v) for v in r[plugin.slug].values() if isinstance(v, (int, float))]
                             for r in plugin.analyze(faces)])


def int8_copy(store: ModelStore) -> Path | None:
    from plugins.dlib.models import RESNET_SPEC

    path = store.model_dir("dlib", "calculator", RESNET_SPEC.name) / "int8" / "resnet_int8.onnx"
    return path if path.exists() else None


def contenders(name: str, threads: int, store: ModelStore) -> list[tuple[str, Any]]:
    """(label, loaded plugin) per runtime choice; ONNX Runtime f32 first (the reference)."""
    loaded = [(str(choice), load(name, choice, threads, store)) for choice in CHOICES]
    int8 = int8_copy(store) if name == "dlib.Calculator" else None
    if int8 is not None:
        plugin = load(name, CHOICES[0], threads, store)
        plugin.use_onnx(int8, Device(threads=threads))
        loaded.append(("onnxruntime int8", plugin))
    return loaded


def measure(name: str, image: np.ndarray, faces: list[Face], rounds: int, threads: int,
            store: ModelStore) -> list[RuntimeRow]:
    plugins = contenders(name, threads, store)
    calls = [call_of(plugin, image, faces) for _, plugin in plugins]
    reference = [call() for call in calls][0]  # the first calls also warm every runtime up
    outputs = [call() for call in calls]
    times: list[list[float]] = [[] for _ in calls]
    cpu: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            times[index].append((time.perf_counter() - started) * 1000.0)
            cpu[index].append((time.process_time() - started_cpu) * 1000.0)
    rows = []
    for index, (label, _) in enumerate(plugins):
        ratios = [base / mine for base, mine in zip(times[0], times[index])]
        cpu_ratios = [base / max(mine, 1e-3) for base, mine in zip(cpu[0], cpu[index])]
        difference = float(np.max(np.abs(outputs[index] - reference))) if outputs[index].shape == reference.shape \
            else float("inf")
        rows.append(RuntimeRow(name, label, statistics.median(times[index]), statistics.median(ratios),
                               (min(ratios), max(ratios)), statistics.median(cpu_ratios),
                               (min(cpu_ratios), max(cpu_ratios)), difference))
    return rows


def table(rows: list[RuntimeRow]) -> str:
    lines = ["| plugin | runtime | median ms/call | speed-up, wall (range) | speed-up, CPU time (range) | "
             "max output difference |", "|---|---|---|---|---|---|"]
    lines += [f"| `{r.plugin}` | {r.runtime} | {r.median_ms:.1f} | {r.speedup:.2f}x ({r.speedup_range[0]:.2f}-"
              f"{r.speedup_range[1]:.2f}) | {r.cpu_speedup:.2f}x ({r.cpu_speedup_range[0]:.2f}-"
              f"{r.cpu_speedup_range[1]:.2f}) | {r.max_difference:.1e} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.runtimes", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="threads per session (the service: cores/processes)")
    parser.add_argument("--batch", type=int, default=8, help="faces per face-plugin call (the photo's, repeated)")
    parser.add_argument("--plugins", nargs="+", default=list(PLUGINS))
    parser.add_argument("--models-root", default="~/.cache/facecore/models")
    args = parser.parse_args(argv)
    store = ModelStore(Path(args.models_root).expanduser(), offline=True)
    image, _ = downscale(read_rgb(PHOTO), 640)
    detector = load("facenet.FaceDetector", CHOICES[0], args.threads, store)
    found = detector.detect(image, 0.85)
    faces = [Face(image, found[i % len(found)]) for i in range(args.batch)]
    rows = [row for name in args.plugins for row in measure(name, image, faces, args.rounds, args.threads, store)]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
