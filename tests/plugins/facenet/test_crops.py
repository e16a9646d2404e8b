"""Crops of many boxes at once: right pixels, right level of the image chain, black outside."""
from __future__ import annotations

import numpy as np

from plugins.facenet import crops as crops_module
from plugins.facenet.crops import ImageChain, crop_boxes, gather_bilinear, sample_bilinear


def ramp(height: int = 120, width: int = 160) -> np.ndarray:
    """R = x, G = y, B = 7: linear, so any faithful resampling reproduces the coordinates."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.dstack([xs, ys, np.full_like(xs, 7)])


def test_sample_bilinear_interpolates_and_reads_black_outside():
    image = ramp()
    xs = np.array([[10.25, 20.5, -3.0]])
    ys = np.array([[5.0, 6.5, 119.0]])
    out = sample_bilinear(image, xs, ys)  # (1, 3 rows, 3 cols, 3)
    np.testing.assert_allclose(out[0, 1, 1], [20.5, 6.5, 7.0], atol=1e-5)
    np.testing.assert_allclose(out[0, 0, 0], [10.25, 5.0, 7.0], atol=1e-5)
    np.testing.assert_allclose(out[0, :, 2], 0.0)  # x = -3 lies outside the image


def test_remap_agrees_with_exact_bilinear_within_a_64th_of_a_step():
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (60, 80, 3)).astype(np.float32)
    xs = rng.uniform(-10, 90, (7, 24))  # some positions lie outside the image on every side
    ys = rng.uniform(-10, 70, (7, 24))
    fast, exact = sample_bilinear(image, xs, ys), gather_bilinear(image, xs, ys)
    assert fast.shape == exact.shape == (7, 24, 24, 3)
    np.testing.assert_allclose(fast, exact, atol=255 / 64 + 1e-3)  # one 1/32 weight step on a 0..255 jump
    ramp_out = sample_bilinear(ramp(), np.array([[10.3]]), np.array([[5.7]]))[0, 0, 0]
    np.testing.assert_allclose(ramp_out, [10.3, 5.7, 7.0], atol=1 / 64)


def test_many_crops_are_cut_in_calls_opencv_accepts(monkeypatch):
    monkeypatch.setattr(crops_module, "REMAP_LIMIT", 100)  # 4 crops of 24 rows per call
    xs = np.tile(np.arange(24, dtype=float), (10, 1)) + np.arange(10)[:, None]
    out = sample_bilinear(ramp(), xs, np.tile(np.arange(24, dtype=float), (10, 1)))
    np.testing.assert_allclose(out[:, 0, 0, 0], np.arange(10), atol=1e-4)  # crop n starts at x = n


def test_a_region_too_large_for_opencv_is_sampled_in_numpy(monkeypatch):
    monkeypatch.setattr(crops_module, "REMAP_LIMIT", 50)
    calls = []
    monkeypatch.setattr(crops_module, "gather_bilinear", lambda *args: calls.append(1) or gather_bilinear(*args))
    xs = np.array([[5.0, 150.3]])  # spans 146 columns > the (patched) limit
    out = sample_bilinear(ramp(), xs, np.array([[3.0, 4.0]]))
    np.testing.assert_allclose(out[0, 0, :, 0], [5.0, 150.3], atol=1e-5)
    assert calls == [1]
    sample_bilinear(ramp(), np.array([[5.0, 20.3]]), np.array([[3.0, 4.0]]))  # small enough for OpenCV
    assert calls == [1]


def test_crop_boxes_samples_pixel_centres_of_the_box():
    chain = ImageChain.build(ramp())
    boxes = np.array([[40, 30, 88, 78], [0, 0, 24, 48]], dtype=float)  # 48 px sides -> full-resolution level
    crops = crop_boxes(chain, boxes, 48)
    assert crops.shape == (2, 48, 48, 3)
    np.testing.assert_allclose(crops[0, :, :, 0], np.tile(np.arange(40, 88), (48, 1)), atol=1e-4)
    np.testing.assert_allclose(crops[0, :, :, 1], np.tile(np.arange(30, 78)[:, None], (1, 48)), atol=1e-4)
    np.testing.assert_allclose(crops[1, 0, 1:, 0], np.arange(1, 48) * 0.5 - 0.25, atol=1e-4)  # x step 0.5
    np.testing.assert_allclose(crops[1, :, 1, 1], np.arange(48) * 1.0, atol=1e-4)  # y step 1


def test_big_boxes_read_from_a_shrunk_copy_and_stay_faithful():
    chain = ImageChain.build(ramp())
    assert chain.scales[0] == 1.0 and len(chain.scales) > 3
    levels = chain.level_for(np.array([24.0, 40.0, 100.0, 1000.0]), 24)
    assert levels[0] == 0 and levels[1] == 1 and levels[2] > levels[1] and levels[3] == len(chain.scales) - 1
    crops = crop_boxes(chain, np.array([[20, 10, 120, 110]], dtype=float), 24)
    centres = 20 + (np.arange(24) + 0.5) * 100 / 24 - 0.5
    np.testing.assert_allclose(crops[0, 12, :, 0], centres, atol=1.0)  # area-averaged copy, ~0.5 px error


def test_box_half_outside_is_black_there():
    chain = ImageChain.build(ramp())
    crop = crop_boxes(chain, np.array([[-24, 10, 24, 58]], dtype=float), 48)[0]
    assert np.all(crop[:, :23] == 0) and np.all(crop[:, 25:, 2] > 6.9)


def test_no_boxes_no_crops():
    assert crop_boxes(ImageChain.build(ramp()), np.zeros((0, 4)), 48).shape == (0, 48, 48, 3)
