"""srcext.tensorflow and srcext.keras against TensorFlow 2.15 / Keras itself (an isolated venv): the real AIZOO
frozen graph and the real FER Keras HDF5 files of ../shared/models, and small graphs TensorFlow builds that
cover every converted op. Within 1e-4 relative."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest

from srcext.tensorflow import convert
from tests.shared_data import PROJECT_ROOT, shared_path
from tests.srcext import tensorflow_oracle as oracle
from tests.srcext.mxnet_oracle import relative_error
from tests.srcext.tf_graphs import OP_ZOO

pytestmark = [pytest.mark.integration, pytest.mark.tensorflow_oracle]
TOLERANCE = 1e-4
AIZOO_OUTPUTS = ["loc_branch_concat_1/concat", "cls_branch_concat_1/concat"]


def cli(module: str, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr


def onnx_run(path, feeds):
    session = onnxruntime.InferenceSession(path if isinstance(path, bytes) else str(path),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_aizoo_frozen_graph_matches_tensorflow(tmp_path):
    graph = shared_path("models/facemask-aizoo/face_mask_detection.pb")
    out = tmp_path / "aizoo.onnx"
    cli("srcext.tensorflow2onnx", str(graph), str(out), "--input", "data_1:1,260,260,3",
        "--output", AIZOO_OUTPUTS[0], "--output", AIZOO_OUTPUTS[1])
    model = onnx.load(str(out))
    assert [item.name for item in model.graph.input] == ["data_1"]
    assert [item.name for item in model.graph.output] == AIZOO_OUTPUTS
    x = np.random.default_rng(1).uniform(0, 1, (1, 260, 260, 3)).astype(np.float32)
    expected = oracle.graph_forward(tmp_path, graph, {"data_1": x}, AIZOO_OUTPUTS)
    actual = onnx_run(out, {"data_1": x})
    for got, want in zip(actual, expected):
        assert got.shape == want.shape == (1, 5972, got.shape[-1])
        assert relative_error(got, want) < TOLERANCE


@pytest.mark.parametrize("name,channels", [("fer2013_mini_XCEPTION.102-0.66.hdf5", 1),
                                           ("gender_mini_XCEPTION.21-0.95.hdf5", 1)])
def test_keras_hdf5_matches_keras(tmp_path, name, channels):
    source = shared_path(f"models/emotion-fer/{name}")
    out = tmp_path / "model.onnx"
    cli("srcext.keras2onnx", str(source), str(out))
    x = np.random.default_rng(2).uniform(-1, 1, (3, 64, 64, channels)).astype(np.float32)
    expected = oracle.keras_forward(tmp_path, source, [x])[0]
    actual = onnx_run(out, {"input_1": x})[0]
    assert actual.shape == expected.shape
    assert relative_error(actual, expected) < TOLERANCE
    assert np.array_equal(actual.argmax(1), expected.argmax(1))


@pytest.fixture(scope="module")
def op_zoo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tf_op_zoo")
    oracle.run_script(OP_ZOO, str(folder))
    return folder


@pytest.mark.parametrize("case", ["conv_stack", "head", "padded", "conditional"])
def test_converted_ops_match_tensorflow(op_zoo, case):
    x = np.load(op_zoo / f"{case}_x.npy")
    constants = {"phase": False} if case == "conditional" else {}
    model = convert(op_zoo / f"{case}.pb", {"x": [-1, *x.shape[1:]]}, ["y"], constants)
    ops = {node.op_type for node in model.graph.node}
    assert "RandomUniform" not in ops
    actual = onnx_run(model.SerializeToString(), {"x": x})[0]
    expected = np.load(op_zoo / f"{case}_y.npy")
    assert actual.shape == expected.shape
    assert relative_error(actual, expected) < TOLERANCE
