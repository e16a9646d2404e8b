"""libfacedetection's convolution table (``param_pConvInfo``), read from the library with its weights.

Each of the table's entries is a C struct of 32 bytes: ``int channels, int num_filters, bool is_depthwise,
bool is_pointwise, bool with_relu`` (3 bytes of padding) then two pointers, to the layer's float32 weights
and biases. The pointers are 0 in the file: the dynamic linker writes them from ``R_X86_64_64`` relocations
that name the exported weight symbols, which is how we learn which array belongs to which layer.

Weight layouts, found by running the library on photos (tests/plugins/libfacedetection/test_equality.py):
a pointwise (1x1) layer holds ``num_filters x channels`` (output-major, as an ONNX 1x1 Conv); a depthwise 3x3
layer holds ``9 x channels`` (tap-major: the transpose of ONNX's layout); the first layer is the 3x3 stride-2
convolution of the image that the library computes as a 1x1 convolution over 3x3 patches: ``16 x 32``, whose
first 27 inputs are the patch's pixels with their colours interleaved (``(ky * 3 + kx) * 3 + colour``, colours
in the byte order of the image given, BGR) and whose last 5 are zero padding.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from srcext.libfacedetection.elf import R_X86_64_64, ElfError, ElfFile

TABLE_SYMBOL = "param_pConvInfo"
ENTRY = struct.Struct("<ii???5xQQ")
WEIGHTS_AT, BIASES_AT = 16, 24


class LayoutError(ElfError):
    """The library's table does not describe the YuNet this reader knows (another libfacedetection version)."""


@dataclass(frozen=True)
class ConvLayer:
    index: int
    channels: int
    filters: int
    depthwise: bool
    relu: bool
    weights: np.ndarray  # float32, flat, as stored
    biases: np.ndarray  # float32 (filters,)
    weight_symbol: str


def read_layers(elf: ElfFile) -> list[ConvLayer]:
    """Every entry of ``param_pConvInfo`` with its weights, in the table's order."""
    table = elf.symbols.get(TABLE_SYMBOL)
    if table is None:
        raise LayoutError(f"{elf.origin}: no {TABLE_SYMBOL} symbol: not a libfacedetection 3.x library")
    if table.size == 0 or table.size % ENTRY.size:
        raise LayoutError(f"{elf.origin}: {TABLE_SYMBOL} is {table.size} bytes, not a multiple of {ENTRY.size}")
    raw = elf.symbol_bytes(TABLE_SYMBOL)
    pointers = {r.offset: r.symbol for r in elf.relocations() if r.kind == R_X86_64_64 and r.addend == 0
                and table.value <= r.offset < table.value + table.size}
    layers = []
    for index in range(table.size // ENTRY.size):
        base = table.value + index * ENTRY.size
        channels, filters, depthwise, pointwise, relu, _w, _b = ENTRY.unpack_from(raw, index * ENTRY.size)
        if depthwise == pointwise:
            raise LayoutError(f"{elf.origin}: layer {index} is neither only depthwise nor only pointwise")
        names = pointers.get(base + WEIGHTS_AT), pointers.get(base + BIASES_AT)
        if names[0] is None or names[1] is None:
            raise LayoutError(f"{elf.origin}: layer {index}'s weights are not relocated from named symbols")
        weights = _floats(elf, names[0], filters * 9 if depthwise else filters * channels)
        biases = _floats(elf, names[1], filters)
        layers.append(ConvLayer(index, channels, filters, bool(depthwise), bool(relu), weights, biases, names[0]))
    return layers


def _floats(elf: ElfFile, name: str, count: int) -> np.ndarray:
    data = elf.symbol_bytes(name)
    if len(data) != 4 * count:
        raise LayoutError(f"{elf.origin}: {name} holds {len(data)} bytes, expected {count} float32 values")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
