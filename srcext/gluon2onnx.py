"""Command line: ``python -m srcext.gluon2onnx ARCH PARAMS OUT.onnx [--size 224] [--softmax]``.

ARCH is the gluon model-zoo network the parameters were saved from (``mobilenet_v2_1_0``, ``resnet18_v1``); e.g.
CompreFace's mask model: ``python -m srcext.gluon2onnx mobilenet_v2_1_0 mobilenetv2_1_0.params mask.onnx --softmax``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srcext.cli import write_model
from srcext.mxnet import MxnetConversionError, convert_gluon
from srcext.mxnet.gluon_zoo import ARCHITECTURES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srcext.gluon2onnx", description=__doc__.split("\n")[0])
    parser.add_argument("arch", choices=sorted(ARCHITECTURES), help="gluon model-zoo network")
    parser.add_argument("params", type=Path, help="parameters saved by gluon (save_parameters or save_params)")
    parser.add_argument("out", type=Path, help="ONNX file to write")
    parser.add_argument("--size", type=int, default=224, help="input height and width (default 224)")
    parser.add_argument("--softmax", action="store_true", help="output probabilities instead of logits")
    args = parser.parse_args(argv)
    return write_model(args.out, lambda: convert_gluon(args.arch, args.params, args.size, args.softmax),
                       (MxnetConversionError,))


if __name__ == "__main__":
    sys.exit(main())
