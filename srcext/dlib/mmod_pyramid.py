"""The tiled image pyramid that dlib's ``input_rgb_image_pyramid<pyramid_down<6>>`` feeds the MMOD net.

Facts carried over from dlib (dnn/input.h, image_transforms/image_pyramid.h, interpolation.h):

- every level is ``floor(5/6 * size)`` of the one before, down to a height of 5 rows;
- the levels are packed into one image: a first column going down (10 px between levels) until the
  rest fits in a second column that climbs back up along the right edge, with an 11 px border;
- the image is normalised first, ``(pixel - mean) / 256`` per RGB channel, and everything outside
  the levels is 0 (that is, the mean colour);
- each level is resampled from the previous level, in the normalised float tensor, by dlib's
  bilinear ``resize_image`` for float images: a 4-lane float32 loop whose column positions are
  accumulated in float32 and truncated to integers, and a double-precision tail for the last
  columns (where the right-hand neighbour would leave the source). We reproduce the arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: dlib's ``input_rgb_image_pyramid`` defaults (files saved as "input_rgb_image_pyramid", not "...2").
PYRAMID_PADDING = 10
PYRAMID_OUTER_PADDING = 11
#: pyramid_down<6>: each level keeps 5/6 of the previous size.
PYRAMID_N = 6
MIN_LEVEL_HEIGHT = 5


@dataclass(frozen=True)
class Rect:
    """A dlib ``rectangle``: inclusive corners, so ``width = right - left + 1``."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left + 1

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    def intersects(self, other: "Rect") -> bool:
        return max(self.left, other.left) <= min(self.right, other.right) and \
            max(self.top, other.top) <= min(self.bottom, other.bottom)


@dataclass(frozen=True)
class PyramidLayout:
    """Where each pyramid level sits in the tiled image (level 0 is the input image)."""

    rows: int
    cols: int
    levels: tuple[Rect, ...]
    n: int = PYRAMID_N

    @property
    def rate(self) -> float:
        return (self.n - 1.0) / self.n


def _level_sizes(rows: int, cols: int, n: int) -> list[tuple[int, int]]:
    rate = (n - 1.0) / n
    sizes = [(rows, cols)]
    while True:
        rows, cols = math.floor(rate * rows), math.floor(rate * cols)
        if rows * cols == 0 or rows < MIN_LEVEL_HEIGHT:
            return sizes
        sizes.append((rows, cols))


def tiled_layout(rows: int, cols: int, padding: int = PYRAMID_PADDING, outer_padding: int = PYRAMID_OUTER_PADDING,
                 n: int = PYRAMID_N) -> PyramidLayout:
    """The tiled-pyramid geometry dlib computes for a ``rows`` x ``cols`` image."""
    if rows * cols == 0:
        return PyramidLayout(0, 0, (), n)
    sizes = _level_sizes(rows, cols, n)
    first_h, first_w = sizes[0]
    total_height = sum(h + padding for h, _ in sizes) - 2 * padding
    height, prev_width = 0, 0
    for h, w in sizes:
        # The first column ends where the next level fits beside the previous one and the
        # first column already holds at least half of the rest.
        if w <= first_w - prev_width - padding and (height - first_h) * 2 >= total_height - first_h:
            break
        height += h + padding
        prev_width = w
    height -= padding
    out_rows, out_cols = height + 2 * outer_padding, first_w + 2 * outer_padding

    placed: list[Rect] = []
    y = outer_padding
    while y < height + outer_padding and len(placed) < len(sizes):
        h, w = sizes[len(placed)]
        placed.append(Rect(outer_padding, y, outer_padding + w - 1, y + h - 1))
        y += h + padding
    y -= padding
    while len(placed) < len(sizes):
        h, w = sizes[len(placed)]
        right, bottom = outer_padding + first_w - 1, y - 1
        rect = Rect(right - (w - 1), bottom - (h - 1), right, bottom)
        if rect.intersects(placed[0]):
            break  # dlib drops the levels that would overlap the input image
        placed.append(rect)
        y -= h + padding
    return PyramidLayout(out_rows, out_cols, tuple(placed), n)


def _simd_columns(in_cols: int, out_cols: int, x_scale: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Left indices and float32 fractions of the 4-lane loop, and the first column it leaves to the tail."""
    groups = out_cols // 4 + 2
    start = -4.0 * x_scale
    step = np.float32(4.0 * x_scale)
    positions = np.empty((groups, 4), dtype=np.float32)
    for lane in range(4):
        seq = np.full(groups + 1, step, dtype=np.float32)
        seq[0] = np.float32(start + lane * x_scale)
        positions[:, lane] = np.cumsum(seq, dtype=np.float32)[1:]  # sequential float32 sums, as the loop
    left = positions.astype(np.int32)  # truncation (cvttps)
    # The loop stops at the first group whose lane 3 would read past the last source column; for a
    # downscale that group always starts at or before out_cols, so the loop never writes past the row.
    over = np.nonzero(left[:, 3] + 1 >= in_cols)[0]
    simd_end = min(int(over[0]) * 4 if over.size else groups * 4, out_cols)
    flat_pos, flat_left = positions.reshape(-1)[:simd_end], left.reshape(-1)[:simd_end]
    frac = flat_pos - flat_left.astype(np.float32)
    return flat_left.astype(np.int64), frac, simd_end


def resize_level(src: np.ndarray, out_rows: int, out_cols: int) -> np.ndarray:
    """dlib's bilinear ``resize_image`` of a float (C, rows, cols) plane stack, float32 out."""
    channels, in_rows, in_cols = src.shape
    out = np.zeros((channels, out_rows, out_cols), dtype=np.float32)
    if out_rows == 0 or out_cols == 0 or in_rows == 0 or in_cols == 0:
        return out
    x_scale = (in_cols - 1) / max(out_cols - 1, 1)
    y_scale = (in_rows - 1) / max(out_rows - 1, 1)
    steps = np.full(out_rows, y_scale, dtype=np.float64)
    steps[0] = 0.0
    ys = np.cumsum(steps)  # y = -y_scale, then y += y_scale per row (sequential doubles)
    top = np.floor(ys).astype(np.int64)
    bottom = np.minimum(top + 1, in_rows - 1)
    tb = ys - top  # double
    tb32, inv_tb32 = tb.astype(np.float32)[:, None], (1.0 - tb).astype(np.float32)[:, None]

    left, lr, simd_end = _simd_columns(in_cols, out_cols, x_scale)
    if simd_end:
        right = left + 1
        inv_lr = np.float32(1.0) - lr
        tlf, trf = inv_tb32 * inv_lr, inv_tb32 * lr
        blf, brf = tb32 * inv_lr, tb32 * lr
        for k in range(channels):
            plane = src[k]
            upper, lower = plane[top], plane[bottom]
            value = tlf * upper[:, left] + trf * upper[:, right]
            value = value + blf * lower[:, left]
            out[k, :, :simd_end] = value + brf * lower[:, right]
    if simd_end < out_cols:
        tail = np.arange(simd_end, out_cols)
        steps_x = np.full(out_cols - simd_end + 1, x_scale, dtype=np.float64)
        steps_x[0] = -x_scale + simd_end * x_scale
        xs = np.cumsum(steps_x)[1:]
        t_left = np.floor(xs).astype(np.int64)
        t_right = np.minimum(t_left + 1, in_cols - 1)
        t_lr = (xs - t_left).astype(np.float32)
        t_inv = np.float32(1.0) - t_lr
        for k in range(channels):
            plane = src[k]
            upper = t_inv * plane[top][:, t_left] + t_lr * plane[top][:, t_right]
            lower = t_inv * plane[bottom][:, t_left] + t_lr * plane[bottom][:, t_right]
            mixed = (1.0 - tb)[:, None] * upper.astype(np.float64) + tb[:, None] * lower.astype(np.float64)
            out[k][:, tail] = mixed.astype(np.float32)
    return out


def normalise(image: np.ndarray, mean_rgb: tuple[float, float, float]) -> np.ndarray:
    """(H, W, 3) RGB uint8 -> (3, H, W) float32 ``(pixel - mean) / 256``, as dlib's to_tensor."""
    mean = np.asarray(mean_rgb, dtype=np.float32).reshape(3, 1, 1)
    planes = np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.float32)
    return (planes - mean) * np.float32(1.0 / 256.0)


def build_tiled_pyramid(image: np.ndarray, mean_rgb: tuple[float, float, float],
                        layout: PyramidLayout | None = None) -> tuple[np.ndarray, PyramidLayout]:
    """The normalised tiled pyramid (3, NR, NC) float32 of an RGB uint8 image, and its layout."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    layout = layout or tiled_layout(image.shape[0], image.shape[1])
    tiled = np.zeros((3, layout.rows, layout.cols), dtype=np.float32)
    if not layout.levels:
        return tiled, layout
    first = layout.levels[0]
    tiled[:, first.top:first.bottom + 1, first.left:first.right + 1] = normalise(image, mean_rgb)
    for prev, rect in zip(layout.levels, layout.levels[1:]):
        src = tiled[:, prev.top:prev.bottom + 1, prev.left:prev.right + 1]
        tiled[:, rect.top:rect.bottom + 1, rect.left:rect.right + 1] = resize_level(src, rect.height, rect.width)
    return tiled, layout
