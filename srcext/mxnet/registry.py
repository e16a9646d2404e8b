"""Op name -> converter table. A converter gets the builder, the node's checked attributes, its input tensor
names and the name its result must carry, and returns the name of the tensor that holds the node's output."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from .attrs import Attrs
from .builder import GraphBuilder

ConvertFn = Callable[[GraphBuilder, Attrs, list[str], str], str]

# Attributes that select kernels or memory plans in MXNet and never change results.
PERFORMANCE_HINTS = ("workspace", "cudnn_tune", "cudnn_off", "cudnn_algo_verbose", "cudnn_algo_fwd",
                     "cudnn_algo_bwd_data", "cudnn_algo_bwd_filter", "cudnn_tensor_core",
                     "cudnn_tensor_core_only")


@dataclass(frozen=True)
class Converter:
    fn: ConvertFn
    known: frozenset[str]


CONVERTERS: dict[str, Converter] = {}


def converts(*ops: str, known: Iterable[str] = ()) -> Callable[[ConvertFn], ConvertFn]:
    """Register ``fn`` for ``ops``; ``known`` lists the attributes it understands (others are errors)."""
    def register(fn: ConvertFn) -> ConvertFn:
        for op in ops:
            CONVERTERS[op] = Converter(fn, frozenset(known) | frozenset(PERFORMANCE_HINTS))
        return fn
    return register
