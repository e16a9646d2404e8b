"""Plain numpy versions of the MXNet ops (inference semantics), to check each converter without MXNet.

``evaluate(document, params, inputs)`` walks a symbol JSON written by ``mxnet_graphs.SymbolWriter``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

Attrs = dict[str, str]


def _tuple(text: str | None, default: tuple = ()) -> tuple:
    if text is None:
        return default
    items = [item.strip() for item in text.strip("()[]").split(",") if item.strip()]
    return tuple(None if item == "None" else int(item) for item in items)


def _flag(a: Attrs, key: str, default: bool) -> bool:
    return a.get(key, str(default)) in ("True", "1", "true")


def _windows(a: Attrs, rank: int) -> tuple:
    return (_tuple(a["kernel"]), _tuple(a.get("stride"), (1,) * rank), _tuple(a.get("dilate"), (1,) * rank),
            _tuple(a.get("pad"), (0,) * rank))


def conv(a: Attrs, x, w, b=None):
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = _windows(a, 2)
    groups = int(a.get("num_group", 1))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1, (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    cin, cout = x.shape[1] // groups, w.shape[0] // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
            for g in range(groups):
                out[:, g * cout:(g + 1) * cout] += np.einsum(
                    "ncij,oc->noij", patch[:, g * cin:(g + 1) * cin], w[g * cout:(g + 1) * cout, :, i, j])
    use_bias = b is not None and not _flag(a, "no_bias", False)
    return out + (b.reshape(1, -1, 1, 1) if use_bias else 0)


def deconv(a: Attrs, x, w, b=None):
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = _windows(a, 2)
    ah, aw = _tuple(a.get("adj"), (0, 0))
    groups = int(a.get("num_group", 1))
    n, c, h, wd = x.shape
    full_h, full_w = (h - 1) * sh + dh * (kh - 1) + 1, (wd - 1) * sw + dw * (kw - 1) + 1
    cin, cout = c // groups, w.shape[1]
    buf = np.zeros((n, cout * groups, full_h + ah, full_w + aw))
    for i in range(kh):
        for j in range(kw):
            for g in range(groups):
                buf[:, g * cout:(g + 1) * cout, i * dh: i * dh + sh * (h - 1) + 1: sh,
                    j * dw: j * dw + sw * (wd - 1) + 1: sw] += np.einsum(
                    "ncij,co->noij", x[:, g * cin:(g + 1) * cin], w[g * cin:(g + 1) * cin, :, i, j])
    out = buf[:, :, ph: full_h - 2 * ph + ah + ph, pw: full_w - 2 * pw + aw + pw]
    use_bias = b is not None and not _flag(a, "no_bias", True)
    return out + (b.reshape(1, -1, 1, 1) if use_bias else 0)


def batch_norm(a: Attrs, x, gamma, beta, mean, var):
    gamma = np.ones_like(gamma) if _flag(a, "fix_gamma", True) else gamma
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = float(a.get("eps", 1e-3))
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)


def _softplus(x):
    return np.logaddexp(0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS: dict[str, Callable] = {"relu": lambda x: np.maximum(x, 0), "sigmoid": _sigmoid, "tanh": np.tanh,
                                    "softrelu": _softplus, "softsign": lambda x: x / (1 + np.abs(x))}


def leaky(a: Attrs, x, gamma=None):
    kind, slope = a.get("act_type", "leaky"), float(a.get("slope", 0.25))
    if kind == "prelu":
        return np.where(x > 0, x, x * gamma.reshape((1, -1) + (1,) * (x.ndim - 2)))
    if kind == "rrelu":
        return np.where(x > 0, x, x * (float(a.get("lower_bound", 0.125)) + float(a.get("upper_bound", 0.334))) / 2)
    if kind == "elu":
        return np.where(x > 0, x, slope * np.expm1(x))
    if kind == "selu":
        return 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))
    if kind == "gelu":
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    return np.where(x > 0, x, x * slope)


def pooling(a: Attrs, x):
    kind = a.get("pool_type", "max")
    if _flag(a, "global_pool", False):
        return {"max": np.max, "avg": np.mean, "sum": np.sum}[kind](x, axis=(2, 3), keepdims=True)
    (kh, kw), (sh, sw), _, (ph, pw) = _windows(a, 2)
    full = a.get("pooling_convention", "valid") == "full"
    include_pad = _flag(a, "count_include_pad", True)
    size = [1 + (math.ceil if full else math.floor)((n + 2 * p - k) / s)
            for n, k, s, p in ((x.shape[2], kh, sh, ph), (x.shape[3], kw, sw, pw))]
    out = np.zeros(x.shape[:2] + tuple(size))
    for i in range(size[0]):
        for j in range(size[1]):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, x.shape[2] + ph), min(w0 + kw, x.shape[3] + pw)
            area = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, x.shape[2]), min(w1, x.shape[3])
            window = x[:, :, h0:h1, w0:w1]
            if kind == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
            elif kind == "sum":
                out[:, :, i, j] = window.sum(axis=(2, 3))
            else:
                out[:, :, i, j] = window.sum(axis=(2, 3)) / (area if include_pad else window[0, 0].size)
    return out


def fully_connected(a: Attrs, x, w, b=None):
    x = x.reshape(x.shape[0], -1) if _flag(a, "flatten", True) else x
    return x @ w.T + (b if b is not None and not _flag(a, "no_bias", False) else 0)


def reshape(a: Attrs, x):
    codes, src, out, i, j = list(_tuple(a["shape"])), list(x.shape), [], 0, 0
    if _flag(a, "reverse", False):
        codes, src = codes[::-1], src[::-1]
    while j < len(codes):
        code = codes[j]
        if code == 0:
            out.append(src[i])
        elif code == -2:
            out += src[i:]
            i = len(src) - 1
        elif code == -3:
            out.append(src[i] * src[i + 1])
            i += 1
        elif code == -4:
            first, second = codes[j + 1], codes[j + 2]
            out += [src[i] // second if first == -1 else first, src[i] // first if second == -1 else second]
            j += 2
        else:
            out.append(code)
        i, j = i + 1, j + 1
    return x.reshape(out[::-1] if _flag(a, "reverse", False) else out)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def l2norm(a: Attrs, x):
    mode = a.get("mode", "instance")
    axes = {"instance": tuple(range(1, x.ndim)), "channel": (1,), "spatial": tuple(range(2, x.ndim))}[mode]
    return x / np.sqrt((x * x).sum(axis=axes, keepdims=True) + float(a.get("eps", 1e-10)))


def slice_op(a: Attrs, x):
    begin, end = _tuple(a["begin"]), _tuple(a["end"])
    step = _tuple(a.get("step"), (None,) * len(begin))
    return x[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))]


def crop(a: Attrs, x, like=None):
    h, w = like.shape[2:] if like is not None else _tuple(a["h_w"])
    top, left = ((x.shape[2] - h) // 2, (x.shape[3] - w) // 2) if _flag(a, "center_crop", False) \
        else _tuple(a.get("offset"), (0, 0))
    return x[:, :, top:top + h, left:left + w]


def upsampling(a: Attrs, *xs):
    scale = int(a["scale"])
    size = xs[0].shape[2] * scale
    ups = [x.repeat(size // x.shape[2], axis=2).repeat(size // x.shape[3], axis=3) for x in xs]
    return sum(ups) if a.get("multi_input_mode") == "sum" else np.concatenate(ups, axis=1)


BINARY = {"add": np.add, "plus": np.add, "sub": np.subtract, "minus": np.subtract, "mul": np.multiply,
          "div": np.divide, "maximum": np.maximum, "minimum": np.minimum, "power": np.power}
SCALAR = {"plus": np.add, "minus": np.subtract, "mul": np.multiply, "div": np.divide, "maximum": np.maximum,
          "minimum": np.minimum, "power": np.power}


def _scalar(op: str, a: Attrs, x):
    name = op.strip("_")[: -len("_scalar")]
    value = np.float32(float(a["scalar"]))
    if name.startswith("r"):
        return SCALAR[name[1:]](value, x)
    return SCALAR[name](x, value)


def apply(op: str, a: Attrs, args: list[np.ndarray]) -> np.ndarray:
    table: dict[str, Callable[..., Any]] = {
        "Convolution": conv, "Deconvolution": deconv, "BatchNorm": batch_norm, "LeakyReLU": leaky,
        "Pooling": pooling, "FullyConnected": fully_connected, "Reshape": reshape, "L2Normalization": l2norm,
        "slice": slice_op, "Crop": crop, "UpSampling": upsampling}
    if op in table:
        return table[op](a, *args)
    if op == "Activation":
        return ACTIVATIONS[a["act_type"]](args[0])
    if op == "Flatten":
        return args[0].reshape(args[0].shape[0], -1)
    if op == "Dropout":
        return args[0]
    if op in ("add_n", "ElementWiseSum"):
        return sum(args)
    if op == "Concat":
        return np.concatenate(args, axis=int(a.get("dim", 1)))
    if op == "clip":
        return np.clip(args[0], float(a["a_min"]), float(a["a_max"]))
    if op == "transpose":
        return np.transpose(args[0], _tuple(a.get("axes")) or None)
    if op == "slice_axis":
        end = None if a.get("end", "None") == "None" else int(a["end"])
        index = [slice(None)] * args[0].ndim
        index[int(a["axis"])] = slice(int(a["begin"]), end)
        return args[0][tuple(index)]
    if op == "softmax":
        return softmax(args[0] / float(a.get("temperature", 1.0)), int(a.get("axis", -1)))
    if op == "SoftmaxActivation":
        return softmax(args[0], 1 if a.get("mode") == "channel" else -1)
    if op.endswith("_scalar"):
        return _scalar(op, a, args[0])
    return BINARY[op.split("_")[-1]](args[0], args[1])


def evaluate(document: dict[str, Any], params: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> list:
    values: list[np.ndarray] = []
    bare = {name.split(":", 1)[-1]: value.astype(np.float64) for name, value in params.items()}
    for node in document["nodes"]:
        if node["op"] == "null":
            values.append(bare[node["name"]] if node["name"] in bare else inputs[node["name"]].astype(np.float64))
        else:
            values.append(apply(node["op"], node.get("attrs", {}), [values[i] for i, _, _ in node["inputs"]]))
    return [values[index] for index, _, _ in document["heads"]]
