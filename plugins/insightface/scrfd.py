"""SCRFD (InsightFace's anchor-free-style detector of the ONNX packs): distance-to-centre decoding.

Outputs come as score, box and (optionally) keypoint groups, each ordered by stride: 6 or 9 outputs
for strides 8/16/32, 10 or 15 for strides 8..128. Box and keypoint values are in units of the stride,
measured from anchor centres at ``(column * stride, row * stride)``; the number of anchors per cell is
read from the output shapes. The network takes RGB ``(pixel - 127.5) / 128``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.insightface.blob import Normalisation
from plugins.insightface.boxes import Candidates

OUTPUT_COUNTS = {6: (8, 16, 32), 9: (8, 16, 32), 10: (8, 16, 32, 64, 128), 15: (8, 16, 32, 64, 128)}


def anchor_centres(rows: int, cols: int, stride: int, per_cell: int, keep: np.ndarray | None = None) -> np.ndarray:
    """(rows * cols * per_cell, 2) x/y centres, row-major, each cell repeated ``per_cell`` times; with ``keep``,
    only those rows (computed from the indices, not cut from the whole grid: a 640 px input has 12,800)."""
    index = np.arange(rows * cols * per_cell) if keep is None else np.asarray(keep)
    cell = index // per_cell
    return np.stack([cell % cols, cell // cols], axis=-1).astype(np.float32) * stride


def _rows(array: np.ndarray, width: int) -> np.ndarray:
    """Drop a leading batch axis of 1 (exports differ) and return (N, width)."""
    return np.asarray(array).reshape(-1, width)


@dataclass
class ScrfdDecoder:
    kind: str = "scrfd"
    norm: Normalisation = Normalisation(127.5, 128.0)
    multiple: int = 32

    def decode(self, named: dict[str, np.ndarray], width: int, height: int, floor: float) -> Candidates:
        """Candidates scoring above ``floor``, in network-input pixels (input of ``width`` x ``height``).

        ``named`` holds the outputs in the graph's order.
        """
        outputs = list(named.values())
        strides = OUTPUT_COUNTS[len(outputs)]
        levels = len(strides)
        with_kps = len(outputs) == 3 * levels
        parts = []
        for level, stride in enumerate(strides):
            scores = _rows(outputs[level], 1)[:, 0]
            rows, cols = -(-height // stride), -(-width // stride)
            per_cell = max(scores.size // (rows * cols), 1)
            keep = np.flatnonzero(scores > floor)
            if not keep.size:
                continue
            centres = anchor_centres(rows, cols, stride, per_cell, keep)
            dist = _rows(outputs[levels + level], 4)[keep] * stride
            boxes = np.concatenate([centres - dist[:, :2], centres + dist[:, 2:]], axis=1)
            marks = None
            if with_kps:
                offsets = _rows(outputs[2 * levels + level], 10)[keep].reshape(-1, 5, 2) * stride
                marks = centres[:, None, :] + offsets
            parts.append(Candidates(boxes, scores[keep], marks))
        return Candidates.concat(parts) if parts else Candidates.empty(with_kps)
