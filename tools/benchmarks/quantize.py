"""int8 copies of an ONNX network by ONNX Runtime's static quantization, calibrated on real inputs.

QDQ format, weights int8 per output channel, activations uint8 with ranges from the calibration batches
(MinMax). ``python -m tools.benchmarks.quantize [--calibration PHOTO_FOLDER] [--photos 160]`` writes the int8
copy of ``dlib.Calculator``'s ResNet into the model store (``MODELS_ROOT``), calibrated on the largest face of
each photo as the default detector finds it; the service then runs it with
``INFERENCE_PRECISION=calculator:int8``. ``tools.benchmarks.precision_lfw`` measures it on LFW.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def quantize_int8(source: Path, target: Path, batches: list[np.ndarray]) -> Path:
    """Write the int8 copy of ``source`` to ``target``, calibrated on ``batches`` (inputs of the first input)."""
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    name = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds: Iterator[dict[str, np.ndarray]] = iter({name: b.astype(np.float32)} for b in batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    target.parent.mkdir(parents=True, exist_ok=True)
    quantize_static(str(source), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    return target


def calibration_chips(calculator: Any, detector: Any, photos: list[Path]) -> np.ndarray:
    """The calculator's network inputs (N, 3, 150, 150) for the first face the detector finds in each photo."""
    from facecore.plugin_api import Face
    from tools.common.images import read_rgb

    chips = []
    for path in photos:
        image = read_rgb(path)
        faces = detector.detect(image, detector.default_threshold)
        if faces:
            chips.append(calculator.chip(Face(image, faces[0])))
    if not chips:
        raise SystemExit("no face found in the calibration photos")
    return np.stack(chips).astype(np.float32).transpose(0, 3, 1, 2)


def write_dlib_int8(calculator: Any, store: Any, detector: Any, photos: list[Path]) -> Path:
    """The int8 copy of ``dlib.Calculator``'s converted ResNet (``calculator`` loaded in f32), in the store."""
    from plugins.dlib.calculator import int8_path
    from plugins.dlib.models import RESNET_SPEC

    batch = calibration_chips(calculator, detector, photos)
    folder = store.model_dir("dlib", "calculator", RESNET_SPEC.name)
    source = next((folder / "onnx").glob("*.onnx"))  # converted by the calculator's load
    return quantize_int8(source, int8_path(folder), [batch[i:i + 8] for i in range(0, len(batch), 8)])


def main(argv: list[str] | None = None) -> int:
    from dataclasses import replace

    from facecore.config import load_settings
    from facecore.inference_runtime import RuntimeChoice
    from facecore.model_store import ModelStore
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager
    from tools.benchmarks import SHARED
    from tools.common.service import build_detector_only

    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.quantize", description=__doc__.split("\n")[0])
    parser.add_argument("--calibration", type=Path, default=SHARED / "datasets" / "celeba-train",
                        help="a folder of photos (searched recursively for .jpg), default %(default)s")
    parser.add_argument("--photos", type=int, default=160, help="how many photos, in name order (default 160)")
    args = parser.parse_args(argv)
    settings = load_settings()
    photos = sorted(args.calibration.rglob("*.jpg"))[:args.photos]
    if not photos:
        raise SystemExit(f"no .jpg under {args.calibration}")
    calculator = PluginRegistry.from_manager(build_plugin_manager()).create("dlib.Calculator")
    store = ModelStore(settings.models_root, offline=settings.models_offline)
    f32 = replace(settings.device, runtime=RuntimeChoice())  # the f32 network, whatever INFERENCE_PRECISION says
    calculator.load(store.context_for(calculator, f32))
    path = write_dlib_int8(calculator, store, build_detector_only(settings), photos)
    print(f"wrote {path} from {len(photos)} photos; serve it with INFERENCE_PRECISION=calculator:int8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
