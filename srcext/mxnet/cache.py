"""``convert_cached``: keep ``<prefix>.onnx`` beside the MXNet files and rebuild it only when needed.

A sidecar ``<prefix>.onnx.json`` records the sha256 of both sources, the conversion arguments, the
converter version and the sha256 of the ONNX file itself. Any difference (edited sources, a new converter,
another input shape, a damaged ONNX file) triggers a rebuild. Files are written to a temporary name in
the same folder and renamed, so a reader never sees half a file; conversion is deterministic, so two
processes racing write identical bytes.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Sequence

from srcext.cache import intact_record, sha256_file, write_converted

from .convert import CONVERTER_VERSION, ShapeArg, convert
from .errors import MxnetConversionError

log = logging.getLogger(__name__)

SYMBOL_SUFFIXES = ("-symbol.json", ".json")


def onnx_path_for(symbol_path: str | Path, out_dir: str | Path | None = None) -> Path:
    """``/m/model-symbol.json`` -> ``/m/model.onnx`` (or ``<out_dir>/model.onnx``)."""
    symbol_path = Path(symbol_path)
    prefix = symbol_path.name
    for suffix in SYMBOL_SUFFIXES:
        if prefix.endswith(suffix):
            prefix = prefix[: -len(suffix)]
            break
    return Path(out_dir or symbol_path.parent) / f"{prefix}.onnx"


def convert_cached(symbol_path: str | Path, params_path: str | Path, input_shape: ShapeArg,
                   outputs: Sequence[str] | str | None = None, out_dir: str | Path | None = None,
                   dynamic_batch: bool = True) -> Path:
    """The path of an up-to-date ONNX conversion, converting first when needed.

    :param out_dir: folder for the ONNX file and its sidecar; default: beside the symbol file. Pass a cache
        folder when the sources are read-only.
    :raises MxnetConversionError: unreadable sources, an unsupported node, or an unwritable folder.
    """
    symbol_path, params_path = Path(symbol_path), Path(params_path)
    target = onnx_path_for(symbol_path, out_dir)
    shape = ({name: list(dims) for name, dims in sorted(input_shape.items())}
             if isinstance(input_shape, dict) else list(input_shape))
    record: dict[str, Any] = {
        "converter": "srcext.mxnet", "converter_version": CONVERTER_VERSION,
        "symbol": symbol_path.name, "symbol_sha256": sha256_file(symbol_path),
        "params": params_path.name, "params_sha256": sha256_file(params_path),
        "input_shape": shape, "outputs": [outputs] if isinstance(outputs, str) else list(outputs or []),
        "dynamic_batch": dynamic_batch,
    }
    recorded = intact_record(target)
    if recorded is not None and recorded == {**record, "onnx_sha256": recorded["onnx_sha256"]}:
        return target
    started = time.perf_counter()
    data = convert(symbol_path, params_path, input_shape, outputs, dynamic_batch).SerializeToString()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_converted(target, data, record, 1)
    except OSError as error:
        raise MxnetConversionError(f"cannot write {target} ({error}); pass out_dir= a writable cache folder") \
            from error
    log.info("converted %s to %s in %.2f s", symbol_path.name, target, time.perf_counter() - started)
    return target
