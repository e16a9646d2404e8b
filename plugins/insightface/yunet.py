"""YuNet (OpenCV Zoo's detector) decoded from its raw ONNX heads, for YuNet files served by this plugin.

Per stride 8/16/32 the graph gives ``cls_<s>``, ``obj_<s>`` (N, cells, 1), ``bbox_<s>`` (N, cells, 4) and
``kps_<s>`` (N, cells, 10) over a row-major grid of the (32-padded) input. The score is
sqrt(cls * obj); the box centre is (column + dx, row + dy) * stride and its size exp(dw, dh) * stride;
landmarks are (column + kx, row + ky) * stride. The network takes BGR pixels 0..255.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.insightface.blob import Normalisation
from plugins.insightface.boxes import Candidates

STRIDES = (8, 16, 32)
HEADS = ("cls", "obj", "bbox", "kps")


def is_yunet(names: list[str]) -> bool:
    return all(f"{head}_{stride}" in names for head in HEADS for stride in STRIDES)


@dataclass
class YunetDecoder:
    kind: str = "yunet"
    norm: Normalisation = Normalisation(0.0, 1.0, bgr=True)
    multiple: int = 32

    def decode(self, outputs: dict[str, np.ndarray], width: int, height: int, floor: float) -> Candidates:
        parts = []
        for stride in STRIDES:
            cls = np.clip(np.asarray(outputs[f"cls_{stride}"]).reshape(-1), 0.0, 1.0)
            obj = np.clip(np.asarray(outputs[f"obj_{stride}"]).reshape(-1), 0.0, 1.0)
            scores = np.sqrt(cls * obj)
            keep = np.flatnonzero(scores > floor)
            if not keep.size:
                continue
            cols = -(-width // stride)
            cells = np.stack([keep % cols, keep // cols], axis=1).astype(np.float64)
            bbox = np.asarray(outputs[f"bbox_{stride}"]).reshape(-1, 4)[keep]
            centres = (cells + bbox[:, :2]) * stride
            sizes = np.exp(bbox[:, 2:]) * stride
            boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
            kps = np.asarray(outputs[f"kps_{stride}"]).reshape(-1, 5, 2)[keep]
            marks = (cells[:, None, :] + kps) * stride
            parts.append(Candidates(boxes, scores[keep], marks))
        return Candidates.concat(parts)
