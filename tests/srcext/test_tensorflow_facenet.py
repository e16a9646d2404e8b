"""FaceNet's frozen Inception-ResNet-v1 (queue input, ``phase_train`` conditionals), built by TensorFlow with
random weights as facenet's freeze script writes it, converted by ``python -m srcext.tensorflow2onnx`` and
compared with TensorFlow's embeddings for the same prewhitened crops."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np
import onnx
import onnxruntime
import pytest

from srcext.tensorflow import TensorflowConversionError, convert, read_graph
from tests.shared_data import PROJECT_ROOT
from tests.srcext import tf_facenet
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.integration, pytest.mark.tensorflow_oracle]


@pytest.fixture(scope="module")
def facenet():
    return tf_facenet.build()


def test_the_rebuilt_graph_has_the_structure_of_facenets_release(facenet):
    nodes = read_graph(facenet / "facenet.pb")
    ops = Counter(node.op for node in nodes)
    assert ops["FIFOQueueV2"] == 1 and ops["QueueDequeueUpToV2"] == 1 and ops["RandomUniform"] == 1
    assert ops["Switch"] > 1500 and ops["Merge"] > 400 and ops["Conv2D"] == 132
    node = next(item for item in nodes if item.name == "input")
    assert node.op == "Identity" and "shape" not in node.attrs


def test_converted_facenet_gives_tensorflows_embeddings(facenet, tmp_path):
    out = tmp_path / "facenet.onnx"
    result = subprocess.run([sys.executable, "-m", "srcext.tensorflow2onnx", str(facenet / "facenet.pb"), str(out),
                             "--input", "input:-1,160,160,3", "--output", "embeddings",
                             "--constant", "phase_train=False"], capture_output=True, text=True, timeout=600,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    model = onnx.load(str(out))
    assert {node.op_type for node in model.graph.node}.isdisjoint({"RandomUniform", "Floor", "Sub"})
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    _, whitened, expected = tf_facenet.load(facenet)
    together = session.run(None, {"input": whitened})[0]
    assert together.shape == (3, 512)
    assert relative_error(together, expected) < 1e-4
    alone = session.run(None, {"input": whitened[1:2]})[0]
    assert relative_error(alone, expected[1:2]) < 1e-4
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_without_phase_train_the_conversion_says_what_to_fix(facenet):
    with pytest.raises(TensorflowConversionError, match="phase_train.*--constant|placeholder has no value"):
        convert(facenet / "facenet.pb", {"input": [-1, 160, 160, 3]}, ["embeddings"])
