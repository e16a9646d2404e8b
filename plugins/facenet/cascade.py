"""The MTCNN cascade (Zhang et al. 2016): P-Net proposes windows over an image pyramid, R-Net and O-Net
re-score and refine them, O-Net adds 5 landmarks. Networks are plain callables, so tests can run the
cascade on stand-in nets and the plugin on ONNX Runtime sessions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from facecore.boxes import nms
from plugins.facenet import boxes as bx
from plugins.facenet.crops import ImageChain, crop_boxes

#: A network: NHWC float32 pixels in [0, 255] -> its outputs in the order of plugins.facenet.nets.
Net = Callable[[np.ndarray], Sequence[np.ndarray]]

#: Stage score thresholds of CompreFace's facenet detector, and the common MTCNN defaults (ours: they find
#: partly hidden faces CompreFace's miss, for about twice the time; see docs/detectors.md).
COMPREFACE_STEPS = (0.9436513301, 0.7059968943, 0.5506904359)
COMMON_STEPS = (0.6, 0.7, 0.7)


@dataclass(frozen=True)
class CascadeConfig:
    """Knobs of the cascade. ``nms`` = (per pyramid level, across levels, after R-Net, after O-Net)."""

    min_face: float = 20.0
    factor: float = 0.709
    steps: tuple[float, float, float] = COMMON_STEPS
    nms: tuple[float, float, float, float] = (0.5, 0.7, 0.7, 0.7)


@dataclass(frozen=True)
class Detections:
    """Faces of one image: boxes (N, 4) x1, y1, x2, y2; scores (N,); landmarks (N, 5, 2) in MTCNN's order
    left eye, right eye, nose, left mouth corner, right mouth corner (of the image, for a frontal face)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))

    def __len__(self) -> int:
        return len(self.scores)


class Cascade:
    """Runs the three nets over one RGB image."""

    def __init__(self, pnet: Net, rnet: Net, onet: Net, config: CascadeConfig = CascadeConfig()) -> None:
        self.pnet, self.rnet, self.onet = pnet, rnet, onet
        self.config = config

    def detect(self, image: np.ndarray) -> Detections:
        pixels = np.asarray(image, dtype=np.float32)
        if pixels.ndim != 3 or min(pixels.shape[:2]) < bx.PNET_CELL:
            return Detections.empty()
        candidates = self.propose(pixels)
        if not len(candidates):
            return Detections.empty()
        chain = ImageChain.build(pixels)
        candidates = self.refine(chain, candidates)
        if not len(candidates):
            return Detections.empty()
        return self.output(chain, candidates)

    # ------------------------------------------------------------------ stages
    def propose(self, pixels: np.ndarray) -> np.ndarray:
        """Stage 1: square candidate boxes from P-Net over the pyramid."""
        import cv2

        height, width = pixels.shape[:2]
        cfg = self.config
        windows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        offsets: list[np.ndarray] = []
        scaled = pixels
        for scale in bx.pyramid_scales(width, height, cfg.min_face, cfg.factor):
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            # each level from the one before: area-averaging cost falls with the source size
            scaled = cv2.resize(scaled, size, interpolation=cv2.INTER_AREA)
            level_offsets, level_scores = self.pnet(scaled[None])
            found = bx.pnet_candidates(level_offsets[0], level_scores[0, 1], scale, cfg.steps[0])
            keep = nms(found[0], found[1], cfg.nms[0])
            for store, values in zip((windows, scores, offsets), found):
                store.append(values[keep])
        if not windows or not sum(len(s) for s in scores):
            return np.zeros((0, 4))
        all_windows, all_scores = np.concatenate(windows), np.concatenate(scores)
        keep = nms(all_windows, all_scores, cfg.nms[1])
        return bx.squared(bx.regress(all_windows[keep], np.concatenate(offsets)[keep]))

    def refine(self, chain: ImageChain, candidates: np.ndarray) -> np.ndarray:
        """Stage 2: R-Net re-scores 24x24 crops and refines the boxes."""
        offsets, scores = self.rnet(crop_boxes(chain, candidates, 24))
        face = scores[:, 1] > self.config.steps[1]
        kept, kept_scores = bx.regress(candidates[face], offsets[face]), scores[face, 1]
        keep = nms(kept, kept_scores, self.config.nms[2])
        return bx.squared(kept[keep])

    def output(self, chain: ImageChain, candidates: np.ndarray) -> Detections:
        """Stage 3: O-Net scores 48x48 crops, refines the boxes and places the 5 landmarks."""
        offsets, landmarks, scores = self.onet(crop_boxes(chain, candidates, 48))
        face = scores[:, 1] > self.config.steps[2]
        chosen = candidates[face]
        points = bx.place_landmarks(chosen, landmarks[face].astype(np.float64))
        refined = bx.regress(chosen, offsets[face].astype(np.float64))
        probabilities = scores[face, 1].astype(np.float64)
        keep = nms(refined, probabilities, self.config.nms[3], mode="min")
        return Detections(refined[keep], probabilities[keep], points[keep])
