"""Small MXNet graphs written by hand (symbol JSON + params via our writer) that cover every supported op."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from srcext.mxnet import write_params


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join("None" if item is None else str(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


@dataclass
class SymbolWriter:
    """Builds the JSON MXNet 1.x writes: nodes, arg_nodes, heads, ``attrs`` of strings."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def var(self, name: str, value: np.ndarray | None = None, aux: bool = False) -> int:
        self.nodes.append({"op": "null", "name": name, "inputs": []})
        if value is not None:
            self.params[("aux:" if aux else "arg:") + name] = np.asarray(value)
        return len(self.nodes) - 1

    def op(self, op: str, name: str, inputs: list[int], **attrs: Any) -> int:
        self.nodes.append({"op": op, "name": name, "attrs": {key: _text(value) for key, value in attrs.items()},
                           "inputs": [[index, 0, 0] for index in inputs]})
        return len(self.nodes) - 1

    def document(self, heads: list[int]) -> dict[str, Any]:
        arg_nodes = [index for index, node in enumerate(self.nodes) if node["op"] == "null"]
        return {"nodes": self.nodes, "arg_nodes": arg_nodes, "node_row_ptr": list(range(len(self.nodes) + 1)),
                "heads": [[index, 0, 0] for index in heads], "attrs": {"mxnet_version": ["int", 10901]}}

    def save(self, folder: Path, prefix: str, heads: list[int]) -> tuple[Path, Path]:
        symbol, params = folder / f"{prefix}-symbol.json", folder / f"{prefix}-0000.params"
        symbol.write_text(json.dumps(self.document(heads)))
        write_params(params, self.params)
        return symbol, params


@dataclass(frozen=True)
class Case:
    name: str
    shape: tuple[int, ...]
    build: Callable[[SymbolWriter, int, np.random.Generator], list[int]]


def _w(rng: np.random.Generator, *shape: int, scale: float = 0.5) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _conv(s, x, r):
    w1 = s.var("c1_weight", _w(r, 6, 2, 3, 3))
    b1 = s.var("c1_bias", _w(r, 6))
    c1 = s.op("Convolution", "c1", [x, w1, b1], kernel=(3, 3), stride=(2, 2), pad=(1, 1), dilate=(2, 2),
              num_filter=6, num_group=2)
    w2 = s.var("c2_weight", _w(r, 4, 6, 1, 1))
    return [s.op("Convolution", "c2", [c1, w2], kernel=(1, 1), num_filter=4, no_bias=True)]


def _deconv(s, x, r):
    w = s.var("d_weight", _w(r, 4, 3, 3, 3))
    b = s.var("d_bias", _w(r, 6))
    d1 = s.op("Deconvolution", "d1", [x, w, b], kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 1), num_filter=6,
              num_group=2, no_bias=False)
    w2 = s.var("d2_weight", _w(r, 4, 2, 2, 2))
    return [d1, s.op("Deconvolution", "d2", [x, w2], kernel=(2, 2), stride=(2, 2), num_filter=2)]


def _bn(s, x, r):
    def stats(prefix):
        return [s.var(prefix + "_gamma", _w(r, 4) + 1.5), s.var(prefix + "_beta", _w(r, 4)),
                s.var(prefix + "_moving_mean", _w(r, 4), aux=True),
                s.var(prefix + "_moving_var", np.abs(_w(r, 4)) + 0.1, aux=True)]
    b1 = s.op("BatchNorm", "bn1", [x, *stats("bn1")], eps=2e-5, fix_gamma=True, momentum=0.9)
    b2 = s.op("BatchNorm", "bn2", [b1, *stats("bn2")], fix_gamma=False, use_global_stats=True)
    return [b2, s.op("BatchNorm", "bn3", [x, *stats("bn3")])]  # defaults: fix_gamma=True, eps=1e-3


def _activations(s, x, r):
    heads = [s.op("Activation", f"act_{kind}", [x], act_type=kind)
             for kind in ("relu", "sigmoid", "tanh", "softrelu", "softsign")]
    gamma = s.var("prelu_gamma", _w(r, 4))
    heads.append(s.op("LeakyReLU", "prelu", [x, gamma], act_type="prelu"))
    heads += [s.op("LeakyReLU", "leaky", [x], act_type="leaky", slope=0.1), s.op("LeakyReLU", "elu", [x], act_type="elu"),
              s.op("LeakyReLU", "selu", [x], act_type="selu"), s.op("LeakyReLU", "gelu", [x], act_type="gelu"),
              s.op("LeakyReLU", "rrelu", [x], act_type="rrelu")]
    return heads


def _pooling(s, x, r):
    heads = [s.op("Pooling", "max_valid", [x], kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"),
             s.op("Pooling", "max_full", [x], kernel=(3, 3), stride=(2, 2), pool_type="max", pooling_convention="full"),
             s.op("Pooling", "avg_full", [x], kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                  pooling_convention="full"),
             s.op("Pooling", "avg_full_nopad", [x], kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                  pooling_convention="full", count_include_pad=False),
             s.op("Pooling", "avg_valid", [x], kernel=(2, 2), stride=(2, 2), pool_type="avg"),
             s.op("Pooling", "sum_pool", [x], kernel=(2, 3), stride=(1, 2), pad=(1, 1), pool_type="sum"),
             s.op("Pooling", "gmax", [x], kernel=(1, 1), global_pool=True, pool_type="max"),
             s.op("Pooling", "gavg", [x], kernel=(7, 7), global_pool=True, pool_type="avg")]
    return heads


def _dense(s, x, r):
    w = s.var("fc1_weight", _w(r, 5, 4 * 5 * 5, scale=0.1))
    b = s.var("fc1_bias", _w(r, 5))
    fc1 = s.op("FullyConnected", "fc1", [x, w, b], num_hidden=5)
    flat = s.op("Flatten", "flat", [x])
    w2 = s.var("fc2_weight", _w(r, 3, 100, scale=0.1))
    fc2 = s.op("FullyConnected", "fc2", [flat, w2], num_hidden=3, no_bias=True)
    rs = s.op("Reshape", "to3d", [x], shape=(0, 0, -1))
    w3 = s.var("fc3_weight", _w(r, 7, 25))
    b3 = s.var("fc3_bias", _w(r, 7))
    return [fc1, fc2, s.op("FullyConnected", "fc3", [rs, w3, b3], num_hidden=7, flatten=False)]


def _reshape(s, x, r):
    return [s.op("Reshape", "r1", [x], shape=(0, -1)), s.op("Reshape", "r2", [x], shape=(-3, -2)),
            s.op("Reshape", "r3", [x], shape=(0, -4, 2, -1, -2)), s.op("Reshape", "r4", [x], shape=(-1, 5), reverse=True),
            s.op("Reshape", "r5", [x], shape=(0, 4, 25)), s.op("Reshape", "r6", [x], shape=(-1,))]


def _arithmetic(s, x, r):
    y = s.op("Activation", "y", [x], act_type="sigmoid")
    c = s.var("chan", np.abs(_w(r, 1, 4, 1, 1)) + 0.5)
    heads = [s.op(op, op.strip("_"), [x, y]) for op in ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div",
                                                        "_plus", "_minus", "_mul", "_div", "_maximum", "_minimum")]
    heads += [s.op(op, op, [x, c]) for op in ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div",
                                              "broadcast_maximum", "broadcast_minimum")]
    heads += [s.op("_power", "power", [y, y]), s.op("broadcast_power", "bpower", [y, c])]
    heads.append(s.op("add_n", "addn", [x, y, x], num_args=3))
    heads.append(s.op("ElementWiseSum", "ewsum", [x, y], num_args=2))
    return heads


def _scalars(s, x, r):
    y = s.op("Activation", "pos", [x], act_type="sigmoid")
    ops = ("_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar",
           "_maximum_scalar", "_minimum_scalar", "_power_scalar", "_rpower_scalar")
    heads = [s.op(op, op.strip("_"), [y], scalar=1.75) for op in ops]
    heads.append(s.op("clip", "clip", [x], a_min=-0.5, a_max=0.75))
    return heads


def _misc(s, x, r):
    return [s.op("Dropout", "drop", [x], p=0.5),
            s.op("SoftmaxActivation", "sm_inst", [x]), s.op("SoftmaxActivation", "sm_chan", [x], mode="channel"),
            s.op("softmax", "sm_axis", [x], axis=1, temperature=2.0), s.op("softmax", "sm_last", [x]),
            s.op("L2Normalization", "l2_inst", [x]), s.op("L2Normalization", "l2_chan", [x], mode="channel"),
            s.op("L2Normalization", "l2_spat", [x], mode="spatial", eps=1e-6),
            s.op("transpose", "tr", [x], axes=(0, 2, 3, 1)), s.op("transpose", "tr_rev", [x])]


def _slicing(s, x, r):
    ref = s.var("ref")
    return [s.op("slice", "sl1", [x], begin=(None, 1, 0), end=(None, 3, -1)),
            s.op("slice", "sl2", [x], begin=(None, None, None, 4), end=(None, None, None, 0), step=(1, -1, 2, -2)),
            s.op("slice_axis", "sla", [x], axis=2, begin=1, end=-1), s.op("slice_axis", "slb", [x], axis=-1, begin=2, end=None),
            s.op("Crop", "crop_hw", [x], num_args=1, offset=(1, 2), h_w=(3, 2)),
            s.op("Crop", "crop_center", [x], num_args=1, h_w=(2, 3), center_crop=True),
            s.op("Crop", "crop_like", [x, ref], num_args=2, center_crop=True),
            s.op("Concat", "cat", [x, x, x], dim=1, num_args=3), s.op("Concat", "cat_last", [x, x], dim=-1, num_args=2)]


def _upsampling(s, x, r):
    small = s.op("Pooling", "half", [x], kernel=(2, 2), stride=(2, 2), pool_type="max")
    return [s.op("UpSampling", "up2", [x], scale=2, sample_type="nearest", num_args=1),
            s.op("UpSampling", "up_multi", [x, small], scale=2, sample_type="nearest", num_args=2),
            s.op("UpSampling", "up_sum", [x, small], scale=1, sample_type="nearest", num_args=2, multi_input_mode="sum")]


CASES = [Case("conv", (2, 4, 9, 9), _conv), Case("deconv", (2, 4, 5, 5), _deconv), Case("batchnorm", (2, 4, 5, 5), _bn),
         Case("activations", (2, 4, 5, 5), _activations), Case("pooling", (2, 4, 10, 11), _pooling),
         Case("dense", (2, 4, 5, 5), _dense), Case("reshape", (2, 4, 5, 5), _reshape),
         Case("arithmetic", (2, 4, 5, 5), _arithmetic), Case("scalars", (2, 4, 5, 5), _scalars),
         Case("misc", (2, 4, 5, 5), _misc), Case("slicing", (2, 4, 6, 7), _slicing),
         Case("upsampling", (2, 4, 6, 6), _upsampling)]
EXTRA_INPUTS = {"slicing": {"ref": (2, 4, 4, 5)}}


def build_case(case: Case, folder: Path, seed: int = 0) -> tuple[Path, Path, dict[str, np.ndarray], list[str]]:
    """Write the case's files; returns symbol, params, random inputs and the head names."""
    rng = np.random.default_rng(seed)
    writer = SymbolWriter()
    heads = case.build(writer, writer.var("data"), rng)
    symbol, params = writer.save(folder, case.name, heads)
    inputs = {"data": rng.standard_normal(case.shape).astype(np.float32)}
    for name, shape in EXTRA_INPUTS.get(case.name, {}).items():
        inputs[name] = rng.standard_normal(shape).astype(np.float32)
    return symbol, params, inputs, [writer.nodes[index]["name"] for index in heads]
