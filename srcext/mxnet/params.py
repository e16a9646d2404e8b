"""Reader and writer for MXNet's ``.params`` files (the NDArray-list format written by ``mx.nd.save``).

Layout, all little-endian:
``uint64 0x112`` (list magic), ``uint64 0`` (reserved), ``uint64 n`` then n arrays, ``uint64 m`` then m names
(each ``uint64 length`` + UTF-8 bytes; names are ``arg:<var>`` or ``aux:<var>`` in checkpoints).
One array: ``uint32 magic`` (0xF993FAC9 = v2 with storage type, 0xF993FACA = v3, 0xF993FAC8 = v1;
anything else is a legacy array whose first word is already ``ndim``), for v2/v3 an ``int32`` storage type
(0 = dense; sparse is refused), the shape (``uint32 ndim`` + dims as int64, or uint32 for legacy), and when
the array is not empty ``int32 dev_type, int32 dev_id, int32 dtype_flag`` and the raw data in C order.
"""
from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import BinaryIO, Mapping

import numpy as np

from .errors import MxnetConversionError

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA

# mshadow type flags -> numpy dtypes (bfloat16 = 12 has no numpy dtype and is refused).
DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"), 1: np.dtype("<f8"), 2: np.dtype("<f2"), 3: np.dtype("u1"),
    4: np.dtype("<i4"), 5: np.dtype("i1"), 6: np.dtype("<i8"), 7: np.dtype("bool"),
}
FLAGS: dict[np.dtype, int] = {dtype: flag for flag, dtype in DTYPES.items()}


class _Reader:
    """Little-endian primitive reads that fail with the byte offset instead of a bare struct.error."""

    def __init__(self, stream: BinaryIO, source: str) -> None:
        self.stream = stream
        self.source = source

    def take(self, size: int) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise MxnetConversionError(f"{self.source}: truncated params file (wanted {size} bytes)")
        return data

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def i32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]


def _read_array(reader: _Reader) -> np.ndarray:
    first = reader.u32()
    if first in (V2_MAGIC, V3_MAGIC):
        storage = reader.i32()
        if storage != 0:
            raise MxnetConversionError(f"{reader.source}: sparse arrays (storage type {storage}) are not supported")
    if first in (V1_MAGIC, V2_MAGIC, V3_MAGIC):
        ndim = reader.u32()
        if first == V3_MAGIC and ndim == 0xFFFFFFFF:  # numpy-shape mode: unknown shape, no data
            return np.zeros((0,), np.float32)
        shape = struct.unpack(f"<{ndim}q", reader.take(8 * ndim)) if ndim else ()
    else:  # legacy: the word just read is ndim, dims are uint32
        ndim = first
        shape = struct.unpack(f"<{ndim}I", reader.take(4 * ndim)) if ndim else ()
    if ndim == 0:
        return np.zeros((0,), np.float32)
    reader.i32(), reader.i32()  # context (dev_type, dev_id): irrelevant here
    flag = reader.i32()
    if flag not in DTYPES:
        raise MxnetConversionError(f"{reader.source}: unsupported dtype flag {flag}")
    dtype = DTYPES[flag]
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(reader.take(count * dtype.itemsize), dtype=dtype).reshape(shape).copy()


def read_params(source: str | Path | bytes) -> dict[str, np.ndarray]:
    """Read a ``.params`` file (path or bytes) into ``{name: array}`` keeping the stored names and dtypes.

    Names keep their ``arg:``/``aux:`` prefixes; ``split_params`` strips them.
    """
    stream: BinaryIO
    if isinstance(source, bytes):
        stream, label = io.BytesIO(source), "<bytes>"
    else:
        stream, label = open(source, "rb"), str(source)  # noqa: SIM115 (closed below)
    with stream:
        reader = _Reader(stream, label)
        if reader.u64() != LIST_MAGIC:
            raise MxnetConversionError(f"{label}: not an MXNet NDArray list (magic 0x112 missing)")
        reader.u64()  # reserved
        arrays = [_read_array(reader) for _ in range(reader.u64())]
        names = [reader.take(reader.u64()).decode("utf-8") for _ in range(reader.u64())]
    if names and len(names) != len(arrays):
        raise MxnetConversionError(f"{label}: {len(arrays)} arrays but {len(names)} names")
    if not names:
        names = [str(index) for index in range(len(arrays))]
    return dict(zip(names, arrays))


def split_params(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drop the ``arg:``/``aux:`` prefixes: symbol variables are matched by bare name."""
    return {name.split(":", 1)[1] if name[:4] in ("arg:", "aux:") else name: value for name, value in params.items()}


def write_params(path: str | Path, params: Mapping[str, np.ndarray]) -> None:
    """Write ``{name: array}`` in the v2 dense format ``mx.nd.load`` reads (used by tests and tools)."""
    out = io.BytesIO()
    out.write(struct.pack("<QQQ", LIST_MAGIC, 0, len(params)))
    for value in params.values():
        array = np.ascontiguousarray(value)
        dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        if dtype not in FLAGS:
            raise MxnetConversionError(f"cannot write dtype {array.dtype}")
        out.write(struct.pack("<IiI", V2_MAGIC, 0, array.ndim))
        out.write(struct.pack(f"<{array.ndim}q", *array.shape))
        if array.ndim:
            out.write(struct.pack("<iii", 1, 0, FLAGS[dtype]))
            out.write(array.astype(dtype, copy=False).tobytes())
    out.write(struct.pack("<Q", len(params)))
    for name in params:
        encoded = name.encode("utf-8")
        out.write(struct.pack("<Q", len(encoded)) + encoded)
    Path(path).write_bytes(out.getvalue())
