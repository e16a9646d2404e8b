"""A Keras Inception-v3 3-class classifier like CompreFace's mask model (``InceptionV3`` base without top on a
100x100 input, global average pool, softmax Dense(3)), built by Keras itself with random weights and random
batch-norm statistics, saved both as HDF5 and as a SavedModel directory (as CompreFace's zip holds).

``build()`` runs it once in the oracle venv: the folder holds ``model.h5``, ``saved/`` (the SavedModel as
TensorFlow 2.15 writes it, Keras metadata in ``keras_metadata.pb``), ``saved_tf21/`` (the same with the metadata
on the root object of ``saved_model.pb``, as TensorFlow 2.1-2.4 wrote it and CompreFace's zip holds),
``faces.npy`` (uint8 100x100 crops) and ``keras.npy`` (Keras's probabilities for the crops as float RGB in [0, 1])."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tests.srcext import tensorflow_oracle as oracle

KERAS_MASK = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    out = sys.argv[1]
    rng = np.random.default_rng(5)
    tf.keras.utils.set_random_seed(5)
    base = tf.keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(100, 100, 3))
    x = tf.keras.layers.GlobalAveragePooling2D()(base.output)
    outputs = tf.keras.layers.Dense(3, activation="softmax", name="mask")(x)
    model = tf.keras.Model(base.input, outputs)
    for layer in model.layers:  # weights at a sane scale, random batch-norm statistics
        if isinstance(layer, tf.keras.layers.Conv2D):
            kernel = layer.get_weights()[0]
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights([rng.normal(0, np.sqrt(2.0 / fan_in), kernel.shape).astype(np.float32)])
        elif isinstance(layer, tf.keras.layers.BatchNormalization):
            values = [rng.normal(0, 0.1, w.shape).astype(np.float32) for w in layer.get_weights()]
            values[-1] = rng.uniform(0.5, 1.5, values[-1].shape).astype(np.float32)
            layer.set_weights(values)
    faces = rng.integers(0, 256, (4, 100, 100, 3), dtype=np.uint8)
    features = tf.keras.Model(model.input, x)(faces / 255.0).numpy()
    dense = model.get_layer("mask")
    dense.set_weights([rng.normal(0, 1.0 / (features.std() * np.sqrt(features.shape[1])),
                                  (features.shape[1], 3)).astype(np.float32), np.zeros(3, np.float32)])
    model.save(out + "/model.h5")
    model.save(out + "/saved", save_format="tf")
    # TensorFlow 2.1-2.4 (CompreFace's mask model) kept the Keras metadata in saved_model.pb, on the root object;
    # the same model laid out that way, which Keras still loads:
    import shutil
    from keras.protobuf import saved_metadata_pb2
    from tensorflow.core.protobuf import saved_model_pb2
    shutil.copytree(out + "/saved", out + "/saved_tf21")
    metadata = saved_metadata_pb2.SavedMetadata()
    metadata.ParseFromString(open(out + "/saved_tf21/keras_metadata.pb", "rb").read())
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString(open(out + "/saved_tf21/saved_model.pb", "rb").read())
    nodes = saved.meta_graphs[0].object_graph_def.nodes
    for entry in metadata.nodes:
        nodes[entry.node_id].user_object.metadata = entry.metadata
    open(out + "/saved_tf21/saved_model.pb", "wb").write(saved.SerializeToString())
    import os
    os.remove(out + "/saved_tf21/keras_metadata.pb")
    np.save(out + "/faces.npy", faces)
    np.save(out + "/keras.npy", model(faces / 255.0, training=False).numpy())
""")


def build() -> Path:
    return oracle.built_once("keras-mask", KERAS_MASK, done="keras.npy")
