"""From a :class:`ModelSpec` to an ONNX Runtime session: pack members, CompreFace's MXNet zips through
the MXNet->ONNX converter (``srcext.mxnet``), and one shared session per file and device."""
from __future__ import annotations

import logging
import re
import threading
import zipfile
from pathlib import Path
from typing import Any, Sequence

from facecore.model_store import ModelNotAvailable
from facecore.onnx_session import open_session
from facecore.plugin_api import LoadContext, ModelSpec

log = logging.getLogger(__name__)

_sessions: dict[tuple[str, str, str], Any] = {}
_sessions_lock = threading.Lock()


def unpack_mxnet_archive(archive: Path) -> tuple[Path, Path]:
    """Flatten an MXNet zip next to itself; return (symbol, params of the highest epoch)."""
    folder = archive.parent
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.namelist():
            name = Path(member).name
            if name.endswith(("-symbol.json", ".params")) and not (folder / name).exists():
                tmp = folder / f".{name}.unpacking"
                tmp.write_bytes(bundle.read(member))
                tmp.replace(folder / name)
    symbols = sorted(folder.glob("*-symbol.json"))
    if not symbols:
        raise ModelNotAvailable(archive.parent.name, archive.name, f"no *-symbol.json in {archive}")
    prefix = symbols[0].name[:-len("-symbol.json")]
    params = sorted(folder.glob(f"{prefix}-*.params"), key=lambda p: int(re.sub(r"\D", "", p.stem[len(prefix):]) or 0))
    if not params:
        raise ModelNotAvailable(archive.parent.name, archive.name, f"no {prefix}-NNNN.params in {archive}")
    return symbols[0], params[-1]


def convert_mxnet(spec: ModelSpec, symbol: Path, params: Path, input_shape: Sequence[int]) -> Path:
    """The ONNX file converted from an MXNet model, written beside it and reused while the sources match."""
    try:
        from srcext.mxnet import MxnetConversionError, convert_cached
    except ImportError as error:
        raise ModelNotAvailable(spec.name, symbol.name,
                                f"this is an MXNet model and needs the MXNet->ONNX converter srcext.mxnet, "
                                f"which cannot be imported ({error}); use an ONNX model of the packs instead "
                                f"(e.g. det_10g, w600k_r50, genderage)") from error
    output = spec.options.get("output")  # a node before the training head, as CompreFace's code cuts it
    out_dir = symbol.parent / spec.options.get("convert_into", "")  # apart from a pack member of the same name
    try:
        return Path(convert_cached(symbol, params, tuple(input_shape), outputs=output, out_dir=out_dir))
    except MxnetConversionError as error:
        raise ModelNotAvailable(spec.name, symbol.name, f"MXNet->ONNX conversion failed: {error}") from error


def onnx_file(ctx: LoadContext, input_shape: Sequence[int]) -> Path:
    """The ONNX file of the plugin's model in its store, converting MXNet models on first use."""
    spec = ctx.models.form()
    files = ctx.models.files()
    form = spec.options.get("format", "onnx")
    if form == "onnx":
        return files[spec.options.get("onnx", spec.files[0].filename)]
    if form == "mxnet_zip":
        symbol, params = unpack_mxnet_archive(files[spec.options["archive"]])
    elif form == "mxnet":
        symbol, params = files[spec.options["symbol"]], files[spec.options["params"]]
    else:
        raise ValueError(f"model {spec.name}: unknown format {form!r}")
    return convert_mxnet(spec, symbol, params, input_shape)


def shared_session(path: Path, ctx: LoadContext) -> Any:
    """One session per (file, device) for the process: age and gender plugins share the genderage model."""
    key = (str(Path(path).resolve()), str(ctx.device), str(ctx.device.runtime))
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = open_session(path, ctx.device)
        return _sessions[key]
