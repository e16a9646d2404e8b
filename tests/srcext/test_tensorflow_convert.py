"""The GraphDef reader and converter on graphs written here in the wire format (no TensorFlow needed):
conditionals folded from a known predicate, the graph cut at a named input, clear errors, the cache."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from srcext import tensorflow2onnx
from srcext.tensorflow import TensorflowConversionError, convert, convert_cached, parse_graph, read_graph
from tests.srcext import tf_graph_writer as w

FLOAT = np.dtype(np.float32)


def run(model, **feeds):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def conditional_graph() -> bytes:
    """``y = phase ? dropout-like(x) * 2 : x + 1``, shaped like tf.cond: Switch on an Identity of the predicate,
    a Const under a ``^switch_t`` control edge, an op no converter knows (RandomUniform) on the true branch."""
    return w.graph(
        w.node("queue", "FIFOQueueV2", shapes=[3]),
        w.node("dequeue", "QueueDequeueUpToV2", ["queue"]),
        w.node("x", "Identity", ["dequeue"], T=FLOAT),
        w.node("phase", "Placeholder", dtype=np.dtype(np.bool_)),
        w.node("cond/pred_id", "Identity", ["phase"], T=np.dtype(np.bool_)),
        w.node("cond/Switch", "Switch", ["phase", "phase"], T=np.dtype(np.bool_)),
        w.node("cond/switch_t", "Identity", ["cond/Switch:1"], T=np.dtype(np.bool_)),
        w.node("cond/Switch_1", "Switch", ["x", "cond/pred_id"], T=FLOAT),
        w.node("cond/two", "Const", ["^cond/switch_t"], value=np.array(2.0, np.float32), dtype=FLOAT),
        w.node("cond/noise", "RandomUniform", ["cond/two"], T=FLOAT),
        w.node("cond/mul", "Mul", ["cond/Switch_1:1", "cond/noise"], T=FLOAT),
        w.const("cond/one", 1.0),
        w.node("cond/add", "Add", ["cond/Switch_1", "cond/one"], T=FLOAT),
        w.node("cond/Merge", "Merge", ["cond/add", "cond/mul"], T=FLOAT, N=2),
        w.node("y", "Identity", ["cond/Merge"], T=FLOAT),
    )


def test_conditional_folds_to_the_untaken_training_branch_being_dropped():
    model = convert(parse_graph(conditional_graph()), {"x": [-1, 3]}, ["y"], {"phase": False})
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run(model, x=x)[0], x + 1)
    assert [item.name for item in model.graph.input] == ["x"]
    assert [item.name for item in model.graph.output] == ["y"]
    assert {node.op_type for node in model.graph.node} <= {"Add", "Identity"}


def test_the_taken_branch_is_converted_and_an_unknown_op_named():
    with pytest.raises(TensorflowConversionError, match=r"node 'cond/noise' \(op RandomUniform\)"):
        convert(parse_graph(conditional_graph()), {"x": [-1, 3]}, ["y"], {"phase": True})


def test_a_predicate_without_a_value_is_a_clear_error():
    with pytest.raises(TensorflowConversionError, match="placeholder has no value"):
        convert(parse_graph(conditional_graph()), {"x": [-1, 3]}, ["y"])


def test_without_the_cut_at_input_the_queue_is_reported():
    nodes = parse_graph(conditional_graph())
    with pytest.raises(TensorflowConversionError, match=r"node 'queue' \(op FIFOQueueV2\)"):
        convert(nodes, {"phase": []}, ["y"], {})


def test_an_unknown_attribute_names_node_op_and_attribute():
    graph = w.graph(w.node("x", "Placeholder", dtype=FLOAT), w.node("r", "Relu", ["x"], T=FLOAT, fancy=3))
    with pytest.raises(TensorflowConversionError, match=r"node 'r' \(op Relu\), attribute 'fancy'"):
        convert(parse_graph(graph), {"x": [1, 2]}, ["r"])


def const_with_tensor(payload: bytes) -> np.ndarray:
    raw = w.field(1, b"c") + w.field(2, b"Const") + w.field(5, w.field(1, b"value") + w.field(2, w.field(8, payload)))
    return parse_graph(w.graph(raw))[0].attrs["value"]


def test_tensor_values_fill_their_shape_like_tensorflow():
    filled = w.field(1, 1) + w.field(2, w.shape((2, 3))) + w.field(5, np.float32([7.0, 8.0]).tobytes())
    np.testing.assert_array_equal(const_with_tensor(filled), [[7, 8, 8], [8, 8, 8]])
    listed = const_with_tensor(w.tensor(np.array([[1, -2], [3, 4]], np.int32), as_content=False))
    np.testing.assert_array_equal(listed, [[1, -2], [3, 4]])
    assert listed.dtype == np.int32
    zeros = const_with_tensor(w.field(1, 9) + w.field(2, w.shape((2,))))
    np.testing.assert_array_equal(zeros, np.zeros(2, np.int64))


@pytest.mark.parametrize("begin,end,strides,masks,expected", [
    ([0, 1], [2, 3], [1, 1], {}, lambda x: x[0:2, 1:3]),
    ([1, 0], [0, 0], [1, 1], {"begin_mask": 2, "end_mask": 3}, lambda x: x[1:, :]),
    ([-1, 0], [0, 4], [1, 2], {"shrink_axis_mask": 1}, lambda x: x[-1, 0:4:2]),
    ([0, -1], [0, 0], [1, -1], {"begin_mask": 1, "end_mask": 3}, lambda x: x[:, ::-1]),
    ([2], [3], [1], {"shrink_axis_mask": 1}, lambda x: x[2]),
])
def test_strided_slice_masks_match_numpy_slicing(begin, end, strides, masks, expected):
    graph = w.graph(w.node("x", "Placeholder", dtype=FLOAT), w.const("b", begin, np.int32),
                    w.const("e", end, np.int32), w.const("s", strides, np.int32),
                    w.node("y", "StridedSlice", ["x", "b", "e", "s"], T=FLOAT, Index=np.dtype(np.int32), **masks))
    x = np.arange(20, dtype=np.float32).reshape(4, 5)
    np.testing.assert_array_equal(run(convert(parse_graph(graph), {"x": [4, 5]}, ["y"]), x=x)[0], expected(x))


def test_shape_arithmetic_keeps_the_batch_dynamic():
    """Flatten as Keras 2 wrote it: Reshape(x, Pack(StridedSlice(Shape(x))[0], -1))."""
    int32 = np.dtype(np.int32)
    graph = w.graph(w.node("x", "Placeholder", dtype=FLOAT), w.node("shape", "Shape", ["x"], T=FLOAT, out_type=int32),
                    w.const("b", [0], np.int32), w.const("e", [1], np.int32), w.const("s", [1], np.int32),
                    w.node("n", "StridedSlice", ["shape", "b", "e", "s"], T=int32, Index=int32, shrink_axis_mask=1),
                    w.const("minus1", -1, np.int32), w.node("dims", "Pack", ["n", "minus1"], T=int32, N=2, axis=0),
                    w.node("y", "Reshape", ["x", "dims"], T=FLOAT, Tshape=int32))
    model = convert(parse_graph(graph), {"x": [-1, 2, 3]}, ["y"])
    for batch in (1, 3):
        x = np.random.default_rng(batch).random((batch, 2, 3), np.float32)
        np.testing.assert_array_equal(run(model, x=x)[0], x.reshape(batch, 6))


def test_not_a_graphdef_is_rejected(tmp_path):
    path = tmp_path / "x.pb"
    path.write_bytes(b"\xff\xff\xff")
    with pytest.raises(TensorflowConversionError, match="not a TensorFlow GraphDef"):
        read_graph(path)
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(TensorflowConversionError, match="not a TensorFlow GraphDef"):
        read_graph(path)


def write_conditional(tmp_path: Path) -> Path:
    path = tmp_path / "cond.pb"
    path.write_bytes(conditional_graph())
    return path


def test_conversion_is_deterministic():
    first, second = (convert(parse_graph(conditional_graph()), {"x": [-1, 3]}, ["y"], {"phase": False})
                     for _ in range(2))
    assert first.SerializeToString() == second.SerializeToString()


def test_cache_converts_once_and_again_when_arguments_change(tmp_path):
    graph = write_conditional(tmp_path)
    target = convert_cached(graph, {"x": [-1, 3]}, ["y"], {"phase": False})
    assert target == tmp_path / "cond.onnx"
    stamp = target.stat().st_mtime_ns
    assert convert_cached(graph, {"x": [-1, 3]}, ["y"], {"phase": False}).stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "cond.onnx.json").read_text())["constants"] == {"phase": False}
    convert_cached(graph, {"x": [2, 3]}, ["y"], {"phase": False})
    assert json.loads((tmp_path / "cond.onnx.json").read_text())["inputs"] == {"x": [2, 3]}


def test_cli_writes_the_model_and_reports_failures(tmp_path, caplog):
    graph = write_conditional(tmp_path)
    out = tmp_path / "out.onnx"
    assert tensorflow2onnx.main([str(graph), str(out), "--input", "x:-1,3", "--output", "y",
                                 "--constant", "phase=False"]) == 0
    x = np.ones((1, 3), np.float32)
    import onnx  # pylint: disable=import-outside-toplevel
    np.testing.assert_array_equal(run(onnx.load(str(out)), x=x)[0], x + 1)
    assert tensorflow2onnx.main([str(graph), str(out), "--input", "x:-1,3", "--output", "y"]) == 1
    assert "placeholder has no value" in caplog.text
    with pytest.raises(SystemExit):
        tensorflow2onnx.main([str(graph), str(out), "--input", "x", "--output", "y"])
