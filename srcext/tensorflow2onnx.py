"""Command line: ``python -m srcext.tensorflow2onnx GRAPH.pb OUT.onnx --input NODE:D0,D1,... --output NODE
[--constant NODE=VALUE]``. Node names go without ``:0``; -1 in a shape makes that dim dynamic; VALUE is
``True``/``False``, a number or a JSON list (e.g. ``--constant phase_train=False``)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from srcext.cli import write_model
from srcext.tensorflow import TensorflowConversionError, convert


def parse_input(text: str) -> tuple[str, list[int]]:
    name, colon, dims = text.rpartition(":")
    try:
        if not colon or not name:
            raise ValueError
        return name, [int(dim) for dim in dims.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not NODE:D0,D1,...: {text!r}") from error


def parse_constant(text: str) -> tuple[str, Any]:
    name, equals, raw = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"not NODE=VALUE: {text!r}")
    if raw in ("True", "False", "true", "false"):
        return name, np.array(raw.lower() == "true")
    try:
        return name, np.array(json.loads(raw))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"value of {name} is not a bool, number or JSON list: {raw!r}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srcext.tensorflow2onnx", description=__doc__)
    parser.add_argument("graph", type=Path, help="frozen TensorFlow GraphDef (.pb)")
    parser.add_argument("out", type=Path, help="ONNX file to write")
    parser.add_argument("--input", type=parse_input, action="append", required=True, help="NODE:D0,D1,...")
    parser.add_argument("--output", action="append", required=True, help="output node (repeatable)")
    parser.add_argument("--constant", type=parse_constant, action="append", default=[], help="NODE=VALUE")
    args = parser.parse_args(argv)
    return write_model(args.out, lambda: convert(args.graph, dict(args.input), args.output, dict(args.constant)),
                       (TensorflowConversionError,))


if __name__ == "__main__":
    sys.exit(main())
