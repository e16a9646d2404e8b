"""What the ``python -m srcext.<format>2onnx`` commands share: convert, write, and report in one line."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import onnx


def write_model(out: Path, build: Callable[[], onnx.ModelProto], errors: tuple[type[Exception], ...]) -> int:
    """Build the model and write it to ``out``; 0 on success, 1 (with the reason logged) on ``errors``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    try:
        model = build()
    except (*errors, OSError) as error:  # type: ignore[misc]  # mypy reads a starred tuple as one type
        logging.error("conversion failed: %s", error)
        return 1
    out.write_bytes(model.SerializeToString())
    logging.info("wrote %s (%d nodes, inputs: %s, outputs: %s) in %.2f s", out, len(model.graph.node),
                 ", ".join(item.name for item in model.graph.input if item.name not in
                           {init.name for init in model.graph.initializer}),
                 ", ".join(item.name for item in model.graph.output), time.perf_counter() - started)
    return 0
