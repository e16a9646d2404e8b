"""Mask: anchors and decoding, the TensorFlow oracle on the real graph with our crops, and real photos with
test-drawn masks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecore.plugin_api import BoundingBox, Face
from plugins.extras.catalogue import AIZOO
from plugins.extras.mask import GRAPH_INPUT, GRAPH_OUTPUTS, MaskDetector
from plugins.extras.mask_model import ANCHORS, answer, decode, neighbourhood
from tests.plugins.extras.helpers import largest_face, loaded_from_shared
from tests.plugins.extras.masks import MASK_COLOURS, draw_eye_band, draw_mask
from tests.shared_data import shared_path

PORTRAITS = ("img1.jpg", "img16.jpg", "img29.jpg", "img47.jpg")


def test_anchors_follow_the_published_layout():
    assert ANCHORS.shape == ((33 * 33 + 17 * 17 + 9 * 9 + 5 * 5 + 3 * 3) * 4, 4)
    first = ANCHORS[:4]  # top-left cell of the 33x33 map: sizes 0.04, 0.056 square, then 0.04 at ratios .62, .42
    assert np.allclose((first[:, :2] + first[:, 2:]) / 2, 0.5 / 33)
    widths, heights = first[:, 2] - first[:, 0], first[:, 3] - first[:, 1]
    assert np.allclose(widths, [0.04, 0.056, 0.04 * np.sqrt(0.62), 0.04 * np.sqrt(0.42)])
    assert np.allclose(heights, [0.04, 0.056, 0.04 / np.sqrt(0.62), 0.04 / np.sqrt(0.42)])
    assert np.allclose((ANCHORS[4, :2] + ANCHORS[4, 2:]) / 2, [1.5 / 33, 0.5 / 33])  # x moves first


def test_decode_zero_offsets_is_the_anchor_and_shifts_scale_with_variances():
    assert np.allclose(decode(np.zeros((len(ANCHORS), 4))), ANCHORS)
    prior = np.array([[0.4, 0.4, 0.6, 0.6]])
    box = decode(np.array([[1.0, 0.0, 0.0, np.log(2) / 0.2]]), prior)[0]
    assert np.allclose(box, [0.42, 0.3, 0.62, 0.7])


def test_answer_prefers_boxes_on_the_face():
    scores = np.tile([0.1, 0.2], (len(ANCHORS), 1))
    far, near = 0, int(np.argmin(np.abs(ANCHORS - [0.3, 0.3, 0.7, 0.7]).sum(axis=1)))
    scores[far] = [0.99, 0.01]  # a confident masked face elsewhere in the crop
    scores[near] = [0.05, 0.9]
    found = answer(np.zeros((len(ANCHORS), 4)), scores, np.array([0.3, 0.3, 0.7, 0.7]))
    assert (found.value, found.probability) == ("without_mask", 0.9)


def test_neighbourhood_is_twice_the_box_with_the_face_centred():
    image = np.full((100, 100, 3), 255, dtype=np.uint8)
    crop = neighbourhood(image, BoundingBox(70, 10, 100, 40))
    assert crop.pixels.shape == (260, 260, 3) and crop.pixels.dtype == np.float32
    assert np.allclose(crop.face, [0.25, 0.25, 0.75, 0.75])
    assert crop.pixels[0, 0].max() == 0.0 and crop.pixels[130, 130].min() == 1.0  # black outside the image


def _plugin(root: Path) -> MaskDetector:
    return loaded_from_shared(MaskDetector(AIZOO[0]), root, "facemask-aizoo")


def _largest(path: Path) -> Face:
    face = largest_face(path)
    return Face(face.image, face.detection)


@pytest.mark.integration
def test_converted_graph_equals_tensorflow_on_our_crops(tmp_path):
    from tests.srcext.tensorflow_oracle import graph_forward

    plugin = _plugin(tmp_path / "store")
    faces = [_largest(shared_path(f"datasets/deepface/{name}")) for name in PORTRAITS[:2]]
    images = [faces[0].image, draw_mask(faces[1].image, faces[1], MASK_COLOURS[0])]
    crops = [neighbourhood(image, face.detection.box) for image, face in zip(images, faces)]
    blob = np.stack([c.pixels for c in crops])
    ours = plugin.network.outputs(blob)
    graph = shared_path("models/facemask-aizoo/face_mask_detection.pb")
    theirs = graph_forward(tmp_path, graph, {GRAPH_INPUT: blob}, list(GRAPH_OUTPUTS))
    for mine, reference in zip(ours, theirs):
        assert np.abs(mine - reference).max() / np.abs(reference).max() < 1e-4
    decided = [answer(o, s, c.face).value for o, s, c in zip(theirs[0], theirs[1], crops)]
    assert decided == ["without_mask", "with_mask"] == [a["mask"]["value"] for a in plugin.analyze(
        [Face(image, face.detection) for image, face in zip(images, faces)])]


@pytest.mark.integration
def test_portraits_are_unmasked_and_drawn_masks_are_caught(tmp_path):
    plugin = _plugin(tmp_path)
    for name in PORTRAITS:
        face = _largest(shared_path(f"datasets/deepface/{name}"))
        bare = plugin.analyze([face])[0]["mask"]
        assert bare["value"] == "without_mask" and bare["probability"] > 0.9, name
        masked = plugin.analyze([Face(draw_mask(face.image, face, MASK_COLOURS[0]), face.detection)])[0]["mask"]
        assert masked["value"] == "with_mask", name
        band = plugin.analyze([Face(draw_eye_band(face.image, face, MASK_COLOURS[0]), face.detection)])[0]["mask"]
        assert band["value"] == "without_mask", name  # an occluder over the eyes is not a mask
