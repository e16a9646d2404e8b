"""YuNet's enlargement before detection, swept on WIDER FACE: the AP each scale gives and the CPU it costs.

``python -m tools.benchmarks.yunet_scales [--scales 1.0 1.1 1.125 1.15 1.2 1.25] [tools.benchmark_wider options]``.
The default model (``yunet_upscaled``) enlarges the 640-px copy 1.25x; each scale here is the same weights and
code under a model of its own, ``yunet_scaled_<permille>``, registered on the plugin class for this process only
(no model of the package changes). Prints tools.benchmark_wider's table. Issue 15: a smaller enlargement is the
detector's share of the portraits target; this says what it costs in AP against the floor point 4 sets (YuNet-s
from OpenCV's zoo: 51.8 / 86.8 in docs/detectors.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Sequence

DETECTOR = "libfacedetection.FaceDetector"


def scaled_model_name(scale: float) -> str:
    return f"yunet_scaled_{round(scale * 1000)}"


def register_scales(scales: Sequence[float]) -> list[str]:
    """Add a model per scale to the YuNet plugin class (this process only); return their detector slugs."""
    from plugins.libfacedetection import detector

    known = {model.name for model in detector.FaceDetector.models}
    added = tuple(dataclasses.replace(detector.YUNET_UPSCALED, name=scaled_model_name(scale), options={"scale": scale})
                  for scale in scales if scaled_model_name(scale) not in known)
    detector.FaceDetector.models = (*detector.FaceDetector.models, *added)
    return [f"{DETECTOR}@{scaled_model_name(scale)}" for scale in scales]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.yunet_scales", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 1.1, 1.125, 1.15, 1.2, 1.25])
    args, wider_args = parser.parse_known_args(argv)
    if any(not 0.5 <= scale <= 2.0 for scale in args.scales):
        parser.error("scales go from 0.5 to 2.0")
    from tools.benchmark_wider import main as benchmark_wider

    return benchmark_wider(["--detectors", *register_scales(args.scales), *wider_args])


if __name__ == "__main__":
    sys.exit(main())
