"""A tiny synthetic dlib net, serialized the way dlib does, parsed and converted, checked against NumPy.

The NumPy reference below implements dlib's layer semantics directly (zero-extending add_prev,
exclude-pad average pooling, bn folded to affine), independently of the ONNX graph.
"""
from __future__ import annotations

import numpy as np
import pytest

from srcext.dlib.layers import AddPrev, Affine, Conv, FullyConnected, LossMetric, LossMMOD, Pool
from srcext.dlib.netfile import Marker, read_net
from srcext.dlib.onnx_export import make_model
from srcext.dlib.serial import DlibFormatError, Writer
from srcext.dlib.topology import apply_template, require_plain_chain

MEAN = (122.782, 117.001, 104.298)
RNG = np.random.default_rng(7)


# --- a writer for dlib layers (what each layer's serialize() emits) ------------------------------

def _multipliers(w: Writer) -> None:
    for value in (1.0, 1.0, 1.0, 0.0):
        w.float(value)


def con(w: Writer, weights: np.ndarray, bias: np.ndarray, stride: int, pad: int) -> None:
    out_c, in_c, kh, kw = weights.shape
    w.string("con_4").tensor(np.concatenate([weights.ravel(), bias]).reshape(-1, 1, 1, 1))
    w.int(out_c).int(kh).int(kw).int(stride).int(stride).int(pad).int(pad)
    w.alias_tensor(out_c, in_c, kh, kw).alias_tensor(1, out_c)
    _multipliers(w)


def fc(w: Writer, weights: np.ndarray, bias: np.ndarray | None) -> None:
    num_inputs, num_outputs = weights.shape
    params = weights if bias is None else np.vstack([weights, bias[np.newaxis]])
    w.string("fc_2").int(num_outputs).int(num_inputs).tensor(params.reshape(*params.shape, 1, 1))
    w.alias_tensor(num_inputs, num_outputs).alias_tensor(1, num_outputs)
    w.int(0 if bias is not None else 1)
    _multipliers(w)


def affine(w: Writer, gamma: np.ndarray, beta: np.ndarray) -> None:
    k = gamma.size
    w.string("affine_").tensor(np.concatenate([gamma, beta]).reshape(-1, 1, 1, 1))
    w.alias_tensor(1, k).alias_tensor(1, k).int(0)


def bn_con(w: Writer, gamma, beta, means, variances, eps=1e-5) -> None:
    k = gamma.size
    w.string("bn_con2").tensor(np.concatenate([gamma, beta]).reshape(-1, 1, 1, 1))
    w.alias_tensor(1, k).alias_tensor(1, k)
    w.tensor(np.zeros((0, 0, 0, 0))).tensor(np.zeros((0, 0, 0, 0)))
    w.tensor(means.reshape(1, k, 1, 1)).tensor(variances.reshape(1, k, 1, 1))
    w.int(100).int(100)
    _multipliers(w)
    w.float(eps)


def pool(w: Writer, kind: str, window: int, stride: int, pad: int) -> None:
    w.string(f"{kind}_pool_2").int(window).int(window).int(stride).int(stride).int(pad).int(pad)


def write_net(loss, top_down: list, rows: int, cols: int) -> bytes:
    """``top_down`` holds callables (layers, given the Writer) and the string "marker"."""
    w = Writer().int(1)
    loss(w)
    for index, item in enumerate(top_down):
        w.int(1 if item == "marker" else (3 if index == len(top_down) - 1 else 2))
    w.string("input_rgb_image_sized")
    for value in MEAN:
        w.float(float(np.float32(value)), digits=24)
    w.int(rows).int(cols)
    for item in reversed(top_down):
        if item == "marker":
            continue
        item(w)
        w.bool(True).bool(True).bool(False)
        for _ in range(3):
            w.tensor(np.zeros((0, 0, 0, 0)))
        if item is top_down[-1]:
            w.int(1)
    return w.getvalue()


def loss_metric(w: Writer) -> None:
    w.string("loss_metric_2").float(0.04).float(0.6)


def loss_mmod(w: Writer) -> None:
    w.string("loss_mmod_").int(1).int(40).int(40)
    for value in (1.0, 1.0, 0.5, 0.3, 1.0, 0.5, 1.0):
        w.float(value)


# --- the synthetic residual-down net and its NumPy reference -------------------------------------

def _rand(*shape, scale=0.3):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


PARAMS = {
    "c1_w": _rand(4, 3, 3, 3), "c1_b": _rand(4),
    "bn": (_rand(4) + 1, _rand(4), _rand(4), np.abs(_rand(4)) + 0.5),
    "c2_w": _rand(6, 4, 3, 3), "c2_b": _rand(6),
    "aff": (_rand(6) + 1, _rand(6)),
    "fc_w": _rand(6, 5), "fc_b": _rand(5),
}

# Top-down: fc, avg_pool_everything, relu, add_prev2, avg_pool 2/2, skip1, tag2, affine, con s2,
# tag1, max_pool 3/1 pad 1, relu, bn_con, con s2 (on a 9x9 input).
TEMPLATE = ["fc", "avg_pool", "relu", "add_prev2", "avg_pool", "skip1", "tag2", "affine", "con", "tag1",
            "max_pool", "relu", "affine", "con"]


def synthetic_bytes() -> bytes:
    p = PARAMS
    top_down = [
        lambda w: fc(w, p["fc_w"], p["fc_b"]),
        lambda w: pool(w, "avg", 0, 1, 0),
        lambda w: w.string("relu_"),
        lambda w: w.string("add_prev_"),
        lambda w: pool(w, "avg", 2, 2, 0),
        "marker",
        "marker",
        lambda w: affine(w, *p["aff"]),
        lambda w: con(w, p["c2_w"], p["c2_b"], 2, 0),
        "marker",
        lambda w: pool(w, "max", 3, 1, 1),
        lambda w: w.string("relu_"),
        lambda w: bn_con(w, *p["bn"]),
        lambda w: con(w, p["c1_w"], p["c1_b"], 2, 0),
    ]
    return write_net(loss_metric, top_down, 9, 9)


def np_conv(x, weights, bias, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_c, _, kh, kw = weights.shape
    rows, cols = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_c, rows, cols), np.float64)
    for r in range(rows):
        for c in range(cols):
            patch = x[:, :, r * stride:r * stride + kh, c * stride:c * stride + kw]
            out[:, :, r, c] = np.einsum("nikl,oikl->no", patch, weights) + bias
    return out


def np_pool(x, kind, window, stride, pad):
    rows = (x.shape[2] + 2 * pad - window) // stride + 1
    cols = (x.shape[3] + 2 * pad - window) // stride + 1
    out = np.zeros((*x.shape[:2], rows, cols))
    for r in range(rows):
        for c in range(cols):
            top, left = r * stride - pad, c * stride - pad
            win = x[:, :, max(top, 0):top + window, max(left, 0):left + window]  # clipped to the image
            out[:, :, r, c] = win.max(axis=(2, 3)) if kind == "max" else win.mean(axis=(2, 3))
    return out


def np_add_zero_extended(a, b):
    shape = tuple(max(s, t) for s, t in zip(a.shape, b.shape))
    out = np.zeros(shape)
    out[tuple(slice(0, s) for s in a.shape)] += a
    out[tuple(slice(0, s) for s in b.shape)] += b
    return out


def reference(pixels: np.ndarray) -> np.ndarray:
    p = PARAMS
    x = (pixels - np.asarray(MEAN, np.float32).reshape(1, 3, 1, 1)) / 256.0
    x = np_conv(x, p["c1_w"], p["c1_b"], 2, 0)
    gamma, beta, means, variances = p["bn"]
    scale = gamma / np.sqrt(variances + 1e-5)
    x = x * scale.reshape(1, -1, 1, 1) + (beta - scale * means).reshape(1, -1, 1, 1)
    x = np_pool(np.maximum(x, 0), "max", 3, 1, 1)
    tag1 = x
    x = np_conv(x, p["c2_w"], p["c2_b"], 2, 0)
    x = x * p["aff"][0].reshape(1, -1, 1, 1) + p["aff"][1].reshape(1, -1, 1, 1)
    x = np_add_zero_extended(np_pool(tag1, "avg", 2, 2, 0), x)
    x = np.maximum(x, 0).mean(axis=(2, 3))
    return x @ p["fc_w"] + p["fc_b"]


# --- tests ---------------------------------------------------------------------------------------

def test_reader_recovers_layers_in_order():
    net = read_net(synthetic_bytes())
    assert isinstance(net.loss, LossMetric)
    assert net.loss.distance_threshold == pytest.approx(0.6)
    assert net.input.size == (9, 9)
    assert net.input.mean_rgb == pytest.approx(MEAN, abs=1e-5)
    kinds = [type(item).__name__ for item in net.items]
    assert kinds == ["FullyConnected", "Pool", "Relu", "AddPrev", "Pool", "Marker", "Marker", "Affine", "Conv",
                     "Marker", "Pool", "Relu", "Affine", "Conv"]
    conv = net.items[-1]
    assert isinstance(conv, Conv) and conv.stride == (2, 2) and conv.padding == (0, 0)
    np.testing.assert_array_equal(conv.weights, PARAMS["c1_w"])
    fc_layer = net.items[0]
    assert isinstance(fc_layer, FullyConnected)
    np.testing.assert_array_equal(fc_layer.bias, PARAMS["fc_b"])


def test_template_numbers_markers_and_add_prev():
    net = apply_template(read_net(synthetic_bytes()), TEMPLATE)
    assert net.items[3] == AddPrev(tag=2)
    assert net.items[5] == Marker("skip", 1) and net.items[6] == Marker("tag", 2) and net.items[9] == Marker("tag", 1)


def test_template_mismatch_is_refused():
    wrong = TEMPLATE.copy()
    wrong[7], wrong[8] = "con", "affine"
    with pytest.raises(DlibFormatError, match="template says 'con'"):
        apply_template(read_net(synthetic_bytes()), wrong)


def test_net_with_markers_needs_a_template():
    with pytest.raises(DlibFormatError, match="needs a topology template"):
        require_plain_chain(read_net(synthetic_bytes()))


def test_onnx_matches_numpy_reference():
    import onnxruntime as ort

    net = apply_template(read_net(synthetic_bytes()), TEMPLATE)
    model = make_model(net, "embedding", "synthetic", {})
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    pixels = RNG.integers(0, 256, size=(3, 3, 9, 9)).astype(np.float32)
    out = session.run(None, {"input": pixels})[0]
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out, reference(pixels), rtol=1e-5, atol=1e-5)


def test_mmod_chain_converts_with_dynamic_size():
    import onnxruntime as ort

    from srcext.dlib.convert import mmod_model

    weights, bias = _rand(1, 3, 3, 3), _rand(1)
    data = write_net(loss_mmod, [lambda w: con(w, weights, bias, 1, 1)], 0, 0)
    net = read_net(data)
    assert isinstance(net.loss, LossMMOD) and net.loss.detector_windows == [(40, 40)]
    net.input.size = None  # a pyramid input has no fixed size
    session = ort.InferenceSession(mmod_model(net).SerializeToString(), providers=["CPUExecutionProvider"])
    for rows, cols in ((7, 5), (12, 20)):
        pixels = RNG.integers(0, 256, size=(1, 3, rows, cols)).astype(np.float32)
        expected = np_conv((pixels - np.asarray(MEAN).reshape(1, 3, 1, 1)) / 256.0, weights, bias, 1, 1)
        np.testing.assert_allclose(session.run(None, {"input": pixels})[0], expected, rtol=1e-5, atol=1e-5)


def test_unknown_layer_is_named_in_the_error():
    data = write_net(loss_metric, [lambda w: w.string("sig_")], 4, 4)
    with pytest.raises(DlibFormatError, match="unsupported layer 'sig_'"):
        read_net(data)


def test_trailing_bytes_are_an_error():
    with pytest.raises(DlibFormatError, match="unread bytes"):
        read_net(synthetic_bytes() + b"\x00")


def test_affine_from_batch_norm_folds_like_dlib():
    net = read_net(synthetic_bytes())
    folded = net.items[12]
    assert isinstance(folded, Affine) and folded.conv_mode
    gamma, beta, means, variances = PARAMS["bn"]
    np.testing.assert_allclose(folded.gamma, gamma / np.sqrt(variances + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(folded.beta, beta - folded.gamma * means, rtol=1e-5, atol=1e-6)
    assert isinstance(net.items[10], Pool) and net.items[10].padding == (1, 1)
