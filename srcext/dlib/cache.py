"""Convert once, reuse after: ``<name>.onnx`` beside a sidecar naming the source hash and converter version."""
from __future__ import annotations

import logging
from pathlib import Path

from srcext.cache import SIDECAR_SUFFIX, intact_record, sha256_file, write_converted
from srcext.dlib.convert import CONVERTER_VERSION, convert_file

log = logging.getLogger(__name__)
__all__ = ["SIDECAR_SUFFIX", "convert_cached"]


def convert_cached(dat_path: Path | str, out_dir: Path | str) -> Path:
    """Return ``out_dir/<name>.onnx`` converted from ``dat_path``, converting only when needed.

    The sidecar ``<name>.onnx.json`` records the source's sha256 and the converter version; a
    matching sidecar and an intact ONNX file (its own sha256 checked) are reused as they are. The
    output bytes are deterministic, so concurrent converters write identical files.
    """
    source, folder = Path(dat_path), Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / f"{source.stem}.onnx"
    expected = {"source_sha256": sha256_file(source), "converter_version": CONVERTER_VERSION}
    recorded = intact_record(onnx_path)
    if recorded is not None and all(recorded.get(key) == value for key, value in expected.items()):
        log.debug("reusing %s", onnx_path)
        return onnx_path
    log.info("converting %s to %s", source, onnx_path)
    write_converted(onnx_path, convert_file(source).SerializeToString(), {**expected, "source": source.name}, 2)
    return onnx_path
