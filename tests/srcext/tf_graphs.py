"""TensorFlow-side scripts (run in the oracle venv) that build small frozen graphs covering each converted op,
with TensorFlow's own outputs for a random input, written as ``<case>.pb`` / ``<case>_x.npy`` / ``<case>_y.npy``."""
from __future__ import annotations

import textwrap

OP_ZOO = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    tf.compat.v1.disable_v2_behavior()  # v1 control flow: tf.cond writes Switch/Merge, as TF 1.x graphs hold
    v1, nn = tf.compat.v1, tf.nn
    out = sys.argv[1]
    rng = np.random.default_rng(0)

    def w(*shape, scale=0.3):
        return tf.constant(rng.normal(0, scale, shape).astype(np.float32))

    def conv_stack(x):
        y = nn.conv2d(x, w(3, 3, 3, 8), strides=2, padding="SAME")
        y = nn.bias_add(y, w(8))
        y = v1.nn.fused_batch_norm(y, w(8) + 1, w(8), mean=w(8), variance=tf.abs(w(8)) + 0.5, epsilon=1e-3,
                                   is_training=False)[0]
        y = nn.relu6(y)
        y = nn.conv2d(y, w(3, 3, 8, 8), strides=1, padding="VALID", dilations=2)
        y = nn.depthwise_conv2d(y, w(3, 3, 8, 2), strides=[1, 1, 1, 1], padding="SAME")
        y = nn.max_pool2d(y, 3, 2, "SAME")
        return nn.avg_pool2d(y, 3, 2, "SAME")

    def head(x):
        y = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        y = tf.squeeze(y, axis=[1, 2])
        y = tf.matmul(y, w(6, 3), transpose_b=True) - w(6)
        y = tf.concat([tf.sigmoid(y), tf.tanh(y) / 2.0, nn.leaky_relu(y, 0.1)], axis=1)
        y = tf.maximum(y, 0.05) * tf.math.rsqrt(tf.reduce_sum(tf.square(y), axis=1, keepdims=True))
        return nn.softmax(tf.expand_dims(y, 1) + tf.transpose(tf.expand_dims(y, 1), [0, 1, 2]))

    def padded(x):
        y = tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]])
        y = nn.conv2d(y, w(2, 2, 3, 4), strides=[1, 2, 1, 1], padding="VALID")
        return tf.reshape(y, [tf.shape(y)[0], -1])

    def conditional(x):
        phase = v1.placeholder(tf.bool, shape=[], name="phase")
        y = nn.conv2d(x, w(3, 3, 3, 4), strides=1, padding="SAME")
        y = v1.cond(phase, lambda: nn.dropout(y, rate=0.5), lambda: y * 2.0 + 1.0)
        return tf.identity(y)

    cases = {"conv_stack": (conv_stack, (2, 17, 15, 3)), "head": (head, (2, 5, 4, 3)),
             "padded": (padded, (2, 9, 8, 3)), "conditional": (conditional, (2, 6, 6, 3))}
    for name, (build, shape) in cases.items():
        with tf.Graph().as_default() as graph:
            x = v1.placeholder(tf.float32, shape=(None,) + shape[1:], name="x")
            tf.identity(build(x), name="y")
            value = rng.uniform(-1, 1, shape).astype(np.float32)
            with v1.Session(graph=graph) as session:
                feeds = {x: value}
                if name == "conditional":
                    feeds["phase:0"] = False
                result = session.run("y:0", feeds)
            open(f"{out}/{name}.pb", "wb").write(graph.as_graph_def().SerializeToString())
            np.save(f"{out}/{name}_x.npy", value)
            np.save(f"{out}/{name}_y.npy", result)
""")
