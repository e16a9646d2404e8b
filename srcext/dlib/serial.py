"""dlib's portable serialization primitives (``dlib/serialize.h``), read and written in Python.

Format facts (from dlib's serialize.h, float_details.h and dnn/tensor.h):

- integer: one control byte (bit 7 = negative, low 4 bits = byte count n), then |value| in n
  little-endian bytes (at least one byte: zero is ``01 00``);
- bool: the ASCII byte ``'1'`` or ``'0'``;
- float/double: a ``float_details`` pair, the signed integer mantissa then the signed integer
  exponent, value = mantissa * 2**exponent; exponents 32000/32001/32002 mean +inf/-inf/NaN;
- string: its length as an integer, then the raw bytes;
- tensor: version (1 = every element a float_details, 2 = raw little-endian float32), then
  num_samples, k, nr, nc, then the elements in (n, k, nr, nc) row-major order;
- alias_tensor: version 1 then num_samples, k, nr, nc (a shape only; no data).

The writer exists so tests can build small synthetic networks; it emits what dlib emits.
"""
from __future__ import annotations

import builtins
import math
from dataclasses import dataclass

import numpy as np

INF_EXPONENT, NINF_EXPONENT, NAN_EXPONENT = 32000, 32001, 32002


class DlibFormatError(ValueError):
    """The bytes do not follow dlib's serialization format (or use a version we do not know)."""


@dataclass(frozen=True)
class Shape4:
    """A dlib tensor shape: num_samples, k (channels), nr (rows), nc (columns)."""

    n: int
    k: int
    nr: int
    nc: int

    @property
    def size(self) -> int:
        return self.n * self.k * self.nr * self.nc


class Reader:
    """A cursor over a dlib-serialized byte string; every ``read_*`` advances it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def _take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise DlibFormatError(f"unexpected end of data at byte {self.pos} (wanted {count} more)")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def read_int(self) -> int:
        control = self._take(1)[0]
        count = control & 0x0F
        if count > 8 or control & 0x70:
            raise DlibFormatError(f"bad integer control byte 0x{control:02x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(count), "little") if count else 0
        return -value if control & 0x80 else value

    def peek_int(self) -> int:
        start = self.pos
        try:
            return self.read_int()
        finally:
            self.pos = start

    def read_bool(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {char!r} at byte {self.pos - 1}")
        return char == b"1"

    def read_float(self) -> float:
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent == INF_EXPONENT:
            return math.inf
        if exponent == NINF_EXPONENT:
            return -math.inf
        if exponent == NAN_EXPONENT:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def read_string(self) -> str:
        length = self.read_int()
        if length < 0 or length > len(self.data) - self.pos:
            raise DlibFormatError(f"bad string length {length} at byte {self.pos}")
        return self._take(length).decode("latin-1")

    def peek_string(self, max_length: int = 64) -> str | None:
        """The string starting here if the bytes look like a short printable one, else None."""
        start = self.pos
        try:
            length = self.read_int()
            if not 0 < length <= max_length or self.pos + length > len(self.data):
                return None
            text = self.data[self.pos:self.pos + length]
            return text.decode("ascii") if all(32 < b < 127 for b in text) else None
        except DlibFormatError:
            return None
        finally:
            self.pos = start

    def read_shape(self) -> Shape4:
        return Shape4(self.read_int(), self.read_int(), self.read_int(), self.read_int())

    def read_tensor(self) -> np.ndarray:
        version = self.read_int()
        shape = self.read_shape()
        if version == 2:
            raw = self._take(4 * shape.size)
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif version == 1:
            values = np.array([self.read_float() for _ in range(shape.size)], dtype=np.float32)
        else:
            raise DlibFormatError(f"unknown tensor version {version}")
        return values.reshape(shape.n, shape.k, shape.nr, shape.nc)

    def read_alias_tensor(self) -> Shape4:
        version = self.read_int()
        if version != 1:
            raise DlibFormatError(f"unknown alias_tensor version {version}")
        return self.read_shape()


class Writer:
    """Builds dlib-serialized bytes (the inverse of :class:`Reader`)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def getvalue(self) -> bytes:
        return b"".join(self.parts)

    def int(self, value: int) -> Writer:
        magnitude = abs(int(value))
        body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
        self.parts.append(bytes([len(body) | (0x80 if value < 0 else 0)]) + body)
        return self

    def bool(self, value: bool) -> Writer:
        self.parts.append(b"1" if value else b"0")
        return self

    def float(self, value: builtins.float, digits: builtins.int = 53) -> Writer:
        """``digits`` is the mantissa precision of the C++ type: 24 for float, 53 for double."""
        if math.isnan(value):
            return self.int(0).int(NAN_EXPONENT)
        if math.isinf(value):
            return self.int(0).int(INF_EXPONENT if value > 0 else NINF_EXPONENT)
        fraction, exponent = math.frexp(value)
        mantissa = int(fraction * (1 << digits))
        exponent -= digits
        for _ in range(8):
            if mantissa & 0xFF:
                break
            mantissa >>= 8
            exponent += 8
        return self.int(mantissa).int(exponent)

    def string(self, text: str) -> Writer:
        raw = text.encode("latin-1")
        self.int(len(raw))
        self.parts.append(raw)
        return self

    def shape(self, n: builtins.int, k: builtins.int = 1, nr: builtins.int = 1, nc: builtins.int = 1) -> Writer:
        return self.int(n).int(k).int(nr).int(nc)

    def tensor(self, values: np.ndarray, version: builtins.int = 2) -> Writer:
        array = np.asarray(values, dtype=np.float32)
        dims = list(array.shape) + [1] * (4 - array.ndim)
        self.int(version).shape(*dims)
        if version == 2:
            self.parts.append(array.astype("<f4").tobytes())
        else:
            for value in array.ravel():
                self.float(float(value), digits=24)
        return self

    def alias_tensor(self, n: builtins.int, k: builtins.int = 1, nr: builtins.int = 1,
                     nc: builtins.int = 1) -> Writer:
        return self.int(1).shape(n, k, nr, nc)
