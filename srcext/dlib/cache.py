"""Convert once, reuse after: ``<name>.onnx`` beside a sidecar naming the source hash and converter version."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from srcext.dlib.convert import CONVERTER_VERSION, convert_file

log = logging.getLogger(__name__)
SIDECAR_SUFFIX = ".json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp creates 0600; the cache is shared read-only data
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _reusable(onnx_path: Path, sidecar: Path, expected: dict[str, str]) -> bool:
    if not (onnx_path.is_file() and sidecar.is_file()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return False
    if any(recorded.get(key) != value for key, value in expected.items()):
        return False
    return recorded.get("onnx_sha256") == _sha256(onnx_path)


def convert_cached(dat_path: Path | str, out_dir: Path | str) -> Path:
    """Return ``out_dir/<name>.onnx`` converted from ``dat_path``, converting only when needed.

    The sidecar ``<name>.onnx.json`` records the source's sha256 and the converter version; a
    matching sidecar and an intact ONNX file (its own sha256 checked) are reused as they are. The
    output bytes are deterministic, so concurrent converters write identical files.
    """
    source, folder = Path(dat_path), Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / f"{source.stem}.onnx"
    sidecar = onnx_path.with_name(onnx_path.name + SIDECAR_SUFFIX)
    expected = {"source_sha256": _sha256(source), "converter_version": CONVERTER_VERSION}
    if _reusable(onnx_path, sidecar, expected):
        log.debug("reusing %s", onnx_path)
        return onnx_path
    log.info("converting %s to %s", source, onnx_path)
    data = convert_file(source).SerializeToString()
    _write_atomic(onnx_path, data)
    record = {**expected, "source": source.name, "onnx_sha256": hashlib.sha256(data).hexdigest()}
    _write_atomic(sidecar, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return onnx_path
