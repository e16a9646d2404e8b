"""Command line: ``python -m srcext.keras2onnx MODEL.h5|SAVEDMODEL_DIR OUT.onnx``: inputs keep the model's
own NHWC layout and input-layer names, outputs the output-layer names."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srcext.cli import write_model
from srcext.keras import convert
from srcext.tensorflow import TensorflowConversionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srcext.keras2onnx", description=__doc__)
    parser.add_argument("model", type=Path, help="Keras HDF5 file (.h5/.hdf5) or SavedModel directory")
    parser.add_argument("out", type=Path, help="ONNX file to write")
    args = parser.parse_args(argv)
    return write_model(args.out, lambda: convert(args.model), (TensorflowConversionError,))


if __name__ == "__main__":
    sys.exit(main())
