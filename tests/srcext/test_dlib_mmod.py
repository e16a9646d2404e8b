"""The MMOD tiled pyramid, decoding and NMS, on synthetic inputs (no dlib, no real model)."""
from __future__ import annotations

import numpy as np
import pytest

from srcext.dlib.mmod_decode import AxisMap, NmsRule, OutputMap, decode, nearest_level, window_to_image
from srcext.dlib.mmod_detector import MmodDetector, output_map, read_settings, strip_input_normalisation
from srcext.dlib.mmod_pyramid import Rect, build_tiled_pyramid, resize_level, tiled_layout
from tests.srcext.test_dlib_reader import MEAN, con, loss_mmod, write_net


def test_layout_levels_shrink_by_five_sixths_and_do_not_overlap():
    layout = tiled_layout(480, 640)
    sizes = [(r.height, r.width) for r in layout.levels]
    assert sizes[0] == (480, 640) and sizes[1] == (400, 533) and sizes[2] == (333, 444)
    for (h0, w0), (h1, w1) in zip(sizes, sizes[1:]):
        assert (h1, w1) == (int(5 / 6 * h0), int(5 / 6 * w0))
    assert sizes[-1][0] >= 5
    assert layout.levels[0] == Rect(11, 11, 650, 490) and layout.cols == 640 + 22
    for i, a in enumerate(layout.levels):
        assert 0 <= a.left and a.right < layout.cols and 0 <= a.top and a.bottom < layout.rows
        for b in layout.levels[i + 1:]:
            assert not a.intersects(b)


def test_second_column_climbs_along_the_right_edge():
    layout = tiled_layout(200, 200)
    right_column = [r for r in layout.levels[1:] if r.right == 11 + 199]
    assert right_column, "small levels go to a second column on the right"
    tops = [r.top for r in right_column if r.left > 11]
    assert tops == sorted(tops, reverse=True)


def test_resize_keeps_constants_and_corners():
    src = np.full((3, 40, 50), 0.25, dtype=np.float32)
    np.testing.assert_allclose(resize_level(src, 33, 41), 0.25, rtol=1e-6)  # float32 weights
    ramp = np.broadcast_to(np.arange(50, dtype=np.float32), (3, 40, 50)).copy()
    out = resize_level(ramp, 33, 41)
    assert out[0, 0, 0] == 0.0
    np.testing.assert_allclose(out[:, :, -1], 49.0, atol=1e-4)
    np.testing.assert_allclose(out[0, 0], np.arange(41) * 49 / 40, atol=1e-3)  # linear in x


def test_resize_matches_plain_bilinear():
    rng = np.random.default_rng(3)
    src = rng.random((3, 37, 53), dtype=np.float32)
    out = resize_level(src, 30, 44)
    ys, xs = np.arange(30) * 36 / 29, np.arange(44) * 52 / 43
    y0, x0 = np.minimum(np.floor(ys).astype(int), 35), np.minimum(np.floor(xs).astype(int), 51)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    a, b = src[:, y0][:, :, x0], src[:, y0][:, :, x0 + 1]
    c, d = src[:, y0 + 1][:, :, x0], src[:, y0 + 1][:, :, x0 + 1]
    expected = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d)
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_pyramid_is_normalised_with_zero_padding():
    image = np.full((60, 80, 3), 200, dtype=np.uint8)
    tiled, layout = build_tiled_pyramid(image, MEAN)
    first = layout.levels[0]
    np.testing.assert_allclose(tiled[:, first.top, first.left], (200 - np.float32(MEAN)) / 256, rtol=1e-6)
    assert np.all(tiled[:, :first.top] == 0) and np.all(tiled[:, :, :first.left] == 0)
    second = layout.levels[1]
    np.testing.assert_allclose(tiled[0, second.top + 2, second.left + 2], (200 - np.float32(MEAN[0])) / 256, rtol=1e-5)


def test_nms_uses_the_bounding_box_of_both():
    rule = NmsRule(0.3, 1.0)
    a, b = Rect(0, 0, 9, 9), Rect(5, 0, 14, 9)  # intersection 50, union 150, hull 150
    assert rule.overlaps(a, b)
    c = Rect(5, 5, 14, 14)  # intersection 25, hull 225 (union would be 175)
    assert not NmsRule(0.12).overlaps(a, c) and NmsRule(0.11).overlaps(a, c)
    assert NmsRule(0.9, 0.5).overlaps(Rect(0, 0, 9, 9), Rect(2, 2, 5, 5))  # covered
    assert not rule.overlaps(a, Rect(20, 20, 29, 29))


def test_window_maps_through_the_level_it_falls_in():
    layout = tiled_layout(300, 400)
    top0 = layout.levels[0]
    rect = window_to_image(layout, top0.left + 100, top0.top + 50, 80, 80)
    assert rect == Rect(61, 11, 140, 90)  # 100 -+ 39.5 and 50 -+ 39.5, rounded half up
    level1 = layout.levels[1]
    assert nearest_level(layout.levels, level1.left + 3, level1.top + 3) == 1
    up = window_to_image(layout, level1.left + 100, level1.top + 50, 80, 80)
    assert up.right - up.left == pytest.approx(79 * 1.2, abs=1)


def test_decode_thresholds_sorts_and_suppresses():
    layout = tiled_layout(200, 200)
    scores = np.full((30, 30), -1.0, dtype=np.float32)
    scores[5, 5], scores[5, 6], scores[20, 20] = 0.5, 0.9, 0.2
    found = decode(scores, layout, OutputMap(AxisMap(8, 14), AxisMap(8, 14)), (80, 80), NmsRule(0.3))
    assert [d.confidence for d in found] == [pytest.approx(0.9), pytest.approx(0.2)]
    assert decode(scores, layout, OutputMap.identity(), (80, 80), NmsRule(0.3), threshold=1.0) == []


def _tiny_detector_model():
    from srcext.dlib.convert import mmod_model
    from srcext.dlib.netfile import read_net

    weights = np.zeros((1, 3, 1, 1), dtype=np.float32)
    weights[0, 0] = 1.0  # score = normalised red - 0.2: positive where red > about 174
    net = read_net(write_net(loss_mmod, [lambda w: con(w, weights, np.array([-0.2], np.float32), 1, 0)], 0, 0))
    net.input.size = None
    return mmod_model(net)


def test_stripped_model_takes_normalised_input():
    import onnxruntime as ort

    model = _tiny_detector_model()
    settings = read_settings(model)
    assert settings.window == (40, 40) and settings.nms == NmsRule(0.3, 1.0)
    assert output_map(model) == OutputMap.identity()
    full = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    stripped = ort.InferenceSession(strip_input_normalisation(model).SerializeToString(),
                                    providers=["CPUExecutionProvider"])
    pixels = np.random.default_rng(1).integers(0, 256, (1, 3, 8, 9)).astype(np.float32)
    normalised = (pixels - np.float32(MEAN).reshape(1, 3, 1, 1)) * np.float32(1 / 256)
    np.testing.assert_allclose(stripped.run(None, {"input": normalised})[0], full.run(None, {"input": pixels})[0],
                               atol=1e-6)


def test_detector_finds_a_bright_square():
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    image[30:70, 60:100, 0] = 255
    found = MmodDetector(_tiny_detector_model())(image)
    assert found, "the red square scores above 0"
    best = found[0]
    assert 60 <= (best.left + best.right) / 2 <= 100 and 30 <= (best.top + best.bottom) / 2 <= 70
    assert found == sorted(found, key=lambda d: -d.confidence)
    assert MmodDetector(_tiny_detector_model())(np.zeros((50, 50, 3), np.uint8)) == []
