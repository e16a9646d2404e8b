"""An ONNX recognition graph as a trainable torch module: for fine-tuning a calculator the service can load.

Our own small ONNX -> torch reader (onnx2torch needs torchvision, which does not import beside this torch):
initializers become parameters (BatchNormalization's mean and variance become buffers updated in training),
and ``forward`` runs the nodes in order with torch operators. Supported: Conv, BatchNormalization, Gemm,
MatMul, Add, Sub, Mul, Div, Max, Min, Relu, PRelu, Clip, Sigmoid, Flatten, Reshape, MaxPool, AveragePool,
GlobalAveragePool, Identity. A graph that scales the pixels itself ((x - a) * b before its first convolution,
as ``mobileface_v2``) takes the trainer's input, (x - 127.5) / 127.5, instead: the scale is folded into the
first convolution (exact when a = 127.5), so an export of the fine-tuned model needs no normalisation nodes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

TRAINER_MEAN, TRAINER_SCALE = 127.5, 127.5


class UnsupportedOnnx(ValueError):
    pass


def _attrs(node) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


class OnnxModule(nn.Module):
    """The graph's first input (N, 3, 112, 112) in trainer normalisation -> its first output."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.source = str(path)
        weights = {t.name: numpy_helper.to_array(t).copy() for t in model.graph.initializer}
        nodes = list(model.graph.node)
        nodes = self._fold_input_scaling(nodes, weights, model.graph.input[0].name)
        nodes = self._constant_identities(nodes, weights)
        self._untie(nodes, weights)
        batch_norm_stats = {name for n in nodes if n.op_type == "BatchNormalization" for name in n.input[3:5]}
        # activation thresholds (ReLU as Max(x, 0), ReLU6's Min(x, 6), Clip's bounds) are no weights to train
        batch_norm_stats |= {name for n in nodes if n.op_type in ("Max", "Min", "Clip") for name in n.input}
        self.names: dict[str, str] = {}
        used = {name for node in nodes for name in node.input}
        for name, value in weights.items():
            if name not in used:  # e.g. the input scaling folded into the first convolution
                continue
            key = f"t_{_safe(name)}"
            self.names[name] = key
            tensor = torch.from_numpy(np.asarray(value))
            if tensor.is_floating_point() and name not in batch_norm_stats:
                self.register_parameter(key, nn.Parameter(tensor.float()))
            else:
                self.register_buffer(key, tensor.float() if tensor.is_floating_point() else tensor)
        self.nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n)) for n in nodes]
        unknown = sorted({op for op, *_ in self.nodes} - set(OPS))
        if unknown:
            raise UnsupportedOnnx(f"{path}: the ONNX reader has no operator {', '.join(unknown)}")
        self.input_name = next(i.name for i in model.graph.input if i.name not in weights)
        #: fine-tuning on small batches: normalise with the stored statistics and leave them as they are
        self.frozen_batch_norm = False
        self.output_name = model.graph.output[0].name

    def layer_parameters(self) -> list[list[nn.Parameter]]:
        """Each node's parameters, in the graph's order (nodes without any left out)."""
        layers, seen = [], set()
        for _, inputs, _, _ in self.nodes:
            params = [getattr(self, self.names[n]) for n in inputs if n in self.names and n not in seen
                      and isinstance(getattr(self, self.names[n]), nn.Parameter)]
            seen.update(inputs)
            if params:
                layers.append(params)
        return layers

    def fold_batch_norm(self) -> int:
        """Fold every BatchNormalization that follows a Conv or Gemm into it (its stored statistics frozen):
        y = (W x + b - mean) g / sqrt(var + eps) + beta is the layer W' = W g / sqrt(var + eps) with bias
        (b - mean) g / sqrt(var + eps) + beta. Same outputs; returns how many were folded.

        Why: exporters' graphs often hold small weights that batch norm rescales by 1 / sqrt(var) (var ~ 1e-4
        in mobileface_v2), so a gradient step on W moves the output ~1 / var times more than on a normally
        scaled layer, and even lr 1e-3 destroys the features. Folded, the weights train at the scale they act.
        """
        producers = {outputs[0]: index for index, (_, _, outputs, _) in enumerate(self.nodes)}
        consumers: dict[str, int] = {}
        for _, inputs, _, _ in self.nodes:
            for name in inputs:
                consumers[name] = consumers.get(name, 0) + 1
        folded, kept = 0, []
        replaced: dict[int, tuple] = {}
        for index, node in enumerate(self.nodes):
            op, inputs, outputs, attrs = node
            source = producers.get(inputs[0])
            layer = self.nodes[source] if source is not None else None
            if op != "BatchNormalization" or layer is None or layer[0] not in ("Conv", "Gemm") \
                    or consumers.get(inputs[0], 0) != 1 or not self._foldable(layer):
                kept.append(index)
                continue
            replaced[source] = self._fold_into(replaced.get(source, layer), node)
            folded += 1
        self.nodes = [replaced.get(i, self.nodes[i]) for i in kept]
        return folded

    def _foldable(self, layer: tuple) -> bool:
        op, inputs, _, attrs = layer
        if op == "Gemm" and (attrs.get("transA") or not attrs.get("transB")):
            return False  # only x W^T + b, the layout exporters write for a linear layer
        return all(name in self.names and isinstance(getattr(self, self.names[name]), nn.Parameter)
                   for name in inputs[1:] if name)

    def _fold_into(self, layer: tuple, batch_norm: tuple) -> tuple:
        op, inputs, _, attrs = layer
        _, bn_inputs, bn_outputs, bn_attrs = batch_norm
        gamma, beta, mean, var = (getattr(self, self.names[n]).detach() for n in bn_inputs[1:5])
        factor = gamma / torch.sqrt(var + bn_attrs.get("epsilon", 1e-5))
        weight = getattr(self, self.names[inputs[1]])
        bias_name = inputs[2] if len(inputs) > 2 and inputs[2] else None
        bias = getattr(self, self.names[bias_name]).detach() if bias_name else torch.zeros_like(mean)
        scale = attrs.get("alpha", 1.0) if op == "Gemm" else 1.0
        bias = bias * (attrs.get("beta", 1.0) if op == "Gemm" else 1.0)
        with torch.no_grad():
            weight.mul_(scale * factor.reshape(-1, *([1] * (weight.dim() - 1))))
        if bias_name is None:
            bias_name = f"{inputs[1]}__folded_bias"
            self.names[bias_name] = f"t_{_safe(bias_name)}"
        self.register_parameter(self.names[bias_name], nn.Parameter((bias - mean) * factor + beta))
        for name in bn_inputs[1:5]:  # the batch norm's own tensors are gone from the graph
            delattr(self, self.names.pop(name))
        attrs = {**attrs, "alpha": 1.0, "beta": 1.0} if op == "Gemm" else attrs
        return op, [inputs[0], inputs[1], bias_name], list(bn_outputs), attrs

    @staticmethod
    def _constant_identities(nodes: list, weights: dict[str, np.ndarray]) -> list:
        """torch's exporter names a shared weight through Identity nodes: make each output a weight itself."""
        kept = []
        for node in nodes:
            if node.op_type == "Identity" and node.input[0] in weights:
                weights[node.output[0]] = weights[node.input[0]].copy()
            else:
                kept.append(node)
        return kept

    @staticmethod
    def _untie(nodes: list, weights: dict[str, np.ndarray]) -> None:
        """Exporters store equal tensors once (a fresh BN's ones and zeros): one copy per use, so that
        training moves each weight on its own and no statistic is also a parameter."""
        used: set[str] = set()
        for node in nodes:
            for position, name in enumerate(node.input):
                if name not in weights:
                    continue
                if name in used:
                    copy = f"{name}__{len(weights)}"
                    weights[copy] = weights[name].copy()
                    node.input[position] = name = copy
                used.add(name)

    @staticmethod
    def _fold_input_scaling(nodes: list, weights: dict[str, np.ndarray], data: str) -> list:
        """Drop a leading (x - a) * b and scale the first Conv's weights by 127.5 b (needs a = 127.5)."""
        if len(nodes) < 3 or nodes[0].op_type != "Sub" or nodes[1].op_type != "Mul" or nodes[0].input[0] != data:
            return nodes
        mean = float(np.asarray(weights[nodes[0].input[1]]).ravel()[0])
        scale = float(np.asarray(weights[nodes[1].input[1]]).ravel()[0])
        conv = nodes[2]
        if conv.op_type != "Conv" or conv.input[0] != nodes[1].output[0] or abs(mean - TRAINER_MEAN) > 1e-6:
            raise UnsupportedOnnx(f"input scaling (x - {mean}) * {scale} cannot be folded into the first Conv")
        weights[conv.input[1]] = weights[conv.input[1]] * np.float32(TRAINER_SCALE * scale)
        conv.input[0] = data
        return nodes[2:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {self.input_name: x}

        def get(name: str) -> torch.Tensor:
            return values[name] if name in values else getattr(self, self.names[name])

        for op, inputs, outputs, attrs in self.nodes:
            values[outputs[0]] = OPS[op](self, [get(i) if i else None for i in inputs], attrs, inputs)
        return values[self.output_name]


def _conv(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    pads = attrs.get("pads", [0, 0, 0, 0])
    x = args[0]
    if pads[:2] != pads[2:]:
        x, pads = F.pad(x, (pads[1], pads[3], pads[0], pads[2])), [0, 0, 0, 0]
    return F.conv2d(x, args[1], args[2] if len(args) > 2 else None, attrs.get("strides", [1, 1]), pads[:2],
                    attrs.get("dilations", [1, 1]), attrs.get("group", 1))


def _batch_norm(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    batch_statistics = module.training and not module.frozen_batch_norm
    return F.batch_norm(args[0], args[3], args[4], args[1], args[2], batch_statistics, 0.1,
                        attrs.get("epsilon", 1e-5))


def _gemm(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    a = args[0].t() if attrs.get("transA") else args[0]
    b = args[1].t() if attrs.get("transB") else args[1]
    out = attrs.get("alpha", 1.0) * (a @ b)
    return out + attrs.get("beta", 1.0) * args[2] if len(args) > 2 and args[2] is not None else out


def _pool(kind: str):
    def run(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
        pads = attrs.get("pads", [0, 0, 0, 0])
        x = args[0]
        if pads[:2] != pads[2:]:
            fill = -float("inf") if kind == "max" else 0.0
            x, pads = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=fill), [0, 0, 0, 0]
        pool = F.max_pool2d if kind == "max" else F.avg_pool2d
        return pool(x, attrs["kernel_shape"], attrs.get("strides", attrs["kernel_shape"]), pads[:2],
                    ceil_mode=bool(attrs.get("ceil_mode", 0)))
    return run


def _clip(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    low = args[1] if len(args) > 1 and args[1] is not None else attrs.get("min")
    high = args[2] if len(args) > 2 and args[2] is not None else attrs.get("max")
    return torch.clamp(args[0], None if low is None else float(low), None if high is None else float(high))


def _prelu(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    slope = args[1]
    return torch.where(args[0] >= 0, args[0], args[0] * slope)


def _reshape(module: OnnxModule, args: list, attrs: dict, names: list) -> torch.Tensor:
    shape = [int(s) for s in args[1].tolist()]
    shape = [args[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return args[0].reshape(shape)


OPS = {
    "Conv": _conv, "BatchNormalization": _batch_norm, "Gemm": _gemm,
    "MatMul": lambda m, a, at, n: a[0] @ a[1],
    "Add": lambda m, a, at, n: a[0] + a[1], "Sub": lambda m, a, at, n: a[0] - a[1],
    "Mul": lambda m, a, at, n: a[0] * a[1], "Div": lambda m, a, at, n: a[0] / a[1],
    "Max": lambda m, a, at, n: torch.maximum(a[0], a[1]), "Min": lambda m, a, at, n: torch.minimum(a[0], a[1]),
    "Relu": lambda m, a, at, n: torch.relu(a[0]), "PRelu": _prelu, "Clip": _clip,
    "Sigmoid": lambda m, a, at, n: torch.sigmoid(a[0]),
    "Flatten": lambda m, a, at, n: torch.flatten(a[0], at.get("axis", 1)),
    "Reshape": _reshape, "MaxPool": _pool("max"), "AveragePool": _pool("avg"),
    "GlobalAveragePool": lambda m, a, at, n: a[0].mean((2, 3), keepdim=True),
    "Identity": lambda m, a, at, n: a[0],
}


def onnx_backbone(path: Path) -> OnnxModule:
    return OnnxModule(Path(path))
