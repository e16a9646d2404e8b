"""Gluon model-zoo classifiers rebuilt from a parameters file alone: ``mobilenet_v2_1_0`` and ``resnet18_v1``.

Gluon's ``save_parameters`` stores weights only, named after the block structure (``features.3.out.0.weight``,
``features.5.0.downsample.1.running_var``, ``output.weight``); the network itself is Python code in
``mxnet.gluon.model_zoo.vision``. We write the same network as an MXNet symbol (the ops gluon's blocks call:
Convolution without bias, BatchNorm with gamma and eps 1e-5, ReLU or clip(0, 6), global average pooling)
whose variables carry those names, and hand it to :func:`srcext.mxnet.convert`. Channel and class counts come
from the weights' shapes; strides, paddings and shortcuts are the model zoo's fixed definitions.

Files written by the older ``save_params`` (``collect_params().save``) name parameters by gluon's global
counters instead (``mobilenetv20_features_conv0_weight``); they hold the same parameters in the same
(creation) order, so they are matched by position, each shape checked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import onnx

from .convert import convert
from .errors import MxnetConversionError
from .params import read_params, split_params

#: gluon.nn.BatchNorm's defaults (model_zoo leaves them as they are)
BN_EPS = 1e-5
BN_MOMENTUM = 0.9
BN_PARTS = ("gamma", "beta", "running_mean", "running_var")
#: MobileNetV2 1.0: (output channels, stride) of its 17 LinearBottlenecks; expansion 1 for the first, else 6.
MOBILENET_V2_BLOCKS = ((16, 1), (24, 2), (24, 1), (32, 2), (32, 1), (32, 1), (64, 2), (64, 1), (64, 1), (64, 1),
                       (96, 1), (96, 1), (96, 1), (160, 2), (160, 1), (160, 1), (320, 1))
#: ResNet-18 v1: two BasicBlocks per stage; the first block of stages 2-4 halves the resolution.
RESNET18_STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))


@dataclass
class _ParamResolver:
    """Hands out parameters by structural name: directly, or by position for a legacy ``save_params`` file."""

    params: Mapping[str, np.ndarray]
    arch: str
    by_position: bool = False
    used: list[str] = field(default_factory=list)  # structural names, in request order
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_position = bool(self.params) and not any("." in name for name in self.params)
        self._stored = list(self.params.items())

    def take(self, name: str) -> np.ndarray:
        if self.by_position:
            index = len(self.used)
            if index >= len(self._stored):
                raise MxnetConversionError(f"gluon {self.arch}: the file holds {len(self._stored)} parameters, "
                                           f"fewer than the network needs (no value for {name!r})")
            stored_name, value = self._stored[index]
            self._check_part(name, stored_name)
        elif name in self.params:
            value = self.params[name]
        else:
            raise MxnetConversionError(f"gluon {self.arch}: parameter {name!r} is missing from the file "
                                       f"({len(self.params)} parameters)")
        self.used.append(name)
        self.values[name] = np.asarray(value)
        return self.values[name]

    def _check_part(self, name: str, stored_name: str) -> None:
        """A legacy name ends like the structural one (``_weight``, ``_running_var``): a cheap order check."""
        part = name.rsplit(".", 1)[-1]
        if not stored_name.endswith("_" + part):
            raise MxnetConversionError(f"gluon {self.arch}: parameter {len(self.used)} of the file is "
                                       f"{stored_name!r}, where the network has {name!r}")

    def finish(self) -> None:
        """Every stored parameter must belong to the network: an extra one means another architecture."""
        extra = (len(self._stored) - len(self.used)) if self.by_position else \
            len(set(self.params) - set(self.used))
        if extra:
            names = [n for n, _ in self._stored[len(self.used):]] if self.by_position else \
                sorted(set(self.params) - set(self.used))
            raise MxnetConversionError(f"gluon {self.arch}: {extra} parameter(s) not part of the network, "
                                       f"e.g. {names[:3]} (another architecture?)")


class _SymbolWriter:
    """Writes the nodes of an MXNet symbol document, tracking each output's channel count."""

    def __init__(self, resolver: _ParamResolver) -> None:
        self.resolver = resolver
        self.nodes: list[dict[str, Any]] = []
        self.channels: dict[int, int] = {}
        self.data = self._add("null", "data", [])
        self.channels[self.data] = 3

    def _add(self, op: str, name: str, inputs: list[int], **attrs: Any) -> int:
        self.nodes.append({"op": op, "name": name, "inputs": [[i, 0, 0] for i in inputs],
                           "attrs": {key: str(value) for key, value in attrs.items()}})
        return len(self.nodes) - 1

    def _param(self, name: str) -> tuple[int, np.ndarray]:
        value = self.resolver.take(name)
        return self._add("null", name, []), value

    def _op(self, op: str, name: str, inputs: list[int], channels: int, **attrs: Any) -> int:
        index = self._add(op, name, inputs, **attrs)
        self.channels[index] = channels
        return index

    def conv(self, prefix: str, x: int, kernel: int, stride: int, pad: int, depthwise: bool = False) -> int:
        weight, value = self._param(f"{prefix}.weight")
        groups = self.channels[x] if depthwise else 1
        if value.ndim != 4 or value.shape[2:] != (kernel, kernel) or value.shape[1] * groups != self.channels[x]:
            raise MxnetConversionError(f"gluon {self.resolver.arch}: {prefix}.weight has shape {value.shape}; "
                                       f"expected a {kernel}x{kernel} kernel over {self.channels[x]} channels"
                                       + (" (depthwise)" if depthwise else ""))
        return self._op("Convolution", prefix, [x, weight], int(value.shape[0]), kernel=(kernel, kernel),
                        stride=(stride, stride), pad=(pad, pad), num_filter=int(value.shape[0]), num_group=groups,
                        no_bias=True)

    def batchnorm(self, prefix: str, x: int) -> int:
        inputs = [x]
        for part in BN_PARTS:
            index, value = self._param(f"{prefix}.{part}")
            if value.shape != (self.channels[x],):
                raise MxnetConversionError(f"gluon {self.resolver.arch}: {prefix}.{part} has shape {value.shape}, "
                                           f"expected ({self.channels[x]},)")
            inputs.append(index)
        return self._op("BatchNorm", prefix, inputs, self.channels[x], eps=BN_EPS, momentum=BN_MOMENTUM,
                        fix_gamma=False)

    def relu(self, name: str, x: int) -> int:
        return self._op("Activation", name, [x], self.channels[x], act_type="relu")

    def relu6(self, name: str, x: int) -> int:
        return self._op("clip", name, [x], self.channels[x], a_min=0.0, a_max=6.0)

    def add(self, name: str, a: int, b: int) -> int:
        return self._op("elemwise_add", name, [a, b], self.channels[a])

    def global_avg_pool(self, name: str, x: int) -> int:
        return self._op("Pooling", name, [x], self.channels[x], kernel=(1, 1), global_pool=True, pool_type="avg")

    def flatten(self, name: str, x: int) -> int:
        return self._op("Flatten", name, [x], self.channels[x])

    def dense(self, prefix: str, x: int) -> int:
        weight, value = self._param(f"{prefix}.weight")
        bias, bias_value = self._param(f"{prefix}.bias")
        if value.ndim != 2 or value.shape[1] != self.channels[x] or bias_value.shape != value.shape[:1]:
            raise MxnetConversionError(f"gluon {self.resolver.arch}: {prefix} weight {value.shape} / bias "
                                       f"{bias_value.shape} do not fit {self.channels[x]} inputs")
        return self._op("FullyConnected", prefix, [x, weight, bias], int(value.shape[0]),
                        num_hidden=int(value.shape[0]), flatten=True)

    def softmax(self, name: str, x: int) -> int:
        return self._op("softmax", name, [x], self.channels[x], axis=-1)

    def document(self, head: int) -> dict[str, Any]:
        return {"nodes": self.nodes, "heads": [[head, 0, 0]],
                "arg_nodes": [i for i, node in enumerate(self.nodes) if node["op"] == "null"]}


def _mobilenet_v2_1_0(w: _SymbolWriter) -> int:
    """model_zoo ``MobileNetV2(multiplier=1.0)``: conv-bn-relu6 stem, 17 inverted residuals, 1x1 conv to 1280,
    global pooling, a 1x1 convolution (no bias) to the classes, flatten."""
    x = w.relu6("features.2", w.batchnorm("features.1", w.conv("features.0", w.data, 3, 2, 1)))
    for number, (channels, stride) in enumerate(MOBILENET_V2_BLOCKS):
        block = f"features.{3 + number}.out"
        entry = x
        y = w.relu6(f"{block}.2", w.batchnorm(f"{block}.1", w.conv(f"{block}.0", x, 1, 1, 0)))
        y = w.relu6(f"{block}.5", w.batchnorm(f"{block}.4", w.conv(f"{block}.3", y, 3, stride, 1, depthwise=True)))
        y = w.batchnorm(f"{block}.7", w.conv(f"{block}.6", y, 1, 1, 0))
        if w.channels[y] != channels:
            raise MxnetConversionError(f"gluon mobilenet_v2_1_0: block {3 + number} has {w.channels[y]} output "
                                       f"channels, MobileNetV2 1.0 has {channels}")
        x = w.add(f"features.{3 + number}.add", y, entry) if stride == 1 and w.channels[entry] == channels else y
    last = 3 + len(MOBILENET_V2_BLOCKS)
    x = w.relu6(f"features.{last + 2}", w.batchnorm(f"features.{last + 1}", w.conv(f"features.{last}", x, 1, 1, 0)))
    x = w.global_avg_pool(f"features.{last + 3}", x)
    return w.flatten("output.1", w.conv("output.0", x, 1, 1, 0))


def _resnet18_v1(w: _SymbolWriter) -> int:
    """model_zoo ``ResNetV1(BasicBlockV1, [2, 2, 2, 2])``: 7x7/2 stem, 3x3/2 max pool, four stages of two basic
    blocks (a 1x1 projection where the shape changes), global pooling, a dense layer to the classes."""
    x = w.relu("features.2", w.batchnorm("features.1", w.conv("features.0", w.data, 7, 2, 3)))
    x = w._op("Pooling", "features.3", [x], w.channels[x], kernel=(3, 3), stride=(2, 2), pad=(1, 1),
              pool_type="max")
    for stage, (channels, first_stride) in enumerate(RESNET18_STAGES):
        for number in range(2):
            block = f"features.{4 + stage}.{number}"
            stride = first_stride if number == 0 else 1
            body = w.relu(f"{block}.body.2", w.batchnorm(f"{block}.body.1", w.conv(f"{block}.body.0", x, 3, stride, 1)))
            body = w.batchnorm(f"{block}.body.4", w.conv(f"{block}.body.3", body, 3, 1, 1))
            residual = x
            if number == 0 and (stride != 1 or w.channels[x] != channels):
                residual = w.batchnorm(f"{block}.downsample.1", w.conv(f"{block}.downsample.0", x, 1, stride, 0))
            x = w.relu(f"{block}.relu", w.add(f"{block}.add", residual, body))
    x = w.global_avg_pool("features.8", x)
    return w.dense("output", x)


ARCHITECTURES: dict[str, Callable[[_SymbolWriter], int]] = {
    "mobilenet_v2_1_0": _mobilenet_v2_1_0,
    "resnet18_v1": _resnet18_v1,
}


def gluon_symbol(arch: str, params: Mapping[str, np.ndarray],
                 softmax: bool = False) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The symbol document of ``arch`` and its parameters under the symbol's (structural) names.

    :param softmax: end with a softmax over the classes (``output_softmax``) instead of the logits.
    :raises MxnetConversionError: unknown architecture; a parameter missing, extra or of the wrong shape.
    """
    if arch not in ARCHITECTURES:
        raise MxnetConversionError(f"unknown gluon architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    resolver = _ParamResolver(split_params(params), arch)
    writer = _SymbolWriter(resolver)
    head = ARCHITECTURES[arch](writer)
    resolver.finish()
    if softmax:
        head = writer.softmax("output_softmax", head)
    return writer.document(head), resolver.values


def convert_gluon(arch: str, params: Mapping[str, np.ndarray] | str | Path | bytes, size: int = 224,
                  softmax: bool = False) -> onnx.ModelProto:
    """ONNX (input ``data``: N x 3 x size x size, output the logits, or probabilities with ``softmax``)."""
    values = params if isinstance(params, Mapping) else read_params(params)
    document, named = gluon_symbol(arch, values, softmax)
    return convert(document, named, (1, 3, size, size))


GLUON_CONVERTER_VERSION = "1"


def convert_gluon_cached(arch: str, params_path: str | Path, target: str | Path, size: int = 224,
                         softmax: bool = False) -> Path:
    """``target`` (an ONNX file, with its ``.json`` record beside it) converted from ``params_path`` once and
    reused while the parameters, the arguments and the converter are unchanged; written atomically.

    :raises MxnetConversionError: as :func:`convert_gluon`, or the folder of ``target`` is not writable.
    """
    from srcext.cache import convert_if_needed, sha256_file

    params_path, target = Path(params_path), Path(target)
    record = {"converter": "srcext.mxnet.gluon_zoo", "converter_version": GLUON_CONVERTER_VERSION,
              "architecture": arch, "params": params_path.name, "params_sha256": sha256_file(params_path),
              "size": size, "softmax": softmax}
    try:
        convert_if_needed(target, record, lambda: convert_gluon(arch, params_path, size, softmax).SerializeToString())
    except OSError as error:
        raise MxnetConversionError(f"cannot write {target} ({error})") from error
    return target
