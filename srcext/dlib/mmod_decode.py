"""From the MMOD score map of a tiled pyramid to face rectangles, as dlib's ``loss_mmod_::to_label`` does.

Facts carried over from dlib (dnn/loss.h, dnn/layers.h, image_transforms/image_pyramid.h,
geometry/drectangle.h, image_processing/box_overlap_testing.h):

- every score ``> threshold`` (0 by default) is a detection; its position maps back to the input
  tensor through each conv/pool layer as ``p * stride - padding + kernel // 2``;
- the window (80x80 for the face model) is centred there: ``p -+ (size - 1) / 2``;
- that window goes to the image through the level whose rectangle is nearest to its centre: minus
  the level's top-left corner, then ``p * 6/5 + 0.3`` once per level (pyramid_down<6>::point_up);
- the rectangle is rounded (``floor(v + 0.5)``), detections are sorted by score, highest first, and
  greedy NMS drops any that overlaps a kept one: intersection over the *bounding box of both* above
  the IoU threshold, or intersection over either area above the covered threshold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from srcext.dlib.mmod_pyramid import PyramidLayout, Rect


@dataclass(frozen=True)
class AxisMap:
    """Output position -> input tensor position along one axis: ``in = out * scale + offset``."""

    scale: int
    offset: int

    def then(self, stride: int, padding: int, kernel: int) -> "AxisMap":
        """Compose with one more layer below (closer to the input)."""
        return AxisMap(self.scale * stride, self.offset * stride - padding + kernel // 2)


@dataclass(frozen=True)
class OutputMap:
    """Where score-map cell (row, col) sits in the input tensor."""

    rows: AxisMap
    cols: AxisMap

    @classmethod
    def identity(cls) -> "OutputMap":
        return cls(AxisMap(1, 0), AxisMap(1, 0))

    @classmethod
    def from_layers(cls, layers: Iterable[tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]) -> "OutputMap":
        """``layers``: (kernel (h, w), stride (y, x), padding (y, x)) of each conv/pool, output side first."""
        rows, cols = AxisMap(1, 0), AxisMap(1, 0)
        for (kh, kw), (sy, sx), (py, px) in layers:
            rows, cols = rows.then(sy, py, kh), cols.then(sx, px, kw)
        return cls(rows, cols)


@dataclass(frozen=True)
class Detection:
    """One face: a dlib rectangle (inclusive corners, image pixels) and the raw MMOD score."""

    left: int
    top: int
    right: int
    bottom: int
    confidence: float

    @property
    def rect(self) -> Rect:
        return Rect(self.left, self.top, self.right, self.bottom)


@dataclass(frozen=True)
class NmsRule:
    """dlib's ``test_box_overlap(iou_thresh, percent_covered_thresh)``."""

    iou: float
    covered: float = 1.0

    def overlaps(self, a: Rect, b: Rect) -> bool:
        inner_w = min(a.right, b.right) - max(a.left, b.left) + 1
        inner_h = min(a.bottom, b.bottom) - max(a.top, b.top) + 1
        if inner_w <= 0 or inner_h <= 0:
            return False
        inner = float(inner_w * inner_h)
        hull_w = max(a.right, b.right) - min(a.left, b.left) + 1
        hull = float(hull_w * (max(a.bottom, b.bottom) - min(a.top, b.top) + 1))
        area_a, area_b = float(a.width * a.height), float(b.width * b.height)
        return inner / hull > self.iou or inner / area_a > self.covered or inner / area_b > self.covered


def _round(value: float) -> int:
    return int(math.floor(value + 0.5))


def nearest_level(levels: Sequence[Rect], x: int, y: int) -> int:
    """dlib's ``nearest_rect``: the first level containing the point, else the closest one."""
    best, best_dist = 0, math.inf
    for index, rect in enumerate(levels):
        if rect.left <= x <= rect.right and rect.top <= y <= rect.bottom:
            return index
        near_x, near_y = min(max(x, rect.left), rect.right), min(max(y, rect.top), rect.bottom)
        dist = math.hypot(near_x - x, near_y - y)
        if dist < best_dist:
            best, best_dist = index, dist
    return best


def window_to_image(layout: PyramidLayout, cx: float, cy: float, width: int, height: int) -> Rect:
    """The image rectangle of a ``width`` x ``height`` window centred on tensor point (cx, cy)."""
    half_w, half_h = (width - 1) / 2, (height - 1) / 2
    left, top, right, bottom = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    centre_x, centre_y = (left + right) / 2.0, (top + bottom) / 2.0
    level = nearest_level(layout.levels, _round(centre_x), _round(centre_y))
    origin = layout.levels[level]
    corners = [left - origin.left, top - origin.top, right - origin.left, bottom - origin.top]
    up = layout.n / (layout.n - 1.0)
    for _ in range(level):
        corners = [value * up + 0.3 for value in corners]
    x0, y0, x1, y1 = corners
    return Rect(_round(min(x0, x1)), _round(min(y0, y1)), _round(max(x0, x1)), _round(max(y0, y1)))


def decode(scores: np.ndarray, layout: PyramidLayout, mapping: OutputMap, window: tuple[int, int],
           nms: NmsRule, threshold: float = 0.0) -> list[Detection]:
    """Detections from one (rows, cols) score map of the tiled pyramid, after NMS, best first."""
    scores = np.asarray(scores)
    rows, cols = np.nonzero(scores > threshold)
    if rows.size == 0 or not layout.levels:
        return []
    values = scores[rows, cols].astype(np.float64)
    order = np.argsort(-values, kind="stable")
    width, height = window
    kept: list[Detection] = []
    for index in order:
        r, c = int(rows[index]), int(cols[index])
        cx, cy = c * mapping.cols.scale + mapping.cols.offset, r * mapping.rows.scale + mapping.rows.offset
        rect = window_to_image(layout, cx, cy, width, height)
        if any(nms.overlaps(other.rect, rect) for other in kept):
            continue
        kept.append(Detection(rect.left, rect.top, rect.right, rect.bottom, float(values[index])))
    return kept
