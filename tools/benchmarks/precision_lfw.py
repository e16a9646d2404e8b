"""LFW verification of one calculator under several runtimes/precisions, faces detected once for all.

    python -m tools.benchmarks.precision_lfw [--calculator dlib.Calculator] [--limit-pairs N]

The standard 6,000 pairs of ``../shared/datasets/lfw`` (``pairs.txt``, 10 folds). Each image's largest face is
found once by the default detector through the service's pipeline (IMG_LENGTH_LIMIT included); the same face
then goes to the calculator loaded under each runtime choice (ONNX Runtime f32, OpenVINO f32 and bf16, and for
``dlib.Calculator`` an int8 copy of its network on ONNX Runtime, statically quantized on face chips of
``--calibration`` photos, by default 160 CelebA photos whose identities are not LFW's by design), so the figures
differ only by the runtime. Reports 10-fold accuracy (threshold fitted on 9 folds), AUC, and the largest
difference of each runtime's unit embeddings from ONNX Runtime's.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from facecore.config import load_settings
from facecore.inference_runtime import BF16, F32, ONNXRUNTIME, OPENVINO, RuntimeChoice
from facecore.model_store import ModelStore
from facecore.plugin_api import Face
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tools.benchmarks import SHARED
from tools.common.images import read_rgb
from tools.common.pairs import read_lfw_pairs
from tools.common.progress import progress
from tools.common.service import build_detector_only
from tools.evaluate_verification import Verification, evaluate

LFW = SHARED / "datasets" / "lfw"
CELEBA = SHARED / "datasets" / "celeba-train"
INT8 = "onnxruntime int8"
CHOICES = (RuntimeChoice(ONNXRUNTIME, F32), RuntimeChoice(OPENVINO, F32), RuntimeChoice(OPENVINO, BF16))


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def int8_calculator(registry: PluginRegistry, store: ModelStore, settings: Any, detector: Any,
                    calibration: Path, photos: int = 160) -> Any:
    """``dlib.Calculator`` running an int8 copy of its network, calibrated on the chips of ``photos`` faces."""
    from tools.benchmarks.quantize import write_dlib_int8

    calculator = registry.create("dlib.Calculator")
    calculator.load(store.context_for(calculator, settings.device))
    calculator.use_onnx(write_dlib_int8(calculator, store, detector, sorted(calibration.rglob("*.jpg"))[:photos]),
                        settings.device)
    return calculator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.precision_lfw",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--calculator", default="dlib.Calculator")
    parser.add_argument("--lfw", type=Path, default=LFW)
    parser.add_argument("--limit-pairs", type=int, default=0, help="only the first N pairs (0 = all 6,000)")
    parser.add_argument("--calibration", type=Path, default=CELEBA, help="photos for the int8 copy (%(default)s)")
    args = parser.parse_args(argv)
    settings = load_settings()
    pairs = read_lfw_pairs(args.lfw / "pairs.txt", args.lfw / "images")
    pairs = pairs[:args.limit_pairs] if args.limit_pairs else pairs
    detector = build_detector_only(settings)
    registry = PluginRegistry.from_manager(build_plugin_manager())
    store = ModelStore(settings.models_root, offline=settings.models_offline)
    calculators = []
    for choice in CHOICES:
        calculator = registry.create(args.calculator)
        calculator.load(store.context_for(calculator, replace(settings.device, runtime=choice)))
        calculators.append(calculator)
    labels_of = [str(choice) for choice in CHOICES]
    if args.calculator == "dlib.Calculator":
        calculators.append(int8_calculator(registry, store, settings, detector, args.calibration))
        labels_of.append(INT8)
    files = list(dict.fromkeys(p for pair in pairs for p in (pair.a, pair.b)))
    vectors: dict[Path, list[np.ndarray]] = {}
    for path in progress(files, "detect + embed"):
        image = read_rgb(path)
        faces = detector.detect(image, detector.default_threshold)
        if faces:
            face = [Face(image, faces[0])]
            vectors[path] = [unit(np.asarray(c.embed(face))[0]) for c in calculators]
    kept = [p for p in pairs if p.a in vectors and p.b in vectors]
    labels = np.array([p.same for p in kept], dtype=bool)
    folds = np.array([p.fold for p in kept])
    print(f"{len(kept)} of {len(pairs)} pairs with a face in both images; calculator {args.calculator}")
    print("| runtime | 10-fold accuracy | std | AUC | max embedding difference from ONNX Runtime f32 |")
    print("|---|---|---|---|---|")
    for index, choice in enumerate(labels_of):
        distances = np.array([float(np.linalg.norm(vectors[p.a][index] - vectors[p.b][index])) for p in kept])
        result: Verification = evaluate(distances, labels, folds, len(pairs) - len(kept))
        difference = max(float(np.max(np.abs(v[index] - v[0]))) for v in vectors.values())
        print(f"| {choice} | {100 * result.accuracy_mean:.2f} % | {100 * result.accuracy_std:.2f} | "
              f"{result.auc:.4f} | {difference:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
