"""``convert_cached`` for Keras files: ``<model>.onnx`` beside the HDF5 file (or SavedModel directory), with a
sidecar recording the source's sha256 and the converter version (see ``srcext.cache``)."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from srcext.cache import convert_if_needed, sha256_file
from srcext.tensorflow.errors import TensorflowConversionError

from .convert import CONVERTER_VERSION, convert

log = logging.getLogger(__name__)


def source_sha256(path: Path) -> str:
    """A file's sha256; for a directory, the sha256 of its files' relative paths and hashes."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{item.relative_to(path).as_posix()}\0{sha256_file(item)}\n".encode())
    return digest.hexdigest()


def convert_cached(source: str | Path, out_dir: str | Path | None = None) -> Path:
    """The path of an up-to-date ONNX conversion of a Keras model, converting first when needed."""
    source = Path(source)
    name = source.name if source.is_dir() else source.stem
    target = Path(out_dir or source.parent) / f"{name}.onnx"
    record = {"converter": "srcext.keras", "converter_version": CONVERTER_VERSION, "source": source.name,
              "source_sha256": source_sha256(source)}
    try:
        if convert_if_needed(target, record, lambda: convert(source).SerializeToString()):
            log.info("converted %s to %s", source.name, target)
    except OSError as error:
        raise TensorflowConversionError(f"cannot write {target} ({error}); pass out_dir= a writable folder") \
            from error
    return target
