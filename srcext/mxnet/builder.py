"""Accumulates ONNX nodes, constants and the static shapes that converters need.

Shapes are tracked with the concrete batch size the caller gave; the ONNX input still declares a
symbolic batch unless a converter had to bake the batch into a constant (``batch_static``).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

Shape = tuple[int, ...]


class GraphBuilder:
    """Names are deterministic: ``<mxnet node>/<op>_<k>`` for helpers, ``<mxnet node>_output`` for results."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params = params
        self.shapes: dict[str, Shape] = {name: tuple(value.shape) for name, value in params.items()}
        self.nodes: list[NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.scope = ""
        self.batch_static = False
        self._counter = 0

    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{self.scope}/{hint}_{self._counter}"

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def value(self, name: str) -> np.ndarray | None:
        """The constant behind ``name`` (a parameter or an emitted constant), else None."""
        if name in self.initializers:
            return self.initializers[name]
        return self.params.get(name)

    def const(self, hint: str, value: Any, dtype: Any = np.float32) -> str:
        name = self.fresh(hint)
        array = np.asarray(value, dtype=dtype)
        self.initializers[name] = array
        self.shapes[name] = tuple(array.shape)
        return name

    def _use(self, name: str) -> None:
        if name in self.params and name not in self.initializers:
            self.initializers[name] = self.params[name]

    def node(self, op: str, inputs: Sequence[str], shape: Shape, out: str | None = None, **attrs: Any) -> str:
        """Emit one ONNX node with a single output of known ``shape``; returns the output name."""
        for name in inputs:
            if name:
                self._use(name)
        out = out or self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        self.shapes[out] = tuple(int(dim) for dim in shape)
        return out

    def tensors(self) -> list[TensorProto]:
        return [numpy_helper.from_array(np.ascontiguousarray(value), name) for name, value in self.initializers.items()]
