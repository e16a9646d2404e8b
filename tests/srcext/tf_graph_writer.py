"""Writes small TensorFlow ``GraphDef`` files in the protobuf wire format (field numbers of TensorFlow's public
``.proto`` files), so reader and converter tests run without TensorFlow."""
from __future__ import annotations

from typing import Any

import numpy as np

DTYPE_CODES = {np.dtype(np.float32): 1, np.dtype(np.int32): 3, np.dtype(np.int64): 9, np.dtype(np.bool_): 10}


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def shape(dims: tuple[int, ...]) -> bytes:
    return b"".join(field(2, field(1, dim)) for dim in dims)


def tensor(value: np.ndarray, as_content: bool = True) -> bytes:
    value = np.asarray(value)
    out = field(1, DTYPE_CODES[value.dtype]) + field(2, shape(value.shape))
    if as_content:
        return out + field(4, value.astype(value.dtype.newbyteorder("<")).tobytes())
    if value.dtype == np.float32:
        return out + field(5, value.astype("<f4").tobytes())
    return out + field(7, b"".join(varint(int(item)) for item in value.ravel()))


def attr(value: Any) -> bytes:
    if isinstance(value, bool):
        return field(5, int(value))
    if isinstance(value, int):
        return field(3, value)
    if isinstance(value, float):
        return varint(4 << 3 | 5) + np.float32(value).tobytes()
    if isinstance(value, (str, bytes)):
        return field(2, value.encode() if isinstance(value, str) else value)
    if isinstance(value, np.ndarray):
        return field(8, tensor(value))
    if isinstance(value, list):
        return field(1, field(3, b"".join(varint(int(item)) for item in value)))
    if isinstance(value, np.dtype):
        return field(6, DTYPE_CODES[value])
    raise TypeError(type(value))


def node(name: str, op: str, inputs: list[str] = (), **attrs: Any) -> bytes:  # type: ignore[assignment]
    out = field(1, name.encode()) + field(2, op.encode())
    out += b"".join(field(3, item.encode()) for item in inputs)
    for key, value in attrs.items():
        out += field(5, field(1, key.encode()) + field(2, attr(value)))
    return out


def graph(*nodes: bytes) -> bytes:
    return b"".join(field(1, item) for item in nodes)


def const(name: str, value: Any, dtype: Any = np.float32) -> bytes:
    array = np.asarray(value, dtype)
    return node(name, "Const", value=array, dtype=array.dtype)
