"""Op name -> converter table. A converter gets an ``OpContext`` (the node, its checked attributes, its inputs as
ONNX tensors or constants) and returns one value per output it produces: an ONNX tensor name or a numpy constant."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .builder import GraphBuilder
from .errors import node_error
from .graphdef import TfNode, numpy_dtype

Value = str | np.ndarray  # an ONNX tensor name, or a value known at conversion time


class OpContext:
    """What a converter may ask about the node it converts."""

    def __init__(self, b: GraphBuilder, node: TfNode, values: list[Value], known: frozenset[str]) -> None:
        self.b, self.node, self.values = b, node, values
        unknown = sorted(key for key in node.attrs if not key.startswith("_") and key not in known)
        if unknown:
            raise self.error("attribute not understood by the converter", unknown[0])

    def error(self, message: str, attribute: str | None = None) -> Exception:
        return node_error(self.node.name, self.node.op, message, attribute)

    def attr(self, key: str, default: Any = None) -> Any:
        value = self.node.attrs.get(key, default)
        return value.decode() if isinstance(value, bytes) else value

    def dtype_attr(self, key: str = "T", default: Any = np.float32) -> np.dtype:
        code = self.node.attrs.get(key)
        return np.dtype(default if code is None else numpy_dtype(code))

    def is_const(self, index: int) -> bool:
        return isinstance(self.values[index], np.ndarray)

    def const(self, index: int, what: str = "input") -> np.ndarray:
        value = self.values[index]
        if not isinstance(value, np.ndarray):
            raise self.error(f"{what} {index} ({self.node.data_inputs[index]}) must be known at conversion time")
        return value

    def tensor(self, index: int, dtype: Any = None) -> str:
        """Input ``index`` as an ONNX tensor (a constant becomes an initializer), cast to ``dtype`` if given."""
        value = self.values[index]
        name = self.b.const(value, hint="value") if isinstance(value, np.ndarray) else value
        return name if dtype is None else self.b.cast(name, dtype)

    def data_format(self) -> str:
        layout = self.attr("data_format", "NHWC")
        if layout not in ("NHWC", "NCHW"):
            raise self.error(f"data_format {layout} is not supported", "data_format")
        return layout


ConvertFn = Callable[[OpContext], list[Value]]


@dataclass(frozen=True)
class Converter:
    fn: ConvertFn
    known: frozenset[str]


CONVERTERS: dict[str, Converter] = {}


def converts(*ops: str, known: Iterable[str] = ("T",)) -> Callable[[ConvertFn], ConvertFn]:
    """Register ``fn`` for ``ops``; ``known`` lists the attributes it understands (others stop the conversion)."""
    def register(fn: ConvertFn) -> ConvertFn:
        for op in ops:
            CONVERTERS[op] = Converter(fn, frozenset(known))
        return fn
    return register
