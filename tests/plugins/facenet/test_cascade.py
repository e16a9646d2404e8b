"""The cascade's plumbing on stand-in nets whose answers are known."""
from __future__ import annotations

import numpy as np

from plugins.facenet.cascade import Cascade, CascadeConfig


class FakePNet:
    """Says "face" at one grid cell of the first (largest) pyramid level only."""

    def __init__(self, row: int, col: int) -> None:
        self.row, self.col, self.calls = row, col, 0

    def __call__(self, batch):
        _, height, width, _ = batch.shape
        grid = (-(-(height - 2) // 2) - 4, -(-(width - 2) // 2) - 4)
        scores = np.zeros((1, 2, *grid), np.float32)
        scores[0, 0] = 1.0
        if self.calls == 0:
            scores[0, :, self.row, self.col] = [0.01, 0.99]
        self.calls += 1
        return np.zeros((1, 4, *grid), np.float32), scores


def fake_rnet(crops):
    n = len(crops)
    return np.zeros((n, 4), np.float32), np.tile(np.float32([0.1, 0.9]), (n, 1))


def fake_onet(crops):
    n = len(crops)
    marks = np.tile(np.float32([0.3, 0.7, 0.5, 0.35, 0.65, 0.4, 0.4, 0.6, 0.8, 0.8]), (n, 1))
    return np.full((n, 4), 0.1, np.float32) * [-1, -1, 1, 1], marks, np.tile(np.float32([0.05, 0.95]), (n, 1))


def test_one_window_goes_through_all_three_stages():
    cascade = Cascade(FakePNet(row=10, col=20), fake_rnet, fake_onet, CascadeConfig(min_face=20))
    found = cascade.detect(np.zeros((200, 300, 3), np.uint8))
    assert len(found) == 1
    # P-Net cell (10, 20) at scale 0.6 is the window x 40/0.6, y 20/0.6, 12/0.6 = 20 px wide
    x1, y1, side = 40 / 0.6, 20 / 0.6, 20.0
    np.testing.assert_allclose(found.boxes[0], [x1 - 2, y1 - 2, x1 + side + 2, y1 + side + 2], atol=1e-6)
    np.testing.assert_allclose(found.scores, [0.95], atol=1e-6)
    np.testing.assert_allclose(found.landmarks[0, 0], [x1 + 0.3 * side, y1 + 0.4 * side], atol=1e-5)
    np.testing.assert_allclose(found.landmarks[0, 4], [x1 + 0.65 * side, y1 + 0.8 * side], atol=1e-5)


def test_stage_thresholds_stop_candidates():
    strict = CascadeConfig(steps=(0.6, 0.95, 0.7))  # R-Net says 0.9: nothing passes
    assert len(Cascade(FakePNet(3, 3), fake_rnet, fake_onet, strict).detect(np.zeros((100, 100, 3)))) == 0


def test_tiny_or_blank_images_find_nothing():
    cascade = Cascade(FakePNet(0, 0), fake_rnet, fake_onet)
    assert len(cascade.detect(np.zeros((11, 400, 3)))) == 0
    assert cascade.detect(np.zeros((11, 400, 3))).landmarks.shape == (0, 5, 2)
