"""Test helpers: a model store holding a real file under a name of one's own, tiny ONNX graphs, faces."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnx
from onnx import TensorProto, helper

from facecore.device import Device
from facecore.model_store import ModelStore
from facecore.plugin_api import BoundingBox, DetectedFace, Face, Plugin

PluginT = TypeVar("PluginT", bound=Plugin)


def local_store(root: Path, backend: str, slug: str, name: str, source: Path) -> ModelStore:
    """A store whose ``<backend>/<slug>/<name>/<name>.onnx`` is a copy of ``source`` (as a user would copy it)."""
    folder = root / backend / slug / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / f"{name}.onnx")
    return ModelStore(root, offline=True)


def load_from(store: ModelStore, plugin: PluginT, device: Device | None = None) -> PluginT:
    """``plugin`` loaded from its own part of ``store``, as the core loads it (errors left as they are)."""
    plugin.load(store.context_for(plugin, device or Device()))
    return plugin


def tiny_embedder(path: Path, size: int = 112, dims: int = 8, seed: int = 0) -> Path:
    """An ArcFace-shaped graph [N, 3, size, size] -> [N, dims] (a strided conv then a dense layer), for plumbing."""
    rng = np.random.default_rng(seed)
    cells = (size // 16) ** 2 * 2
    conv = helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 16, 16], rng.normal(size=2 * 3 * 256).astype(np.float32))
    dense = helper.make_tensor("d", TensorProto.FLOAT, [cells, dims], rng.normal(size=cells * dims).astype(np.float32))
    nodes = [
        helper.make_node("Conv", ["input.1", "w"], ["c"], strides=[16, 16]),
        helper.make_node("Flatten", ["c"], ["f"]),
        helper.make_node("MatMul", ["f", "d"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", dims])], initializer=[conv, dense])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, str(path))
    return path


def two_output_graph(path: Path) -> Path:
    """A graph with outputs no detector layout has."""
    nodes = [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Identity", ["x"], ["b"])]
    graph = helper.make_graph(nodes, "odd", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 8, 8]) for n in "ab"])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.imread(str(path))[:, :, ::-1])


def whole_face(image: np.ndarray) -> Face:
    height, width = image.shape[:2]
    return Face(image, DetectedFace(BoundingBox(0, 0, width, height), 1.0), whole_image=True)


def landmarks106_stand_in(path: Path) -> Path:
    """A stand-in for 2d106det (no weights reachable): 212 outputs, all 0, so every point is the crop centre."""
    nodes = [helper.make_node("ReduceMean", ["data"], ["m"], axes=[1, 2, 3], keepdims=0),
             helper.make_node("Unsqueeze", ["m", "one"], ["u"]),
             helper.make_node("Mul", ["u", "zeros"], ["fc1"])]
    graph = helper.make_graph(nodes, "lm", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 192, 192])],
                              [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 212])],
                              initializer=[helper.make_tensor("one", TensorProto.INT64, [1], [1]),
                                           helper.make_tensor("zeros", TensorProto.FLOAT, [1, 212], [0.0] * 212)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path
