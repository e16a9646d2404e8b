"""rude_carnie's Inception-v3 age/gender network as CompreFace builds it (TF-slim's ``inception_v3_base``, batch
norm without scale, a whole-map average pool, flatten, ``output`` = x W + b), built by TensorFlow with random
weights and batch-norm statistics and saved as a checkpoint (TensorBundle) the way rude_carnie's training does.

``build(labels)`` runs it once per label count in the oracle venv and returns the folder with the checkpoint,
``faces.npy`` (uint8 160x160 crops), ``logits.npy`` and ``softmax.npy`` (TensorFlow's outputs for their
prewhitened crops, as CompreFace computes them)."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tests.srcext import tensorflow_oracle as oracle
from tests.srcext.tf_facenet import SLIM_SHIMS

RUDE_CARNIE = SLIM_SHIMS + textwrap.dedent("""
    import sys
    import numpy as np
    from tf_slim.nets.inception_v3 import inception_v3_base
    out, labels = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(labels)
    norm = {"is_training": False, "decay": 0.9997, "epsilon": 0.001, "fused": True, "updates_collections": None}
    with tf.Graph().as_default() as graph:
        images = v1.placeholder(tf.float32, [None, 160, 160, 3], name="images")
        with v1.variable_scope("InceptionV3", "InceptionV3", [images]) as scope:
            with slim.arg_scope([slim.conv2d], weights_initializer=v1.truncated_normal_initializer(stddev=0.1),
                                activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm, normalizer_params=norm):
                net, _ = inception_v3_base(images, scope=scope)
                with v1.variable_scope("logits"):
                    net = slim.avg_pool2d(net, net.get_shape()[1:3], padding="VALID", scope="pool")
                    net = slim.flatten(net, scope="flatten")
        with v1.variable_scope("output") as scope:
            weights = tf.Variable(v1.truncated_normal([2048, labels], stddev=0.01), name="weights")
            biases = tf.Variable(tf.zeros([labels]), name="biases")
            logits = tf.add(tf.matmul(net, weights), biases, name=scope.name)
        probabilities = tf.nn.softmax(logits)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            for variable in v1.global_variables():
                shape = variable.get_shape().as_list()
                if variable.name.endswith("moving_mean:0"):
                    variable.load(rng.normal(0, 0.1, shape).astype(np.float32), session)
                elif variable.name.endswith("moving_variance:0"):
                    variable.load(rng.uniform(0.5, 1.5, shape).astype(np.float32), session)
                elif variable.name.endswith("beta:0"):
                    variable.load(rng.normal(0, 0.1, shape).astype(np.float32), session)
            faces = rng.integers(0, 256, (3, 160, 160, 3), dtype=np.uint8)
            faces[2] //= 4
            pixels = faces / 255.0
            mean = pixels.mean(axis=(1, 2, 3), keepdims=True)
            std = np.maximum(pixels.std(axis=(1, 2, 3), keepdims=True), 1.0 / np.sqrt(pixels[0].size))
            feed = {images: ((pixels - mean) / std).astype(np.float32)}
            spread = float(np.std(session.run(net, feed)))  # output weights scaled so logits are O(1)
            weights.load(rng.normal(0, 1.0 / (spread * np.sqrt(2048)), [2048, labels]).astype(np.float32), session)
            v1.train.Saver().save(session, out + "/model.ckpt", global_step=labels)
            result, raw = session.run([probabilities, logits], feed)
    np.save(out + "/faces.npy", faces)
    np.save(out + "/logits.npy", raw)
    np.save(out + "/softmax.npy", result)
""")


def build(labels: int) -> Path:
    """The folder with ``model.ckpt-<labels>.{index,data-00000-of-00001}``, ``faces.npy`` and ``softmax.npy``."""
    return oracle.built_once("rude-carnie", RUDE_CARNIE, str(labels), done="softmax.npy")
