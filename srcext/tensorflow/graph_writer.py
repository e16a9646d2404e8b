"""Build a TensorFlow graph in our own code, as ``TfNode``s, for checkpoints that hold weights but no graph:
the nodes then go through the same converter as a frozen graph (``srcext.tensorflow.convert``)."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .errors import TensorflowConversionError
from .graphdef import TfNode

FLOAT = 1  # DT_FLOAT
INT32 = 3


class GraphWriter:
    """Nodes named like TensorFlow's scopes; ``weight(name)`` takes a checkpoint tensor as a Const."""

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[TfNode] = []
        self.used: set[str] = set()

    def add(self, name: str, op: str, inputs: list[str], **attrs: Any) -> str:
        self.nodes.append(TfNode(name, op, inputs, attrs))
        return name

    def const(self, name: str, value: Any, dtype: Any = np.float32) -> str:
        array = np.asarray(value, dtype)
        return self.add(name, "Const", [], value=array, dtype=INT32 if array.dtype == np.int32 else FLOAT)

    def weight(self, name: str) -> str:
        if name not in self.weights:
            raise TensorflowConversionError(f"checkpoint has no tensor {name!r}")
        self.used.add(name)
        return self.const(name, np.asarray(self.weights[name], np.float32))

    def placeholder(self, name: str) -> str:
        return self.add(name, "Placeholder", [], dtype=FLOAT)
