"""P-, R- and O-Net as small ONNX graphs built in memory from the Keras weights the ``mtcnn`` pip
package ships (``mtcnn/assets/weights/*.lz4``, a joblib list of numpy arrays in Keras layer order).

Every graph takes raw RGB pixels, NHWC float32 in [0, 255], and normalises them itself
(``(x - 127.5) / 128``), so callers never have to remember the scaling. Outputs:

* P-Net, any H, W >= 12: ``boxes`` (N, 4, h, w) window offsets, ``scores`` (N, 2, h, w) softmax;
* R-Net, 24x24: ``boxes`` (N, 4), ``scores`` (N, 2);
* O-Net, 48x48: ``boxes`` (N, 4), ``landmarks`` (N, 10) as x1..x5 then y1..y5, ``scores`` (N, 2).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8  # what onnxruntime >= 1.11 reads; newer onnx writers default to versions it may refuse
MEAN = 127.5
SCALE = 1.0 / 128.0


@dataclass(frozen=True)
class NetLayout:
    """The layer sequence of one network: how many conv blocks, with which pooling, then dense layers."""

    input_size: int | None  # None: fully convolutional (P-Net)
    #: per conv block (conv + PReLU): the max-pool after it as (size, stride, "same"/"valid"), or None
    pools: tuple[tuple[int, int, str] | None, ...]
    dense: int | None  # width of the hidden dense layer (R/O-Net), None for P-Net
    heads: tuple[tuple[str, int], ...]  # (output name, width) in weight-file order; "scores" gets a softmax
    outputs: tuple[str, ...] = field(default=("boxes", "scores"))


PNET = NetLayout(None, ((2, 2, "same"), None, None), None, (("boxes", 4), ("scores", 2)))
RNET = NetLayout(24, ((3, 2, "same"), (3, 2, "valid"), None), 128, (("boxes", 4), ("scores", 2)))
ONET = NetLayout(48, ((3, 2, "same"), (3, 2, "valid"), (2, 2, "same"), None), 256,
                 (("boxes", 4), ("landmarks", 10), ("scores", 2)), ("boxes", "landmarks", "scores"))
LAYOUTS = {"pnet": PNET, "rnet": RNET, "onet": ONET}


def load_weights(path: Path) -> list[np.ndarray]:
    """The joblib/lz4 list of float32 arrays of one network."""
    import joblib

    return [np.asarray(w, dtype=np.float32) for w in joblib.load(path)]


class _Graph:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def const(self, value: np.ndarray, name: str) -> str:
        full = f"{name}_{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), full))
        return full

    def node(self, op: str, inputs: Sequence[str], output: str | None = None, **attrs: Any) -> str:
        self.count += 1
        out = output or f"{op.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out


def build(layout: NetLayout, weights: Sequence[np.ndarray]) -> bytes:
    """Serialised ONNX model of ``layout`` with ``weights`` (Keras order: kernel, bias, PReLU alpha ...)."""
    queue = list(weights)
    g = _Graph()
    x = g.node("Transpose", ["image"], perm=[0, 3, 1, 2])
    x = g.node("Sub", [x, g.const(np.array(MEAN, np.float32), "mean")])
    x = g.node("Mul", [x, g.const(np.array(SCALE, np.float32), "scale")])
    for pool in layout.pools:
        kernel, bias, alpha = queue.pop(0), queue.pop(0), queue.pop(0)
        x = g.node("Conv", [x, g.const(kernel.transpose(3, 2, 0, 1), "w"), g.const(bias, "b")])
        x = g.node("PRelu", [x, g.const(alpha.reshape(-1, 1, 1), "alpha")])
        if pool is not None:
            size, stride, padding = pool
            x = g.node("MaxPool", [x], kernel_shape=[size, size], strides=[stride, stride],
                       auto_pad="SAME_UPPER" if padding == "same" else "VALID")
    if layout.dense is not None:
        # Keras permutes NHWC to NWHC before flattening: the dense rows are ordered (w, h, c).
        x = g.node("Transpose", [x], perm=[0, 3, 2, 1])
        x = g.node("Flatten", [x], axis=1)
        kernel, bias, alpha = queue.pop(0), queue.pop(0), queue.pop(0)
        x = g.node("Gemm", [x, g.const(kernel, "w"), g.const(bias, "b")])
        x = g.node("PRelu", [x, g.const(alpha, "alpha")])
    for name, _width in layout.heads:
        kernel, bias = queue.pop(0), queue.pop(0)
        if layout.dense is None:  # P-Net's heads are 1x1 convolutions
            head = g.node("Conv", [x, g.const(kernel.transpose(3, 2, 0, 1), "w"), g.const(bias, "b")])
        else:
            head = g.node("Gemm", [x, g.const(kernel, "w"), g.const(bias, "b")])
        if name == "scores":
            g.node("Softmax", [head], name, axis=1)  # over the (not face, face) channel
        else:
            g.node("Identity", [head], name)
    if queue:
        raise ValueError(f"{len(queue)} weight arrays left over: the file does not match the layout")
    side = layout.input_size
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", side or "h", side or "w", 3])
    widths = dict(layout.heads)
    grid = [] if side else ["y", "x"]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", widths[name], *grid])
               for name in layout.outputs]
    graph = helper.make_graph(g.nodes, "mtcnn", [image], outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="facecore")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()
