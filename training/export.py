"""Export a checkpoint to ONNX for the service (dynamic batch), optionally int8, with LFW figures.

    python -m training.export CKPT OUT.onnx [--lfw ALIGNED_LFW] [--int8 --calibration ALIGNED_DIR]

The ONNX file takes ``data`` (N, 3, 112, 112), RGB scaled (x - 127.5) / 127.5 (what ``insightface.Calculator``
feeds a graph that does not scale pixels itself), and gives ``embedding`` (N, D); the export is checked
against torch (max |difference| <= 1e-4) or refused. With ``--lfw``, the LFW 10-fold accuracy and the
speed (ms per face, batch 32) are printed, and the similarity coefficients fitted on LFW are written to
``OUT.coefficients.json``, which the service reads when it serves the model under its own name
(docs/training.md). ``--int8`` also writes ``OUT.int8.onnx``: ONNX Runtime static quantisation (QDQ,
per-channel weights) calibrated on faces from ``--calibration``, with the same figures before and after.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

TOLERANCE = 1e-4
COEFFICIENTS_SUFFIX = ".coefficients.json"


def export_onnx(model, out: Path, opset: int = 17) -> float:
    """Write ``out``; return max |torch - ONNX Runtime| on a random batch of 3, relative to the embeddings' scale
    when it exceeds 1 (ValueError past 1e-4)."""
    import onnxruntime as ort
    import torch

    model = model.eval()
    example = torch.randn(3, 3, 112, 112, generator=torch.Generator().manual_seed(0))
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter (the torch.export one needs onnxscript, one more large dependency); it
        # warns that it is deprecated, from several places inside it.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (example,), str(out), input_names=["data"], output_names=["embedding"],
                          dynamic_axes={"data": {0: "N"}, "embedding": {0: "N"}}, opset_version=opset,
                          dynamo=False)
    with torch.no_grad():
        expected = model(example).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"data": example.numpy()})[0]
    difference = float(np.abs(got - expected).max()) / max(1.0, float(np.abs(expected).max()))
    if difference > TOLERANCE:
        raise ValueError(f"the ONNX export differs from torch by {difference:.2e} (> {TOLERANCE:g})")
    return difference


def aligned_faces(root: Path, limit: int) -> np.ndarray:
    """Up to ``limit`` aligned faces from a folder (recursively), as uint8 RGB (N, 112, 112, 3)."""
    from tools.common.images import list_images
    from training.data import fit, read_image

    paths = list_images([root])
    if not paths:
        raise ValueError(f"no images under {root}")
    step = max(len(paths) // limit, 1)
    return np.stack([fit(read_image(p)) for p in paths[::step][:limit]])


def quantize_int8(source: Path, target: Path, calibration: np.ndarray) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Faces(CalibrationDataReader):
        def __init__(self) -> None:
            blobs = (calibration.transpose(0, 3, 1, 2).astype(np.float32) - 127.5) / 127.5
            self.batches = iter([{"data": blobs[i:i + 16]} for i in range(0, len(blobs), 16)])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(str(source), str(target), Faces(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)


def ms_per_face(path: Path, batch: int = 32, repeats: int = 5) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    blob = np.random.default_rng(0).uniform(-1, 1, (batch, 3, 112, 112)).astype(np.float32)
    session.run(None, {"data": blob})
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, {"data": blob})
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000.0 / batch


def lfw_figures(path: Path, lfw: Path, pairs: Path | None):
    from training.evaluate import lfw_pair_set, onnx_embedder, verify

    return verify(lfw_pair_set(lfw, pairs), onnx_embedder(path), progress=True)


def write_coefficients(onnx_path: Path, c0: float, c1: float, accuracy: float) -> Path:
    target = onnx_path.with_name(onnx_path.stem + COEFFICIENTS_SUFFIX)
    target.write_text(json.dumps({"similarity_coefficients": [c0, c1], "fitted_on": "LFW pairs.txt",
                                  "lfw_accuracy": accuracy}, indent=1))
    return target


def main(argv: Sequence[str] | None = None) -> int:
    from tools.common.service import quiet_logs

    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n")[0],
                                     epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path, help="the .onnx to write")
    parser.add_argument("--lfw", type=Path, help="aligned LFW: accuracy, speed and similarity coefficients")
    parser.add_argument("--lfw-pairs", type=Path, help="pairs.txt (default: <lfw>/pairs.txt)")
    parser.add_argument("--int8", action="store_true", help="also write OUT.int8.onnx (static quantisation)")
    parser.add_argument("--calibration", type=Path, help="aligned faces for --int8")
    parser.add_argument("--calibration-images", type=int, default=256)
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args(argv)
    quiet_logs()
    if args.int8 and args.calibration is None:
        parser.error("--int8 needs --calibration DIR (aligned faces)")
    from training.checkpoint import load_backbone

    try:
        model, _ = load_backbone(args.checkpoint)
        difference = export_onnx(model, args.out, args.opset)
        print(f"{args.out}: dynamic batch, max |torch - onnx| = {difference:.2e}")
        outputs = [args.out]
        if args.int8:
            quantized = args.out.with_suffix(".int8.onnx")
            quantize_int8(args.out, quantized, aligned_faces(args.calibration, args.calibration_images))
            outputs.append(quantized)
        for path in outputs:
            line = f"{path.name}: {ms_per_face(path):.2f} ms/face (batch 32, ONNX Runtime CPU)"
            if args.lfw:
                result = lfw_figures(path, args.lfw, args.lfw_pairs)
                line += f", LFW accuracy {result.accuracy_mean:.4f} +- {result.accuracy_std:.4f} (AUC {result.auc:.4f})"
                written = write_coefficients(path, result.c0, result.c1, result.accuracy_mean)
                line += f"; coefficients c0={result.c0:.4f} c1={result.c1:.4f} in {written.name}"
            print(line)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
