"""FaceNet's Inception-ResNet-v1 (davidsandberg/facenet's architecture, 512-d) built by TensorFlow itself with
random weights and random batch-norm statistics, frozen the way facenet's freeze script does it: the training
graph with its input queue (``input`` is an Identity of a queue dequeue), batch norms and dropout as
``tf.cond`` on the ``phase_train`` placeholder, variables turned into constants for the outputs
``embeddings`` and ``label_batch``, ref ops renamed (RefSwitch -> Switch, AssignSub -> Sub).

``build(folder)`` runs the TF script in the oracle venv once per folder and returns the frozen graph, a batch
of test inputs (prewhitened 160x160 crops) and TensorFlow's embeddings for them."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from tests.srcext import tensorflow_oracle as oracle

#: tf-slim 1.1.0 still imports two names that TensorFlow 2.15 moved.
SLIM_SHIMS = textwrap.dedent("""
    import tensorflow as tf
    from tensorflow.python.framework import ops
    from tensorflow.python.ops import control_flow_ops
    if not hasattr(ops, "Tensor"):
        ops.Tensor = tf.Tensor
    if not hasattr(control_flow_ops, "cond"):
        control_flow_ops.cond = tf.compat.v1.cond
    import tf_slim as slim
    tf.compat.v1.disable_v2_behavior()
    v1 = tf.compat.v1
""")

FACENET = SLIM_SHIMS + textwrap.dedent("""
    import sys
    import numpy as np
    out = sys.argv[1]
    rng = np.random.default_rng(7)

    def conv(net, filters, size, scope, stride=1, padding="SAME"):
        return slim.conv2d(net, filters, size, stride=stride, padding=padding, scope=scope)

    def up(net, channels, scope):  # the residual's projection: linear, biased, no batch norm
        return slim.conv2d(net, channels, 1, normalizer_fn=None, activation_fn=None, scope=scope)

    def residual(net, branches, scale, scope, activate=True):
        with v1.variable_scope(scope):
            mixed = tf.concat(branches, 3)
            net = net + scale * up(mixed, net.get_shape()[3], "Conv2d_1x1")
            return tf.nn.relu(net) if activate else net

    def block35(net, scope):
        with v1.variable_scope(scope):
            b0 = conv(net, 32, 1, "Branch_0/Conv2d_1x1")
            b1 = conv(conv(net, 32, 1, "Branch_1/Conv2d_0a_1x1"), 32, 3, "Branch_1/Conv2d_0b_3x3")
            b2 = conv(net, 32, 1, "Branch_2/Conv2d_0a_1x1")
            b2 = conv(conv(b2, 32, 3, "Branch_2/Conv2d_0b_3x3"), 32, 3, "Branch_2/Conv2d_0c_3x3")
        return residual(net, [b0, b1, b2], 0.17, scope)

    def block17(net, scope):
        with v1.variable_scope(scope):
            b0 = conv(net, 128, 1, "Branch_0/Conv2d_1x1")
            b1 = conv(net, 128, 1, "Branch_1/Conv2d_0a_1x1")
            b1 = conv(conv(b1, 128, [1, 7], "Branch_1/Conv2d_0b_1x7"), 128, [7, 1], "Branch_1/Conv2d_0c_7x1")
        return residual(net, [b0, b1], 0.10, scope)

    def block8(net, scope, activate=True):
        with v1.variable_scope(scope):
            b0 = conv(net, 192, 1, "Branch_0/Conv2d_1x1")
            b1 = conv(net, 192, 1, "Branch_1/Conv2d_0a_1x1")
            b1 = conv(conv(b1, 192, [1, 3], "Branch_1/Conv2d_0b_1x3"), 192, [3, 1], "Branch_1/Conv2d_0c_3x1")
        return residual(net, [b0, b1], 0.20, scope, activate)

    def reduction_a(net):
        with v1.variable_scope("Mixed_6a"):
            b0 = conv(net, 384, 3, "Branch_0/Conv2d_1a_3x3", 2, "VALID")
            b1 = conv(conv(net, 192, 1, "Branch_1/Conv2d_0a_1x1"), 192, 3, "Branch_1/Conv2d_0b_3x3")
            b1 = conv(b1, 256, 3, "Branch_1/Conv2d_1a_3x3", 2, "VALID")
            b2 = slim.max_pool2d(net, 3, stride=2, padding="VALID", scope="Branch_2/MaxPool_1a_3x3")
            return tf.concat([b0, b1, b2], 3)

    def reduction_b(net):
        with v1.variable_scope("Mixed_7a"):
            b0 = conv(conv(net, 256, 1, "Branch_0/Conv2d_0a_1x1"), 384, 3, "Branch_0/Conv2d_1a_3x3", 2, "VALID")
            b1 = conv(conv(net, 256, 1, "Branch_1/Conv2d_0a_1x1"), 256, 3, "Branch_1/Conv2d_1a_3x3", 2, "VALID")
            b2 = conv(conv(net, 256, 1, "Branch_2/Conv2d_0a_1x1"), 256, 3, "Branch_2/Conv2d_0b_3x3")
            b2 = conv(b2, 256, 3, "Branch_2/Conv2d_1a_3x3", 2, "VALID")
            b3 = slim.max_pool2d(net, 3, stride=2, padding="VALID", scope="Branch_3/MaxPool_1a_3x3")
            return tf.concat([b0, b1, b2, b3], 3)

    def inception_resnet_v1(images, phase_train):
        norm = {"decay": 0.995, "epsilon": 0.001, "updates_collections": None, "is_training": phase_train}
        with slim.arg_scope([slim.conv2d, slim.fully_connected], normalizer_fn=slim.batch_norm,
                            normalizer_params=norm, weights_initializer=slim.initializers.xavier_initializer()):
            with v1.variable_scope("InceptionResnetV1"):
                net = conv(images, 32, 3, "Conv2d_1a_3x3", 2, "VALID")
                net = conv(net, 32, 3, "Conv2d_2a_3x3", 1, "VALID")
                net = conv(net, 64, 3, "Conv2d_2b_3x3")
                net = slim.max_pool2d(net, 3, stride=2, padding="VALID", scope="MaxPool_3a_3x3")
                net = conv(net, 80, 1, "Conv2d_3b_1x1", 1, "VALID")
                net = conv(net, 192, 3, "Conv2d_4a_3x3", 1, "VALID")
                net = conv(net, 256, 3, "Conv2d_4b_3x3", 2, "VALID")
                for index in range(5):
                    net = block35(net, "Repeat/block35_%d" % (index + 1))
                net = reduction_a(net)
                for index in range(10):
                    net = block17(net, "Repeat_1/block17_%d" % (index + 1))
                net = reduction_b(net)
                for index in range(5):
                    net = block8(net, "Repeat_2/block8_%d" % (index + 1))
                net = block8(net, "Block8", activate=False)
                with v1.variable_scope("Logits"):
                    net = slim.avg_pool2d(net, net.get_shape()[1:3], padding="VALID", scope="AvgPool_1a_8x8")
                    net = slim.flatten(net)
                    net = slim.dropout(net, 0.8, is_training=phase_train, scope="Dropout")
            return slim.fully_connected(net, 512, activation_fn=None, scope="Bottleneck", reuse=False)

    graph = tf.Graph()
    with graph.as_default():
        phase_train = v1.placeholder(tf.bool, name="phase_train")
        batch_size = v1.placeholder(tf.int32, name="batch_size")
        queue = tf.queue.FIFOQueue(1000, [tf.float32, tf.int32], shapes=[(160, 160, 3), ()], name="batch_join")
        images, labels = queue.dequeue_up_to(batch_size)
        images = tf.identity(tf.identity(images, "image_batch"), "input")
        tf.identity(labels, "label_batch")
        prelogits = inception_resnet_v1(images, phase_train)
        tf.nn.l2_normalize(prelogits, 1, 1e-10, name="embeddings")
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            for variable in v1.global_variables():  # random statistics, weights kept at a sensible scale
                shape = variable.get_shape().as_list()
                if variable.name.endswith("moving_mean:0"):
                    variable.load(rng.normal(0, 0.2, shape).astype(np.float32), session)
                elif variable.name.endswith("moving_variance:0"):
                    variable.load(rng.uniform(0.5, 1.5, shape).astype(np.float32), session)
                elif variable.name.endswith("beta:0") or variable.name.endswith("biases:0"):
                    variable.load(rng.normal(0, 0.1, shape).astype(np.float32), session)
            frozen = v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(),
                                                                  ["embeddings", "label_batch"])
    for node in frozen.node:  # what facenet's freeze script does so the graph imports without variables
        if node.op == "RefSwitch":
            node.op = "Switch"
            for index, name in enumerate(node.input):
                if "moving_" in name:
                    node.input[index] = name + "/read"
        elif node.op == "AssignSub":
            node.op = "Sub"
            if "use_locking" in node.attr:
                del node.attr["use_locking"]
    open(out + "/facenet.pb", "wb").write(frozen.SerializeToString())

    faces = rng.integers(0, 256, (3, 160, 160, 3), dtype=np.uint8)
    faces[1] //= 3  # different statistics per crop
    pixels = faces / 255.0  # CompreFace's crops: float64 RGB in [0, 1], prewhitened in float64
    mean = pixels.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(pixels.std(axis=(1, 2, 3), keepdims=True), 1.0 / np.sqrt(pixels[0].size))
    whitened = ((pixels - mean) / std).astype(np.float32)
    with tf.Graph().as_default() as check:
        tf.import_graph_def(frozen, name="")
        with v1.Session(graph=check) as session:
            result = session.run("embeddings:0", {"input:0": whitened, "phase_train:0": False})
    np.save(out + "/faces.npy", faces)
    np.save(out + "/whitened.npy", whitened)
    np.save(out + "/embeddings.npy", result)
""")

CACHE = oracle.VENV.parent / "tensorflow-oracle-models"


def build() -> Path:
    """The folder holding ``facenet.pb``, ``faces.npy`` (uint8 RGB 160x160 crops), ``whitened.npy`` and
    ``embeddings.npy``; built once and kept in the oracle cache (keyed by this script)."""
    return oracle.built_once("facenet", FACENET, done="embeddings.npy")


def load(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.load(folder / f"{name}.npy") for name in ("faces", "whitened", "embeddings"))  # type: ignore
