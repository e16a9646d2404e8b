"""The layer-detail records of dlib's DNN files, one parser per serialized version string.

Each dlib layer writes its own name-and-version string first (``"con_4"``, ``"affine_"`` ...) and then
its fields (dlib/dnn/layers.h, input.h, loss.h). Only inference-relevant fields are kept; training
state (learning-rate multipliers, batch-norm running windows) is read and dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, TypeVar, Union

import numpy as np

from srcext.dlib.serial import DlibFormatError, Reader


@dataclass
class Conv:
    """``con_``: cross-correlation with zero padding, weights (out, in, kh, kw), a bias per output."""

    weights: np.ndarray
    bias: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass
class FullyConnected:
    """``fc_``: output = flatten(x) @ weights (+ bias); weights are (num_inputs, num_outputs)."""

    weights: np.ndarray
    bias: np.ndarray | None


@dataclass
class Affine:
    """``affine_`` (or a ``bn_`` folded at load, as dlib does): y = x * gamma + beta.

    In conv mode gamma/beta are per channel (k,); in fc mode they have the full (k, nr, nc) shape.
    """

    gamma: np.ndarray
    beta: np.ndarray
    conv_mode: bool


@dataclass
class Relu:
    """``relu_``."""


@dataclass
class Pool:
    """``max_pool_`` / ``avg_pool_``; a window of 0 means "the whole input" (``*_pool_everything``)."""

    kind: str  # "max" or "avg"
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass
class AddPrev:
    """``add_prev_``: adds the output of a tagged layer; the tag number is NOT in the file."""

    tag: int | None = None


@dataclass
class InputRGB:
    """``input_rgb_image_sized`` / ``input_rgb_image_pyramid``: (pixel - mean) / 256 per channel, RGB order."""

    kind: str
    mean_rgb: tuple[float, float, float]
    size: tuple[int, int] | None  # (rows, cols) when the net has a fixed input size


@dataclass
class LossMetric:
    """``loss_metric_``: the output rows are the embeddings, unchanged."""

    margin: float = 0.04
    distance_threshold: float = 0.6


@dataclass
class LossMMOD:
    """``loss_mmod_``: a sliding-window detector; the score map is decoded outside the network."""

    detector_windows: list[tuple[int, int]] = field(default_factory=list)
    loss_per_false_alarm: float = 1.0
    loss_per_missed_target: float = 1.0
    truth_match_iou_threshold: float = 0.5
    nms_iou_threshold: float = 0.5
    nms_percent_covered_threshold: float = 1.0


Layer = Union[Conv, FullyConnected, Affine, Relu, Pool, AddPrev]
InputLayer = InputRGB
Loss = Union[LossMetric, LossMMOD]
ParsedT = TypeVar("ParsedT")


def _skip_floats(reader: Reader, count: int) -> None:
    for _ in range(count):
        reader.read_float()


def _slice(params: np.ndarray, start: int, count: int) -> np.ndarray:
    flat = params.reshape(-1)
    if start + count > flat.size:
        raise DlibFormatError(f"parameter block too small: need {start + count}, have {flat.size}")
    return flat[start:start + count].copy()


def _read_conv(reader: Reader) -> Conv:
    params = reader.read_tensor()
    num_filters, rows, cols = reader.read_int(), reader.read_int(), reader.read_int()
    stride = (reader.read_int(), reader.read_int())
    padding = (reader.read_int(), reader.read_int())
    filters = reader.read_alias_tensor()
    biases = reader.read_alias_tensor()
    _skip_floats(reader, 4)
    if (filters.n, filters.nr, filters.nc) != (num_filters, rows, cols):
        raise DlibFormatError(f"con_ filter shape {filters} disagrees with {num_filters}x{rows}x{cols}")
    weights = _slice(params, 0, filters.size).reshape(filters.n, filters.k, filters.nr, filters.nc)
    return Conv(weights, _slice(params, filters.size, biases.size), stride, padding)


def _read_fc(reader: Reader) -> FullyConnected:
    num_outputs, num_inputs = reader.read_int(), reader.read_int()
    params = reader.read_tensor()
    weights = reader.read_alias_tensor()
    biases = reader.read_alias_tensor()
    has_bias = reader.read_int() == 0  # dlib's FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    _skip_floats(reader, 4)
    if weights.size != num_inputs * num_outputs:
        raise DlibFormatError(f"fc_ weights {weights} disagree with {num_inputs} -> {num_outputs}")
    matrix = _slice(params, 0, weights.size).reshape(num_inputs, num_outputs)
    bias = _slice(params, weights.size, biases.size) if has_bias else None
    return FullyConnected(matrix, bias)


def _read_affine(reader: Reader) -> Affine:
    params = reader.read_tensor()
    gamma_shape = reader.read_alias_tensor()
    reader.read_alias_tensor()  # beta has gamma's shape
    conv_mode = reader.read_int() == 0  # dlib's CONV_MODE = 0, FC_MODE = 1
    shape = (gamma_shape.k,) if conv_mode else (gamma_shape.k, gamma_shape.nr, gamma_shape.nc)
    gamma = _slice(params, 0, gamma_shape.size).reshape(shape)
    beta = _slice(params, gamma_shape.size, gamma_shape.size).reshape(shape)
    return Affine(gamma, beta, conv_mode)


def _read_batch_norm(conv_mode: bool) -> Callable[[Reader], Affine]:
    """dlib turns a trained ``bn_`` into an ``affine_`` when the file is loaded into an affine net."""

    def read(reader: Reader) -> Affine:
        params = reader.read_tensor()
        gamma_shape = reader.read_alias_tensor()
        reader.read_alias_tensor()
        reader.read_tensor()  # means of the last training batch
        reader.read_tensor()  # invstds of the last training batch
        running_means = reader.read_tensor().reshape(-1)
        running_variances = reader.read_tensor().reshape(-1)
        reader.read_int()  # num_updates
        reader.read_int()  # running_stats_window_size
        _skip_floats(reader, 4)
        eps = np.float32(reader.read_float())
        shape = (gamma_shape.k,) if conv_mode else (gamma_shape.k, gamma_shape.nr, gamma_shape.nc)
        gamma = _slice(params, 0, gamma_shape.size)
        beta = _slice(params, gamma_shape.size, gamma_shape.size)
        # Same float32 arithmetic as dlib's affine_(const bn_&) constructor.
        scale = gamma * (np.float32(1.0) / np.sqrt(running_variances + eps))
        shift = beta - scale * running_means
        return Affine(scale.reshape(shape), shift.reshape(shape), conv_mode)

    return read


def _read_pool(kind: str) -> Callable[[Reader], Pool]:
    def read(reader: Reader) -> Pool:
        window = (reader.read_int(), reader.read_int())
        stride = (reader.read_int(), reader.read_int())
        padding = (reader.read_int(), reader.read_int())
        return Pool(kind, window, stride, padding)

    return read


def _read_input_sized(reader: Reader) -> InputRGB:
    mean = (reader.read_float(), reader.read_float(), reader.read_float())
    return InputRGB("input_rgb_image_sized", mean, (reader.read_int(), reader.read_int()))


def _read_input_pyramid(reader: Reader) -> InputRGB:
    mean = (reader.read_float(), reader.read_float(), reader.read_float())
    return InputRGB("input_rgb_image_pyramid", mean, None)


def _read_loss_metric_v2(reader: Reader) -> LossMetric:
    return LossMetric(reader.read_float(), reader.read_float())


def _read_loss_mmod(reader: Reader) -> LossMMOD:
    version = reader.read_int()
    if version != 1:
        raise DlibFormatError(f"mmod_options version {version} is not supported (only 1)")
    width, height = reader.read_int(), reader.read_int()
    false_alarm, missed, truth_iou = reader.read_float(), reader.read_float(), reader.read_float()
    nms_iou, nms_covered = reader.read_float(), reader.read_float()
    reader.read_float()  # overlaps_ignore: training only
    reader.read_float()
    return LossMMOD([(width, height)], false_alarm, missed, truth_iou, nms_iou, nms_covered)


LAYER_READERS: dict[str, Callable[[Reader], Layer]] = {
    "con_4": _read_conv,
    "fc_2": _read_fc,
    "affine_": _read_affine,
    "bn_con2": _read_batch_norm(conv_mode=True),
    "bn_fc2": _read_batch_norm(conv_mode=False),
    "relu_": lambda reader: Relu(),
    "max_pool_2": _read_pool("max"),
    "avg_pool_2": _read_pool("avg"),
    "add_prev_": lambda reader: AddPrev(),
}

INPUT_READERS: dict[str, Callable[[Reader], InputLayer]] = {
    "input_rgb_image_sized": _read_input_sized,
    "input_rgb_image_pyramid": _read_input_pyramid,
}

LOSS_READERS: dict[str, Callable[[Reader], Loss]] = {
    "loss_metric_2": _read_loss_metric_v2,
    "loss_metric_": lambda reader: LossMetric(),
    "loss_mmod_": _read_loss_mmod,
}


def read_tagged(reader: Reader, readers: Mapping[str, Callable[[Reader], ParsedT]], what: str) -> ParsedT:
    """Read a layer's version string and dispatch to its parser."""
    at = reader.pos
    name = reader.read_string()
    parse = readers.get(name)
    if parse is None:
        raise DlibFormatError(f"unsupported {what} {name!r} at byte {at} (known: {', '.join(sorted(readers))})")
    return parse(reader)
