"""TensorFlow ``GraphDef`` (frozen ``.pb``) -> ``TfNode`` list, with tensors as numpy arrays.

Field numbers follow TensorFlow's public ``graph.proto``, ``node_def.proto``, ``attr_value.proto``,
``tensor.proto`` and ``tensor_shape.proto``; only what a frozen inference graph uses is read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import TensorflowConversionError
from .wire import Message

# DataType enum -> numpy; reference types (``DT_FLOAT_REF`` = 101, ...) map like their base type.
DTYPES: dict[int, Any] = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8,
                          7: np.object_, 9: np.int64, 10: np.bool_, 17: np.uint16, 19: np.float16,
                          22: np.uint32, 23: np.uint64}
DTYPE_NAMES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
               8: "complex64", 9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 19: "float16",
               20: "resource", 21: "variant", 22: "uint32", 23: "uint64"}


@dataclass
class TfNode:
    """One ``NodeDef``: inputs keep TensorFlow's spelling (``name``, ``name:1``, ``^control``)."""
    name: str
    op: str
    inputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def data_inputs(self) -> list[str]:
        return [item for item in self.inputs if not item.startswith("^")]

    @property
    def control_inputs(self) -> list[str]:
        return [item[1:] for item in self.inputs if item.startswith("^")]


def numpy_dtype(code: int) -> Any:
    base = code % 100
    if base not in DTYPES:
        raise TensorflowConversionError(f"TensorFlow dtype {DTYPE_NAMES.get(base, base)} is not supported")
    return DTYPES[base]


def read_shape(message: Message) -> tuple[int, ...] | None:
    """``TensorShapeProto`` -> dims (-1 where unknown), or None for an unknown rank."""
    if message.integer(3):
        return None
    return tuple(dim.integer(1) for dim in message.messages(2))


def _typed_values(message: Message, dtype: Any) -> list[Any]:
    kind = np.dtype(dtype)
    if kind == np.float32:
        return message.packed(5, "f")
    if kind == np.float64:
        return message.packed(6, "d")
    if kind == np.float16:
        return list(np.array(message.ints(13, signed=False), np.uint16).view(np.float16))
    if kind == np.int64:
        return message.ints(10)
    if kind == np.bool_:
        return [bool(item) for item in message.ints(11)]
    if kind == np.uint32:
        return message.ints(16, signed=False)
    if kind == np.uint64:
        return message.ints(17, signed=False)
    if kind == np.object_:
        return list(message.strings(8))
    values = message.ints(7)  # int32, int16, int8, uint8, uint16 share int_val
    return [item & 0xFFFFFFFF if kind.kind == "u" else item for item in values]


def read_tensor(message: Message) -> np.ndarray:
    """``TensorProto`` -> array; a short value list fills the shape with its last value, as TensorFlow does."""
    dtype = numpy_dtype(message.integer(1))
    shape = read_shape(message.message(2)) or ()
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    content = message.bytes_(4)
    if content and dtype is not np.object_:
        array = np.frombuffer(content, dtype=np.dtype(dtype).newbyteorder("<"))
        if array.size != size:
            raise TensorflowConversionError(f"tensor content holds {array.size} values for shape {shape}")
        return array.astype(dtype).reshape(shape)
    values = _typed_values(message, dtype)
    if len(values) < size:
        values = list(values) + [values[-1] if values else dtype(0) if dtype is not np.object_ else b""] * (
            size - len(values))
    return np.array(values[:size], dtype=dtype).reshape(shape)


def _list_value(message: Message) -> list[Any]:
    for number, reader in ((2, lambda m: m.strings(2)), (3, lambda m: m.ints(3)), (4, lambda m: m.packed(4, "f")),
                           (5, lambda m: [bool(v) for v in m.ints(5)]), (6, lambda m: m.ints(6)),
                           (7, lambda m: [read_shape(s) for s in m.messages(7)]),
                           (8, lambda m: [read_tensor(t) for t in m.messages(8)])):
        if message.has(number):
            return reader(message)
    return []


def read_attr(message: Message) -> Any:
    """``AttrValue`` -> bytes / int / float / bool / dtype code / shape tuple / array / list of those."""
    if message.has(1):
        return _list_value(message.message(1))
    if message.has(2):
        return message.bytes_(2)
    if message.has(3):
        return message.integer(3)
    if message.has(4):
        return message.float32(4)
    if message.has(5):
        return bool(message.integer(5))
    if message.has(6):
        return message.integer(6)
    if message.has(7):
        return read_shape(message.message(7))
    if message.has(8):
        return read_tensor(message.message(8))
    if message.has(10):
        return message.message(10).string(1)  # a function name (NameAttrList)
    return None


def read_node(message: Message) -> TfNode:
    attrs = {}
    for entry in message.messages(5):
        attrs[entry.string(1)] = read_attr(entry.message(2))
    return TfNode(message.string(1), message.string(2), [item.decode() for item in message.strings(3)], attrs)


def parse_graph(data: bytes) -> list[TfNode]:
    """The nodes of a serialized ``GraphDef``, in file order."""
    return [read_node(node) for node in Message(data).messages(1)]


def read_graph(path: str | Path) -> list[TfNode]:
    """Read a frozen ``.pb``; raises TensorflowConversionError when it is not a GraphDef."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise TensorflowConversionError(f"cannot read {path}: {error}") from error
    try:
        nodes = parse_graph(data)
    except (TensorflowConversionError, UnicodeDecodeError, IndexError, ValueError) as error:
        raise TensorflowConversionError(f"{path} is not a TensorFlow GraphDef: {error}") from error
    if not nodes or any(not node.name or not node.op for node in nodes):
        raise TensorflowConversionError(f"{path} is not a TensorFlow GraphDef (no named nodes)")
    return nodes
