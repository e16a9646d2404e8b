"""The on-disk cache both converters share: an ONNX file beside a JSON sidecar that says what it was made from.

Files are written to a temporary name in the same folder and renamed, so a reader never sees half a file;
the converters are deterministic, so two processes racing write identical bytes. The sidecar records the
ONNX file's own sha256 (``onnx_sha256``), so a damaged or replaced ONNX file is never reused.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

SIDECAR_SUFFIX = ".json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_path(onnx_path: Path) -> Path:
    """``<name>.onnx`` -> ``<name>.onnx.json``."""
    return onnx_path.with_name(onnx_path.name + SIDECAR_SUFFIX)


def write_atomic(path: Path, data: bytes) -> None:
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


def intact_record(onnx_path: Path) -> dict[str, Any] | None:
    """The sidecar's record when it is readable and ``onnx_path`` still has the sha256 it records, else None."""
    if not onnx_path.is_file():
        return None
    try:
        recorded = json.loads(sidecar_path(onnx_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("onnx_sha256") != sha256_file(onnx_path):
        return None
    return recorded


def write_converted(onnx_path: Path, data: bytes, record: dict[str, Any], indent: int) -> None:
    """Write the ONNX bytes, then the sidecar: ``record`` plus ``onnx_sha256``, sorted keys, ``indent`` spaces."""
    write_atomic(onnx_path, data)
    full = {**record, "onnx_sha256": hashlib.sha256(data).hexdigest()}
    write_atomic(sidecar_path(onnx_path), (json.dumps(full, indent=indent, sort_keys=True) + "\n").encode("utf-8"))


def convert_if_needed(target: Path, record: dict[str, Any], build: Callable[[], bytes], indent: int = 1) -> bool:
    """Write ``build()`` to ``target`` with ``record`` in its sidecar unless an intact conversion with the same
    record is already there; returns whether it converted. OSError from writing reaches the caller."""
    recorded = intact_record(target)
    if recorded is not None and recorded == {**record, "onnx_sha256": recorded["onnx_sha256"]}:
        return False
    data = build()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_converted(target, data, record, indent)
    return True
