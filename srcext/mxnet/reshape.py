"""MXNet ``Reshape`` shape codes resolved against a known input shape.

Codes: ``0`` copy one input dim, ``-1`` infer, ``-2`` copy all remaining dims, ``-3`` merge two dims,
``-4 a b`` split one dim into ``a``, ``b`` (one may be -1); positive values are literal and consume one
input dim. ``reverse`` applies the codes right to left.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dim:
    """One output dim: its size and the input dims it is made from (to keep the batch dim symbolic)."""

    size: int
    sources: tuple[int, ...]
    inferred: bool = False
    copied: bool = False


def resolve(shape: tuple[int, ...], codes: tuple[int, ...], reverse: bool = False) -> list[Dim]:
    """Apply ``codes`` to ``shape``; raises ValueError when the codes do not fit."""
    rank = len(shape)
    src = list(shape[::-1]) if reverse else list(shape)
    spec = list(codes[::-1]) if reverse else list(codes)
    dims: list[Dim] = []
    i = j = 0
    while j < len(spec):
        code = spec[j]
        if code == 0:
            dims.append(Dim(src[i], (i,), copied=True))
            i += 1
        elif code == -1:
            dims.append(Dim(-1, (), True))
            i += 1
        elif code == -2:
            dims.extend(Dim(src[k], (k,), copied=True) for k in range(i, rank))
            i = rank
        elif code == -3:
            dims.append(Dim(src[i] * src[i + 1], (i, i + 1)))
            i += 2
        elif code == -4:
            first, second = spec[j + 1], spec[j + 2]
            if first == -1:
                first = src[i] // second
            if second == -1:
                second = src[i] // first
            if first * second != src[i]:
                raise ValueError(f"-4 split {spec[j + 1:j + 3]} does not divide {src[i]}")
            dims += [Dim(first, (i,)), Dim(second, (i,))]
            i += 1
            j += 2
        elif code > 0:
            dims.append(Dim(code, ()))
            i += 1
        else:
            raise ValueError(f"unknown shape code {code}")
        j += 1
    known = int(np.prod([dim.size for dim in dims if not dim.inferred]))
    total = int(np.prod(shape))
    inferred = [k for k, dim in enumerate(dims) if dim.inferred]
    if len(inferred) > 1:
        raise ValueError("more than one -1")
    if inferred:
        if known == 0 or total % known:
            raise ValueError(f"cannot infer -1: {total} values into {[d.size for d in dims]}")
        dims[inferred[0]] = Dim(total // known, tuple(range(rank)), True)
    if int(np.prod([dim.size for dim in dims])) != total:
        raise ValueError(f"{shape} cannot become {[dim.size for dim in dims]}")
    if reverse:
        dims = [Dim(dim.size, tuple(rank - 1 - k for k in dim.sources), dim.inferred, dim.copied) for dim in dims[::-1]]
    return dims


def onnx_shape(dims: list[Dim]) -> tuple[list[int], bool]:
    """The ONNX ``Reshape`` target that keeps input dim 0 (the batch) symbolic, and whether that worked.

    A dim that is input dim k copied to output position k becomes ``0``; a single other dim that depends
    on the batch becomes ``-1``. Anything else needs the concrete batch size (returned False).
    """
    target = [dim.size for dim in dims]
    dependent = []
    for position, dim in enumerate(dims):
        if dim.copied and dim.sources == (position,):
            target[position] = 0
        elif 0 in dim.sources:
            dependent.append(position)
    if len(dependent) > 1:
        return [dim.size for dim in dims], False
    for position in dependent:
        target[position] = -1
    return target, True
