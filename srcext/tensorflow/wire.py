"""A small protobuf wire-format reader: enough to walk TensorFlow's GraphDef, SavedModel and checkpoint
index messages without TensorFlow or generated ``*_pb2`` modules.

A message is read as a list of ``(field number, wire type, value)``; the schema lives with the callers
(``graphdef.py``, ``savedmodel.py``, ``checkpoint.py``), which pick the fields they know by number.
"""
from __future__ import annotations

import struct
from collections import defaultdict
from typing import Any, Iterator

from .errors import TensorflowConversionError

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise TensorflowConversionError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise TensorflowConversionError("protobuf varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field, wire type, value)``: ints for varint/fixed fields, bytes for length-delimited ones."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = read_varint(data, pos)
            yield field, wire, value
        elif wire == BYTES:
            size, pos = read_varint(data, pos)
            if pos + size > end:
                raise TensorflowConversionError(f"protobuf field {field} runs past the end of its message")
            yield field, wire, data[pos:pos + size]
            pos += size
        elif wire == FIXED32:
            yield field, wire, int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        elif wire == FIXED64:
            yield field, wire, int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        else:
            raise TensorflowConversionError(f"protobuf wire type {wire} (field {field}) is not supported")
    if pos != end:
        raise TensorflowConversionError("truncated protobuf message")


class Message:
    """The fields of one message grouped by number, with typed accessors for the callers' schemas."""

    def __init__(self, data: bytes) -> None:
        self.fields: dict[int, list[tuple[int, Any]]] = defaultdict(list)
        for field, wire, value in iter_fields(bytes(data)):
            self.fields[field].append((wire, value))

    def has(self, field: int) -> bool:
        return field in self.fields

    def bytes_(self, field: int, default: bytes = b"") -> bytes:
        values = self.fields.get(field)
        return bytes(values[-1][1]) if values else default

    def string(self, field: int, default: str = "") -> str:
        return self.bytes_(field, default.encode()).decode("utf-8", errors="replace")

    def integer(self, field: int, default: int = 0, signed: bool = True) -> int:
        values = self.fields.get(field)
        if not values:
            return default
        value = int(values[-1][1])
        return value - (1 << 64) if signed and value >= 1 << 63 else value

    def float32(self, field: int, default: float = 0.0) -> float:
        values = self.fields.get(field)
        if not values:
            return default
        return struct.unpack("<f", int(values[-1][1]).to_bytes(4, "little"))[0]

    def messages(self, field: int) -> list["Message"]:
        return [Message(value) for _, value in self.fields.get(field, [])]

    def message(self, field: int) -> "Message":
        values = self.fields.get(field)
        return Message(values[-1][1] if values else b"")

    def strings(self, field: int) -> list[bytes]:
        return [bytes(value) for _, value in self.fields.get(field, [])]

    def ints(self, field: int, signed: bool = True) -> list[int]:
        """A repeated varint field, packed or not."""
        out: list[int] = []
        for wire, value in self.fields.get(field, []):
            if wire == BYTES:
                pos, data = 0, value
                while pos < len(data):
                    item, pos = read_varint(data, pos)
                    out.append(item)
            else:
                out.append(int(value))
        return [item - (1 << 64) if signed and item >= 1 << 63 else item for item in out]

    def packed(self, field: int, fmt: str) -> list[float | int]:
        """A repeated fixed-width field (``fmt`` is a struct code: ``f``, ``d``, ``I``), packed or not."""
        size = struct.calcsize("<" + fmt)
        out: list[float | int] = []
        for wire, value in self.fields.get(field, []):
            if wire == BYTES:
                out.extend(item[0] for item in struct.iter_unpack("<" + fmt, value))
            else:
                out.append(struct.unpack("<" + fmt, int(value).to_bytes(size, "little"))[0])
        return out
