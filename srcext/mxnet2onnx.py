"""Command line: ``python -m srcext.mxnet2onnx SYMBOL PARAMS OUT.onnx [--input-shape 1,3,112,112] [--output NAME]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from srcext.cli import write_model
from srcext.mxnet import MxnetConversionError, convert


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a comma-separated shape: {text!r}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srcext.mxnet2onnx", description=__doc__)
    parser.add_argument("symbol", type=Path, help="MXNet <prefix>-symbol.json")
    parser.add_argument("params", type=Path, help="MXNet <prefix>-<epoch>.params")
    parser.add_argument("out", type=Path, help="ONNX file to write")
    parser.add_argument("--input-shape", type=_shape, default=(1, 3, 112, 112), help="data shape, e.g. 1,3,112,112")
    parser.add_argument("--output", action="append", help="node to export (repeatable); default: symbol heads")
    parser.add_argument("--static-batch", action="store_true", help="keep the batch size fixed in the graph")
    args = parser.parse_args(argv)
    return write_model(args.out, lambda: convert(args.symbol, args.params, args.input_shape, args.output,
                                                 not args.static_batch), (MxnetConversionError,))


if __name__ == "__main__":
    sys.exit(main())
