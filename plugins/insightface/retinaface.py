"""RetinaFace decoders: the PyTorch (biubug6-style) ONNX export and InsightFace's MXNet release.

biubug6-style graphs output ``loc`` (N, P, 4), ``conf`` (N, P, 2) and ``iou``/``landms`` (N, P, 10) over
SSD priors: strides 8/16/32 with square priors of 16/32, 64/128 and 256/512 pixels, box offsets
scaled by the variances 0.1 (centre) and 0.2 (size). They take BGR pixels minus (104, 117, 123).

InsightFace's MXNet RetinaFace (CompreFace's ``retinaface_*`` models) outputs, per stride 32/16/8,
``face_rpn_cls_prob_reshape_stride<s>`` (1, 2A, H, W) with the face scores in the second half of the
channels, ``face_rpn_bbox_pred_stride<s>`` (1, 4A, H, W) as R-CNN deltas and
``face_rpn_landmark_pred_stride<s>`` (1, 10A, H, W) as offsets in anchor widths. Anchors are squares of
16 * scale pixels centred at (7.5, 7.5) + (column, row) * stride, scales (32, 16) / (8, 4) / (2, 1).
These graphs take RGB pixels 0..255 and scale them themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plugins.insightface.blob import RAW_RGB, Normalisation
from plugins.insightface.boxes import Candidates

PRIOR_SIZES = {8: (16, 32), 16: (64, 128), 32: (256, 512)}
VARIANCE = (0.1, 0.2)
MXNET_SCALES = {32: (32.0, 16.0), 16: (8.0, 4.0), 8: (2.0, 1.0)}
MXNET_BASE = 16.0


def ssd_priors(width: int, height: int) -> np.ndarray:
    """(P, 4) priors cx, cy, w, h in pixels, in the export's order (stride, row, column, size)."""
    parts = []
    for stride, sizes in PRIOR_SIZES.items():
        rows, cols = -(-height // stride), -(-width // stride)
        ys, xs = np.mgrid[:rows, :cols]
        centres = (np.stack([xs, ys], axis=-1).reshape(-1, 1, 2) + 0.5) * stride
        wh = np.broadcast_to(np.asarray(sizes, dtype=np.float64)[None, :, None], (centres.shape[0], len(sizes), 2))
        parts.append(np.concatenate([np.broadcast_to(centres, wh.shape), wh], axis=-1).reshape(-1, 4))
    return np.concatenate(parts)


def _softmax_if_needed(conf: np.ndarray) -> np.ndarray:
    if conf.min() >= 0.0 and conf.max() <= 1.0 and np.allclose(conf.sum(axis=1), 1.0, atol=1e-3):
        return conf
    shifted = np.exp(conf - conf.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class SsdRetinaFaceDecoder:
    """biubug6-style RetinaFace; output names are looked up by role."""

    names: dict[str, str]  # role (loc, conf, marks) -> output name
    kind: str = "retinaface"
    norm: Normalisation = Normalisation((104.0, 117.0, 123.0), 1.0, bgr=True)
    multiple: int = 32

    def decode(self, outputs: dict[str, np.ndarray], width: int, height: int, floor: float) -> Candidates:
        loc = np.asarray(outputs[self.names["loc"]]).reshape(-1, 4)
        conf = _softmax_if_needed(np.asarray(outputs[self.names["conf"]]).reshape(-1, 2))
        priors = ssd_priors(width, height)
        if len(priors) != len(loc):
            raise ValueError(f"RetinaFace output has {len(loc)} boxes, expected {len(priors)} priors for a "
                             f"{width}x{height} input: not a biubug6-style RetinaFace (strides 8/16/32, 2 priors)")
        keep = np.flatnonzero(conf[:, 1] > floor)
        priors, loc = priors[keep], loc[keep]
        centres = priors[:, :2] + loc[:, :2] * VARIANCE[0] * priors[:, 2:]
        sizes = priors[:, 2:] * np.exp(loc[:, 2:] * VARIANCE[1])
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        marks = None
        if "marks" in self.names:
            offsets = np.asarray(outputs[self.names["marks"]]).reshape(-1, 5, 2)[keep]
            marks = priors[:, None, :2] + offsets * VARIANCE[0] * priors[:, None, 2:]
        return Candidates(boxes, conf[keep, 1], marks)


def mxnet_anchors(rows: int, cols: int, stride: int) -> np.ndarray:
    """(rows * cols * A, 4) x1 y1 x2 y2 anchors, row-major, anchors of a cell consecutive."""
    half = np.array([(MXNET_BASE * s - 1) / 2 for s in MXNET_SCALES[stride]])
    centre = (MXNET_BASE - 1) / 2
    base = np.stack([centre - half, centre - half, centre + half, centre + half], axis=1)  # (A, 4)
    ys, xs = np.mgrid[:rows, :cols]
    shifts = np.stack([xs, ys, xs, ys], axis=-1).reshape(-1, 1, 4) * stride
    return (shifts + base[None]).reshape(-1, 4)


@dataclass
class MxnetRetinaFaceDecoder:
    """InsightFace's MXNet RetinaFace after conversion; ``names[stride]`` = (cls, bbox, landmark) outputs."""

    names: dict[int, tuple[str, str, str | None]]
    landmark_std: float = 1.0
    kind: str = "retinaface_mxnet"
    norm: Normalisation = field(default_factory=lambda: RAW_RGB)
    multiple: int = 32

    def decode(self, outputs: dict[str, np.ndarray], width: int, height: int, floor: float) -> Candidates:
        parts = []
        for stride, (cls_name, box_name, mark_name) in self.names.items():
            cls = np.asarray(outputs[cls_name])[0]
            per_cell = cls.shape[0] // 2
            rows, cols = cls.shape[1], cls.shape[2]
            scores = cls[per_cell:].transpose(1, 2, 0).reshape(-1)
            keep = np.flatnonzero(scores > floor)
            if not keep.size:
                continue
            anchors = mxnet_anchors(rows, cols, stride)[keep]
            widths = anchors[:, 2:] - anchors[:, :2] + 1.0
            centres = anchors[:, :2] + 0.5 * (widths - 1.0)
            deltas = np.asarray(outputs[box_name])[0].transpose(1, 2, 0).reshape(-1, 4)[keep]
            pred_c = deltas[:, :2] * widths + centres
            pred_wh = np.exp(deltas[:, 2:]) * widths
            boxes = np.concatenate([pred_c - 0.5 * (pred_wh - 1.0), pred_c + 0.5 * (pred_wh - 1.0)], axis=1)
            marks = None
            if mark_name is not None:
                offsets = np.asarray(outputs[mark_name])[0].transpose(1, 2, 0).reshape(-1, 5, 2)[keep]
                marks = centres[:, None, :] + offsets * self.landmark_std * widths[:, None, :]
            parts.append(Candidates(boxes, scores[keep], marks))
        return Candidates.concat(parts)
