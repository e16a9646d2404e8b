"""Symbol reading, error messages, determinism, the cache and the CLI."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from srcext.mxnet import MxnetConversionError, convert, convert_cached, read_symbol, write_params
from srcext.mxnet2onnx import main
from tests.srcext.mxnet_graphs import CASES, SymbolWriter, build_case


def small_model(folder: Path, **conv_attrs: object) -> tuple[Path, Path]:
    writer = SymbolWriter()
    data = writer.var("data")
    weight = writer.var("conv0_weight", np.ones((2, 3, 1, 1), np.float32))
    conv = writer.op("Convolution", "conv0", [data, weight], kernel=(1, 1), num_filter=2, no_bias=True, **conv_attrs)
    head = writer.op("Activation", "relu0", [conv], act_type="relu")
    return writer.save(folder, "tiny", [head])


def test_old_style_symbol_attributes_and_two_item_inputs() -> None:
    document = {"nodes": [{"op": "null", "name": "data", "inputs": []},
                          {"op": "Activation", "name": "act", "param": {"act_type": "relu"}, "attr": {"ctx_group": "x"},
                           "inputs": [[0, 0]]}], "heads": [[1, 0]]}
    symbol = read_symbol(json.dumps(document))
    assert symbol.nodes[1].attrs == {"act_type": "relu", "ctx_group": "x"} and symbol.nodes[1].inputs == ((0, 0),)
    with pytest.raises(MxnetConversionError, match="node 'act' \\(op Activation\\), attribute 'ctx_group'"):
        convert(symbol, {}, (1, 3, 4, 4))


def test_unknown_op_names_node_and_op(tmp_path: Path) -> None:
    writer = SymbolWriter()
    head = writer.op("FancyOp", "fancy1", [writer.var("data")], alpha=1)
    symbol, params = writer.save(tmp_path, "bad", [head])
    with pytest.raises(MxnetConversionError, match="node 'fancy1' \\(op FancyOp\\): operator not supported"):
        convert(symbol, params, (1, 3, 4, 4))


def test_unknown_attribute_and_value_name_the_attribute(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path, mystery=3)
    with pytest.raises(MxnetConversionError, match="node 'conv0' \\(op Convolution\\), attribute 'mystery'"):
        convert(symbol, params, (1, 3, 4, 4))
    symbol, params = small_model(tmp_path, layout="NHWC")
    with pytest.raises(MxnetConversionError, match="attribute 'layout': value 'NHWC' not supported"):
        convert(symbol, params, (1, 3, 4, 4))


def test_missing_parameter_is_reported(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path)
    write_params(params, {})
    with pytest.raises(MxnetConversionError, match="node 'conv0_weight'.*no value in the params"):
        convert(symbol, params, (1, 3, 4, 4))
    two_inputs = {"nodes": [{"op": "null", "name": "a", "inputs": []}, {"op": "null", "name": "b", "inputs": []},
                            {"op": "elemwise_add", "name": "s", "inputs": [[0, 0], [1, 0]]}], "heads": [[2, 0]]}
    with pytest.raises(MxnetConversionError, match="cannot tell which variable is the input"):
        convert(two_inputs, {}, (1, 2))
    assert [item.name for item in convert(two_inputs, {}, {"a": (1, 2), "b": (1, 2)}).graph.input] == ["a", "b"]


def test_internal_output_by_name(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path)
    model = convert(symbol, params, (1, 3, 4, 4), outputs=["conv0_output"])
    assert [item.name for item in model.graph.output] == ["conv0_output"]
    assert [node.op_type for node in model.graph.node] == ["Conv"]


def test_conversion_is_deterministic(tmp_path: Path) -> None:
    for case in CASES:
        symbol, params, inputs, _ = build_case(case, tmp_path)
        shapes = {name: value.shape for name, value in inputs.items()}
        assert convert(symbol, params, shapes).SerializeToString() == convert(symbol, params, shapes).SerializeToString()


def test_convert_cached_reuses_and_rebuilds(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path)
    first = convert_cached(symbol, params, (1, 3, 4, 4))
    assert first == tmp_path / "tiny.onnx"
    sidecar = json.loads((tmp_path / "tiny.onnx.json").read_text())
    assert sidecar["converter_version"] and len(sidecar["params_sha256"]) == 64
    os.utime(first, (1, 1))
    assert convert_cached(symbol, params, (1, 3, 4, 4)) == first and first.stat().st_mtime == 1
    write_params(params, {"arg:conv0_weight": np.full((2, 3, 1, 1), 2, np.float32)})
    before = first.read_bytes()
    convert_cached(symbol, params, (1, 3, 4, 4))
    assert first.read_bytes() != before and first.stat().st_mtime != 1
    first.write_bytes(b"damaged")
    assert convert_cached(symbol, params, (1, 3, 4, 4)).read_bytes() != b"damaged"
    assert not list(tmp_path.glob(".*.tmp"))


def test_convert_cached_into_another_folder(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path)
    target = convert_cached(symbol, params, (1, 3, 4, 4), out_dir=tmp_path / "cache" / "mx")
    assert target == tmp_path / "cache" / "mx" / "tiny.onnx" and target.exists()
    assert not (tmp_path / "tiny.onnx").exists()


def test_cli_writes_model(tmp_path: Path) -> None:
    symbol, params = small_model(tmp_path)
    assert main([str(symbol), str(params), str(tmp_path / "out.onnx"), "--input-shape", "1,3,4,4"]) == 0
    assert (tmp_path / "out.onnx").read_bytes() == convert(symbol, params, (1, 3, 4, 4)).SerializeToString()
    assert main([str(symbol), str(params), str(tmp_path / "x.onnx"), "--output", "nothing"]) == 1
