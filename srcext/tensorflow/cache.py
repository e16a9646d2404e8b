"""``convert_cached``: keep ``<graph>.onnx`` beside the frozen graph and rebuild it only when needed.

The sidecar ``<graph>.onnx.json`` records the graph's sha256, the conversion arguments and the converter
version; any difference (another graph, other inputs or constants, a new converter, a damaged ONNX file)
triggers a rebuild (see ``srcext.cache``)."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from srcext.cache import convert_if_needed, sha256_file

from .convert import CONVERTER_VERSION, convert
from .errors import TensorflowConversionError

log = logging.getLogger(__name__)


def onnx_path_for(graph_path: str | Path, out_dir: str | Path | None = None) -> Path:
    """``/m/model.pb`` -> ``/m/model.onnx`` (or ``<out_dir>/model.onnx``)."""
    graph_path = Path(graph_path)
    return Path(out_dir or graph_path.parent) / f"{graph_path.stem}.onnx"


def _jsonable(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def convert_cached(graph_path: str | Path, inputs: Mapping[str, Sequence[int]], outputs: Sequence[str],
                   constants: Mapping[str, Any] | None = None, out_dir: str | Path | None = None) -> Path:
    """The path of an up-to-date ONNX conversion of a frozen graph, converting first when needed.

    :raises TensorflowConversionError: an unreadable graph, an unsupported node, or an unwritable folder.
    """
    graph_path = Path(graph_path)
    target = onnx_path_for(graph_path, out_dir)
    record = {"converter": "srcext.tensorflow", "converter_version": CONVERTER_VERSION,
              "graph": graph_path.name, "graph_sha256": sha256_file(graph_path),
              "inputs": {name: list(dims) for name, dims in sorted(inputs.items())}, "outputs": list(outputs),
              "constants": {name: _jsonable(value) for name, value in sorted((constants or {}).items())}}
    started = time.perf_counter()
    try:
        converted = convert_if_needed(target, record, lambda: convert(graph_path, inputs, outputs, constants)
                                      .SerializeToString())
    except OSError as error:
        raise TensorflowConversionError(f"cannot write {target} ({error}); pass out_dir= a writable folder") \
            from error
    if converted:
        log.info("converted %s to %s in %.2f s", graph_path.name, target, time.perf_counter() - started)
    return target
