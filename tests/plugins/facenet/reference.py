"""A straightforward numpy forward pass of the Keras P/R/O-Net layers (NHWC throughout), to check the
ONNX graphs against. Slow and simple on purpose."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from plugins.facenet.nets import NetLayout


def conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Valid, stride-1 convolution; ``kernel`` is HWIO as Keras stores it."""
    kh, kw = kernel.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))  # N, H', W', C, kh, kw
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel, optimize=True) + bias


def prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, x * alpha.reshape(-1))


def maxpool(x: np.ndarray, size: int, stride: int, padding: str) -> np.ndarray:
    """Keras/TensorFlow max-pooling; "same" pads at the bottom/right first, with -inf."""
    n, h, w, c = x.shape
    if padding == "same":
        out_h, out_w = -(-h // stride), -(-w // stride)
        pad_h = max((out_h - 1) * stride + size - h, 0)
        pad_w = max((out_w - 1) * stride + size - w, 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
                   constant_values=-np.inf)
    else:
        out_h, out_w = (h - size) // stride + 1, (w - size) // stride + 1
    result = np.empty((n, out_h, out_w, c), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            result[:, i, j] = x[:, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(1, 2))
    return result


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def forward(layout: NetLayout, weights: list[np.ndarray], pixels: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs by name, laid out as the ONNX graphs give them (P-Net maps as N, C, H, W)."""
    queue = [w.astype(np.float64) for w in weights]
    x = (pixels.astype(np.float64) - 127.5) / 128.0
    for pool in layout.pools:
        x = prelu(conv(x, queue.pop(0), queue.pop(0)), queue.pop(0))
        if pool is not None:
            x = maxpool(x, *pool)
    if layout.dense is not None:
        x = x.transpose(0, 2, 1, 3).reshape(len(x), -1)  # Keras Permute((2, 1, 3)) then Flatten
        x = prelu(x @ queue.pop(0) + queue.pop(0), queue.pop(0))
    outputs = {}
    for name, _width in layout.heads:
        kernel, bias = queue.pop(0), queue.pop(0)
        y = conv(x, kernel, bias) if layout.dense is None else x @ kernel + bias
        y = softmax(y) if name == "scores" else y
        outputs[name] = y.transpose(0, 3, 1, 2) if layout.dense is None else y
    return outputs
