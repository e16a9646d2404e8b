"""Convert a dlib DNN model file (.dat) to ONNX.

    python -m srcext.dlib2onnx MODEL.dat [--out-dir DIR] [--summary]

Writes ``DIR/<name>.onnx`` (+ ``.onnx.json`` sidecar) through the conversion cache, or with
``--summary`` only lists the layers the file holds.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from srcext.dlib import convert_cached, read_net
from srcext.dlib.topology import kind_of


def summarize(dat_path: Path) -> str:
    """One line per layer kind, plus the loss and input layers."""
    net = read_net(dat_path)
    counts = Counter(kind_of(item) for item in net.items)
    lines = [f"loss: {type(net.loss).__name__}", f"input: {net.input.kind} mean_rgb={net.input.mean_rgb}"]
    lines += [f"{kind}: {count}" for kind, count in sorted(counts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="dlib .dat file (face recognition ResNet or MMOD detector)")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="folder for <name>.onnx (default: .)")
    parser.add_argument("--summary", action="store_true", help="only list the layers in the file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.summary:
        sys.stdout.write(summarize(args.model) + "\n")
        return 0
    sys.stdout.write(f"{convert_cached(args.model, args.out_dir)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
