"""Accumulates ONNX nodes and initializers, with the TensorFlow dtype of every tensor it names."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int16): TensorProto.INT16,
              np.dtype(np.int8): TensorProto.INT8, np.dtype(np.uint8): TensorProto.UINT8,
              np.dtype(np.uint16): TensorProto.UINT16, np.dtype(np.uint32): TensorProto.UINT32,
              np.dtype(np.uint64): TensorProto.UINT64, np.dtype(np.bool_): TensorProto.BOOL}


def onnx_type(dtype: Any) -> int:
    return ONNX_TYPES[np.dtype(dtype)]


class GraphBuilder:
    """Helper tensors are named ``<scope>/<hint>_<k>``, so names are deterministic and say where they came from."""

    def __init__(self) -> None:
        self.nodes: list[NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, np.dtype] = {}
        self.scope = ""
        self._counter = 0

    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{self.scope}/{hint}_{self._counter}"

    def const(self, value: Any, dtype: Any = None, hint: str = "const") -> str:
        array = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self.initializers[name] = np.array(array, order="C")  # ascontiguousarray would make a scalar 1-d
        self.dtypes[name] = array.dtype
        return name

    def node(self, op: str, inputs: Sequence[str], dtype: Any, out: str | None = None, **attrs: Any) -> str:
        """Emit one single-output node whose result has ``dtype``; returns the output name."""
        out = out or self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        self.dtypes[out] = np.dtype(dtype)
        return out

    def cast(self, name: str, dtype: Any) -> str:
        """``name`` as ``dtype`` (no node when it already is)."""
        if self.dtypes[name] == np.dtype(dtype):
            return name
        return self.node("Cast", [name], dtype, to=onnx_type(dtype))

    def to_nchw(self, name: str) -> str:
        return self.node("Transpose", [name], self.dtypes[name], perm=[0, 3, 1, 2])

    def to_nhwc(self, name: str, out: str | None = None) -> str:
        return self.node("Transpose", [name], self.dtypes[name], out, perm=[0, 2, 3, 1])

    def tensors(self) -> list[TensorProto]:
        return [numpy_helper.from_array(value, name) for name, value in self.initializers.items()]
