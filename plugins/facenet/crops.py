"""Square crops of many boxes at once, resized to the net's input, without a loop over boxes.

Bilinear sampling is only faithful when it shrinks by less than about 1.5x, so crops are sampled from
a chain of pre-shrunk copies of the image (each 0.709 of the previous, area-averaged from it): each
box reads from the smallest copy in which it still spans at least ``size`` pixels. The loop runs over
chain levels (a handful), not over boxes. Pixels outside the image read as 0 (black), as MTCNN's
reference implementation pads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHAIN_FACTOR = 0.709
#: ``cv2.remap`` takes images and maps under this many rows and columns (OpenCV's SHRT_MAX).
REMAP_LIMIT = 32767


@dataclass(frozen=True)
class ImageChain:
    """The image (float32 RGB, H x W x 3) and its shrunk copies with their scales, largest first.
    ``scales`` are nominal (for choosing a level); ``factors`` are each copy's exact (x, y) scales."""

    levels: tuple[np.ndarray, ...]
    scales: tuple[float, ...]
    factors: tuple[tuple[float, float], ...]

    @classmethod
    def build(cls, image: np.ndarray, smallest: int = 24) -> "ImageChain":
        """Copies down to the one whose shorter side is still >= ``smallest`` pixels."""
        import cv2

        height, width = image.shape[:2]
        levels: list[np.ndarray] = [np.asarray(image, dtype=np.float32)]
        scales, factors = [1.0], [(1.0, 1.0)]
        scale = CHAIN_FACTOR
        while min(width, height) * scale >= smallest:
            size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
            levels.append(cv2.resize(levels[-1], size, interpolation=cv2.INTER_AREA))
            scales.append(scale)
            factors.append((size[0] / width, size[1] / height))
            scale *= CHAIN_FACTOR
        return cls(tuple(levels), tuple(scales), tuple(factors))

    def level_for(self, sides: np.ndarray, size: int) -> np.ndarray:
        """Index of the smallest copy in which a box of ``sides`` original pixels spans >= ``size``."""
        scales = np.asarray(self.scales)
        fits = sides[:, None] * scales[None, :] >= size  # (N, L), True for a prefix of the levels
        return np.maximum(fits.sum(axis=1) - 1, 0)


def sample_bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``image`` at pixel-index positions ``ys`` (N, S) x ``xs`` (N, S) -> (N, S, S, 3); outside is 0.

    ``cv2.remap`` over the crops stacked as one tall map (row ``n * S + i`` reads crop ``n``'s row ``i``),
    on the part of the image they read, at a tenth of the time of gathering neighbours in numpy. OpenCV 5
    interpolates in float32 (equal to exact bilinear within rounding); OpenCV 4 with weights in steps of
    1/32, at most 1/64 of the step between two neighbouring pixels off: far below what the nets resolve.
    """
    count, size = xs.shape
    out = np.empty((count, ys.shape[1], size, image.shape[2]), dtype=np.float32)
    per_call = max((REMAP_LIMIT - 1) // max(ys.shape[1], 1), 1)
    for first in range(0, count, per_call):
        chunk = slice(first, first + per_call)
        out[chunk] = _remap_region(image, xs[chunk], ys[chunk])
    return out


def _remap_region(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    left, top = _clamp(np.floor(xs.min()), width), _clamp(np.floor(ys.min()), height)
    right, bottom = _clamp(np.floor(xs.max()) + 2, width), _clamp(np.floor(ys.max()) + 2, height)
    if right <= left or bottom <= top:  # every position lies outside the image
        return np.zeros((len(xs), ys.shape[1], xs.shape[1], image.shape[2]), dtype=np.float32)
    if max(right - left, bottom - top) >= REMAP_LIMIT:
        return gather_bilinear(image, xs, ys)
    region = np.ascontiguousarray(image[top:bottom, left:right], dtype=np.float32)
    count, size, rows = len(xs), xs.shape[1], ys.shape[1]
    map_x = np.broadcast_to((xs - left)[:, None, :], (count, rows, size)).reshape(-1, size).astype(np.float32)
    map_y = np.broadcast_to((ys - top)[:, :, None], (count, rows, size)).reshape(-1, size).astype(np.float32)
    sampled = cv2.remap(region, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                        borderValue=0)
    return sampled.reshape(count, rows, size, image.shape[2])


def _clamp(value: float, limit: int) -> int:
    return int(min(max(value, 0), limit))


def gather_bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """:func:`sample_bilinear` in numpy, exact: for a region too large for ``cv2.remap``."""
    height, width = image.shape[:2]
    x0, y0 = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    out = np.zeros((xs.shape[0], ys.shape[1], xs.shape[1], image.shape[2]), dtype=np.float32)
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        row = y0 + dy
        row_ok = (row >= 0) & (row < height)
        row_idx = np.clip(row, 0, height - 1)
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            col = x0 + dx
            col_ok = (col >= 0) & (col < width)
            col_idx = np.clip(col, 0, width - 1)
            weight = wy[:, :, None] * wx[:, None, :] * (row_ok[:, :, None] & col_ok[:, None, :])
            out += image[row_idx[:, :, None], col_idx[:, None, :]] * weight[..., None]
    return out


def crop_boxes(chain: ImageChain, boxes: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size, 3) float32 crops of ``boxes`` (x1, y1, x2, y2 in original pixels)."""
    crops = np.zeros((len(boxes), size, size, 3), dtype=np.float32)
    if not len(boxes):
        return crops
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    levels = chain.level_for(sides, size)
    steps = (np.arange(size, dtype=np.float64) + 0.5) / size  # output pixel centres, as fractions
    for level in np.unique(levels):
        chosen = np.nonzero(levels == level)[0]
        fx, fy = chain.factors[level]
        picked = boxes[chosen] * np.array([fx, fy, fx, fy])
        xs = picked[:, 0:1] + steps[None, :] * (picked[:, 2:3] - picked[:, 0:1]) - 0.5
        ys = picked[:, 1:2] + steps[None, :] * (picked[:, 3:4] - picked[:, 1:2]) - 0.5
        crops[chosen] = sample_bilinear(chain.levels[level], xs, ys)
    return crops
