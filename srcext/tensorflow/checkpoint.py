"""TensorFlow checkpoints (TensorBundle: ``<prefix>.index`` + ``<prefix>.data-NNNNN-of-NNNNN``) -> numpy arrays,
for checkpoints whose graph our code builds itself (rude_carnie's Inception-v3) and for SavedModel variables.

The index is a LevelDB-format table (sorted keys, prefix-compressed, blocks of entries with restart points,
a 48-byte footer ending in a magic number): each key is a tensor name, each value a ``BundleEntryProto``
saying its dtype, shape, shard and byte range; the empty key holds the ``BundleHeaderProto``. TensorFlow writes
the index blocks uncompressed; a compressed block stops with a clear error.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .errors import TensorflowConversionError
from .graphdef import numpy_dtype, read_shape
from .wire import Message, read_varint

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER = 5  # compression type (1 byte) + crc (4 bytes)


def _block_handle(data: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = read_varint(data, pos)
    size, pos = read_varint(data, pos)
    return offset, size, pos


def _block_entries(table: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    if table[offset + size] != 0:
        raise TensorflowConversionError("checkpoint index block is compressed (only uncompressed tables are read)")
    block = table[offset:offset + size]
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        length, pos = read_varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        entries.append((key, block[pos:pos + length]))
        pos += length
    return entries


def read_index(path: str | Path) -> dict[str, Message]:
    """Tensor name -> its ``BundleEntryProto`` (the header under ``""``)."""
    table = Path(path).read_bytes()
    if len(table) < FOOTER_SIZE or struct.unpack_from("<Q", table, len(table) - 8)[0] != TABLE_MAGIC:
        raise TensorflowConversionError(f"{path} is not a TensorFlow checkpoint index (no table magic)")
    footer = table[-FOOTER_SIZE:]
    _, _, pos = _block_handle(footer, 0)  # the metaindex block: unused
    index_offset, index_size, _ = _block_handle(footer, pos)
    entries: dict[str, Message] = {}
    for _, handle in _block_entries(table, index_offset, index_size):
        offset, size, _ = _block_handle(handle, 0)
        for key, value in _block_entries(table, offset, size):
            entries[key.decode("utf-8")] = Message(value)
    return entries


def _data_path(prefix: Path, shard: int, shards: int) -> Path:
    return prefix.with_name(f"{prefix.name}.data-{shard:05d}-of-{shards:05d}")


def checkpoint_prefix(path: str | Path) -> Path:
    """``model.ckpt-22801.index`` or ``model.ckpt-22801`` -> ``model.ckpt-22801``."""
    path = Path(path)
    return path.with_name(path.name[:-len(".index")]) if path.name.endswith(".index") else path


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Every numeric tensor of a checkpoint by name (``InceptionV3/Conv2d_1a_3x3/weights``), as numpy arrays."""
    prefix = checkpoint_prefix(path)
    index = prefix.with_name(prefix.name + ".index")
    entries = read_index(index)
    header = entries.pop("", None)
    shards = header.integer(1, 1) if header is not None else 1
    if header is not None and header.integer(2) == 1:
        raise TensorflowConversionError(f"{index}: big-endian checkpoints are not supported")
    data: dict[int, bytes] = {}
    tensors = {}
    for name, entry in entries.items():
        if entry.has(7):
            raise TensorflowConversionError(f"{index}: tensor {name!r} is stored in slices (not supported)")
        dtype = np.dtype(numpy_dtype(entry.integer(1)))
        if dtype == np.object_:
            continue  # strings (the object graph of a TF2 checkpoint) are bookkeeping, not weights
        shape = read_shape(entry.message(2)) or ()
        shard, offset, size = entry.integer(3), entry.integer(4), entry.integer(5)
        if shard not in data:
            shard_path = _data_path(prefix, shard, shards)
            try:
                data[shard] = shard_path.read_bytes()
            except OSError as error:
                raise TensorflowConversionError(f"checkpoint data file missing: {shard_path}") from error
        raw = data[shard][offset:offset + size]
        if len(raw) != size:
            raise TensorflowConversionError(f"{index}: tensor {name!r} cannot be read ({dtype}, {size} bytes)")
        tensors[name] = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    return tensors
