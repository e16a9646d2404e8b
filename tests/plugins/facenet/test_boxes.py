"""Box arithmetic of the cascade: pyramid, candidates, NMS, regression, squaring, landmarks, margins."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.boxes import nms
from plugins.facenet import boxes as bx


def test_pyramid_starts_at_min_face_and_stops_below_12_pixels():
    scales = bx.pyramid_scales(640, 480, min_face=20, factor=0.709)
    assert scales[0] == pytest.approx(0.6)
    np.testing.assert_allclose(np.diff(np.log(scales)), np.log(0.709))
    assert 480 * scales[-1] >= 12 > 480 * scales[-1] * 0.709
    assert len(scales) == 10


def test_pyramid_is_empty_when_the_image_is_smaller_than_a_min_face():
    assert bx.pyramid_scales(30, 19, min_face=20) == []
    assert len(bx.pyramid_scales(30, 20, min_face=20)) == 1


def test_pnet_candidates_map_cells_to_windows_of_the_original_image():
    scores = np.zeros((5, 6))
    scores[2, 3] = 0.9
    scores[4, 0] = 0.5
    offsets = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    windows, found, regs = bx.pnet_candidates(offsets, scores, scale=0.5, threshold=0.6)
    np.testing.assert_allclose(windows, [[12, 8, 36, 32]])  # cell (row 2, col 3) -> (6, 4) + 12 px, / 0.5
    np.testing.assert_allclose(found, [0.9])
    np.testing.assert_allclose(regs, [offsets[:, 2, 3]])


def test_nms_keeps_the_best_of_each_overlapping_group():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]], dtype=float)
    scores = np.array([0.8, 0.9, 0.7, 0.6])
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [1, 2])
    np.testing.assert_array_equal(nms(boxes, scores, 0.99), [1, 0, 2, 3])


def test_nms_min_mode_removes_a_box_nested_in_a_bigger_one():
    boxes = np.array([[0, 0, 100, 100], [10, 10, 40, 40]], dtype=float)
    scores = np.array([0.9, 0.8])
    assert len(nms(boxes, scores, 0.7, mode="union")) == 2  # IoU 0.09
    np.testing.assert_array_equal(nms(boxes, scores, 0.7, mode="min"), [0])  # overlap / smaller = 1


def test_nms_of_nothing():
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def test_regress_moves_sides_by_fractions_of_the_size():
    boxes = np.array([[10, 20, 30, 60]], dtype=float)  # 20 wide, 40 high
    np.testing.assert_allclose(bx.regress(boxes, np.array([[0.1, -0.25, 0.5, 0.0]])), [[12, 10, 40, 60]])


def test_squared_keeps_the_centre_and_the_longer_side():
    out = bx.squared(np.array([[10, 20, 30, 60], [0, 0, 8, 4]], dtype=float))
    np.testing.assert_allclose(out, [[0, 20, 40, 60], [0, -2, 8, 6]])


def test_place_landmarks_scales_xs_then_ys_into_the_box():
    boxes = np.array([[100, 200, 150, 300]], dtype=float)
    relative = np.array([[0.0, 1.0, 0.5, 0.2, 0.8, 0.0, 0.1, 0.5, 0.9, 1.0]])
    np.testing.assert_allclose(bx.place_landmarks(boxes, relative)[0],
                               [[100, 200], [150, 210], [125, 250], [110, 290], [140, 300]])


def test_pad_box_grows_each_side_by_its_margin():
    out = bx.pad_box(np.array([[100, 100, 200, 300]], dtype=float), (0.2, 0.1, 0.3, 0.05))
    np.testing.assert_allclose(out, [[80, 80, 230, 310]])
