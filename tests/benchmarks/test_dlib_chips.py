"""The dlib chip facts docs/benchmarks.md relies on (issue 15): dlib already cuts chips from the face's own
neighbourhood, so the pixels far from the face change nothing, and a crop around the face gives the same chip."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecore.model_store import package_path
from plugins.dlib import models as specs
from tools.benchmarks.dlib_chips import CHIPS, chip_details, cut_from_crop, main, measure
from tools.common.images import read_rgb

dlib = pytest.importorskip("dlib")
ASTRONAUT = Path(__file__).resolve().parents[2] / "sample_images" / "astronaut.png"


@pytest.fixture(scope="module")
def astronaut_shape():
    image = read_rgb(ASTRONAUT)
    faces = dlib.get_frontal_face_detector()(image)
    assert len(faces) == 1
    predictor = dlib.shape_predictor(str(package_path(specs.SHAPE5.source)))
    return image, predictor(image, faces[0])


def noisy_photo(height: int, width: int) -> np.ndarray:
    """Noise over flat and saturated patches: the flat ones are where a rounding change would show."""
    rng = np.random.default_rng(15)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image[: height // 3, : width // 3] = 255
    image[height // 2:, width // 2:] = (90, 140, 200)
    return image


def test_chip_details_reproduce_get_face_chip(astronaut_shape):
    image, shape = astronaut_shape
    for size, padding in CHIPS:
        expected = dlib.get_face_chip(image, shape, size=size, padding=padding)
        assert np.array_equal(dlib.extract_image_chip(image, chip_details(shape, size, padding)), expected)


@pytest.mark.parametrize(("left", "top", "side", "angle"), [
    (700.3, 500.7, 600.0, 0.0),       # large face, the deepest pyramid
    (655.1, 40.2, 300.5, 0.4),        # rotated, its corners above the top edge
    (-35.6, 900.9, 150.2, -0.3),      # beyond the left edge, rotated the other way
    (1700.4, 1100.2, 80.7, 0.1),      # small, against the bottom-right corner
])
def test_a_crop_around_the_chip_gives_the_same_chip(left, top, side, angle):
    image = noisy_photo(1200, 1800)
    for size in (150, 64, 32):
        details = dlib.chip_details(dlib.drectangle(left, top, left + side, top + side), dlib.chip_dims(size, size),
                                    angle)
        assert np.array_equal(cut_from_crop(image, details), dlib.extract_image_chip(image, details))


def test_measure_reports_equal_chips_for_every_way(astronaut_shape):
    image, shape = astronaut_shape
    cost = measure("astronaut", image, shape, repeats=1)
    assert cost.equal == {"photo": True, "4x pixels": True, "crop": True}
    assert 80 < cost.rect_px < 300 and all(ms > 0 for ms in cost.median_ms.values())


def test_the_padding_matters():
    """The geometry must be get_face_chip's to the last bit (its C float padding); another padding shows."""
    image = noisy_photo(400, 400)
    shape = dlib.full_object_detection(dlib.rectangle(100, 100, 300, 300),
                                       [dlib.point(250, 170), dlib.point(215, 172), dlib.point(140, 168),
                                        dlib.point(178, 171), dlib.point(196, 240)])
    expected = dlib.get_face_chip(image, shape, size=64, padding=0.2)
    assert np.array_equal(dlib.extract_image_chip(image, chip_details(shape, 64, 0.2)), expected)
    assert not np.array_equal(dlib.extract_image_chip(image, dlib.get_face_chip_details(shape, 64, 0.21)), expected)


def test_main_prints_one_line_per_photo(capsys):
    assert main(["--repeats", "1", str(ASTRONAUT)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("astronaut.png") and "NOT EQUAL" not in line
