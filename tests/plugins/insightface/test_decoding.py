"""Decoders, suppression and routing on synthetic outputs (no weights needed)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from facecore.boxes import nms, order_landmarks
from plugins.insightface.blob import Normalisation, fit_input, to_blob
from plugins.insightface.boxes import Candidates, to_faces
from plugins.insightface.retinaface import MxnetRetinaFaceDecoder, SsdRetinaFaceDecoder, mxnet_anchors, ssd_priors
from plugins.insightface.router import UnknownDetectorLayout, decoder_for
from plugins.insightface.scrfd import ScrfdDecoder, anchor_centres
from plugins.insightface.yunet import YunetDecoder


def fake_session(outputs: list[tuple[str, list]]) -> SimpleNamespace:
    return SimpleNamespace(get_outputs=lambda: [SimpleNamespace(name=n, shape=s) for n, s in outputs])


def test_nms_keeps_best_of_overlapping_and_disjoint_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=float)
    assert nms(boxes, np.array([0.7, 0.9, 0.8])).tolist() == [1, 2]


def test_threshold_is_strict_and_landmarks_follow_the_contract_order():
    marks = np.array([[[8, 2], [2, 2], [5, 5], [8, 8], [2, 8]]], dtype=float)
    found = Candidates(np.array([[0, 0, 10, 10.0]]), np.array([0.8]), marks)
    assert to_faces(found, 0.8, 100, 100) == []
    face = to_faces(found, 0.79, 100, 100)[0]
    points = np.asarray(face.landmarks)
    assert points[:, 0].tolist() == [2, 8, 5, 2, 8]
    assert order_landmarks(points).tolist() == points.tolist()


def test_fit_input_pads_dynamic_and_letterboxes_fixed():
    image = np.full((50, 70, 3), 9, np.uint8)
    padded, scale = fit_input(image, None, 32)
    assert padded.shape == (64, 96, 3) and scale == 1.0 and padded[49, 69, 0] == 9 and padded[50, 70, 0] == 0
    boxed, scale = fit_input(image, (140, 140))
    assert boxed.shape == (140, 140, 3) and scale == 2.0 and boxed[99, 0, 0] == 9 and boxed[100, 0, 0] == 0
    blob = to_blob(image, Normalisation(127.5, 128.0))
    assert blob.shape == (1, 3, 50, 70) and np.allclose(blob, (9 - 127.5) / 128)


def test_to_blob_equals_the_plain_formula_for_batches_bgr_and_channel_means():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    for norm in (Normalisation(127.5, 128.0), Normalisation((104.0, 117.0, 123.0), 1.0, bgr=True),
                 Normalisation(0.0, 1.0, bgr=True), Normalisation(0.0, 255.0), Normalisation((0.0, 1.0, 0.0), 1.0)):
        pixels = images[..., ::-1] if norm.bgr else images
        expected = ((pixels.astype(np.float32) - np.asarray(norm.mean, np.float32)) / np.float32(norm.std))
        blob = to_blob(images, norm)
        assert blob.dtype == np.float32 and blob.flags["C_CONTIGUOUS"]
        assert np.array_equal(blob, expected.transpose(0, 3, 1, 2))


def test_anchor_centres_of_kept_indices_equal_the_whole_grid_cut():
    keep = np.array([0, 5, 11, 23])
    assert np.array_equal(anchor_centres(3, 4, 16, 2, keep), anchor_centres(3, 4, 16, 2)[keep])


def test_scrfd_decodes_distances_from_anchor_centres():
    width = height = 64
    outputs = {}
    sizes = {8: 8 * 8 * 2, 16: 4 * 4 * 2, 32: 2 * 2 * 2}
    for i, (stride, n) in enumerate(sizes.items()):
        outputs[f"s{stride}"] = np.zeros((n, 1), np.float32)
        outputs[f"b{stride}"] = np.ones((n, 4), np.float32)
        outputs[f"k{stride}"] = np.zeros((n, 10), np.float32)
    ordered = {k: outputs[k] for k in [f"{p}{s}" for p in "sbk" for s in sizes]}
    ordered["s16"][2 * (1 * 4 + 2) + 1] = 0.9  # row 1, column 2, second anchor of stride 16
    found = ScrfdDecoder().decode(ordered, width, height, 0.5)
    assert found.boxes.tolist() == [[16.0, 0.0, 48.0, 32.0]] and found.scores.tolist() == [pytest.approx(0.9)]
    assert found.landmarks[0].tolist() == [[32.0, 16.0]] * 5
    assert anchor_centres(2, 3, 8, 2)[:4].tolist() == [[0, 0], [0, 0], [8, 0], [8, 0]]


def test_ssd_priors_and_retinaface_decoding():
    priors = ssd_priors(640, 480)
    assert len(priors) == 2 * (80 * 60 + 40 * 30 + 20 * 15)
    assert priors[:2].tolist() == [[4, 4, 16, 16], [4, 4, 32, 32]]
    count = len(ssd_priors(64, 64))
    conf = np.tile([[1.0, 0.0]], (count, 1))
    conf[1] = [0.05, 0.95]
    outputs = {"loc": np.zeros((1, count, 4)), "conf": conf[None], "iou": np.zeros((1, count, 10))}
    found = SsdRetinaFaceDecoder({"loc": "loc", "conf": "conf", "marks": "iou"}).decode(outputs, 64, 64, 0.5)
    assert found.boxes.tolist() == [[-12.0, -12.0, 20.0, 20.0]] and found.landmarks[0, 0].tolist() == [4, 4]
    with pytest.raises(ValueError, match="priors"):
        SsdRetinaFaceDecoder({"loc": "loc", "conf": "conf"}).decode(outputs, 128, 64, 0.5)


def test_mxnet_anchors_and_decoding():
    anchors = mxnet_anchors(1, 2, 8)
    assert anchors.tolist() == [[-8, -8, 23, 23], [0, 0, 15, 15], [0, -8, 31, 23], [8, 0, 23, 15]]
    cls = np.zeros((1, 4, 1, 2), np.float32)
    cls[0, 3, 0, 1] = 0.9  # second anchor (scale 1) of column 1
    names = {8: ("cls_prob_stride8", "bbox_pred_stride8", "landmark_pred_stride8")}
    outputs = {"cls_prob_stride8": cls, "bbox_pred_stride8": np.zeros((1, 8, 1, 2)),
               "landmark_pred_stride8": np.zeros((1, 20, 1, 2))}
    found = MxnetRetinaFaceDecoder(names).decode(outputs, 16, 8, 0.5)
    assert found.boxes.tolist() == [[8, 0, 23, 15]] and found.landmarks[0, 0].tolist() == [15.5, 7.5]


def test_yunet_decoding():
    outputs = {}
    for stride in (8, 16, 32):
        cells = (32 // stride) * (64 // stride)
        for head, width in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)):
            outputs[f"{head}_{stride}"] = np.zeros((1, cells, width), np.float32)
    outputs["cls_16"][0, 5] = outputs["obj_16"][0, 5] = 0.9  # row 1, column 1 of a 4-wide grid
    found = YunetDecoder().decode(outputs, 64, 32, 0.5)
    assert found.boxes.tolist() == [[8, 8, 24, 24]] and found.scores[0] == pytest.approx(0.9)


def test_router_picks_each_layout_and_refuses_unknown_ones():
    scrfd = [(f"o{i}", [1, "n", w]) for i, w in enumerate([1] * 3 + [4] * 3 + [10] * 3)]
    assert decoder_for(fake_session(scrfd)).kind == "scrfd"
    assert decoder_for(fake_session([("loc", []), ("conf", []), ("iou", [])])).kind == "retinaface"
    yunet = [(f"{h}_{s}", []) for h in ("cls", "obj", "bbox", "kps") for s in (8, 16, 32)]
    assert decoder_for(fake_session(yunet)).kind == "yunet"
    mxnet = [(f"face_rpn_{h}_stride{s}_output", []) for s in (32, 16, 8)
             for h in ("cls_prob_reshape", "bbox_pred", "landmark_pred")]
    decoder = decoder_for(fake_session(mxnet), {"landmark_std": 0.2})
    assert decoder.kind == "retinaface_mxnet" and sorted(decoder.names) == [8, 16, 32] and decoder.landmark_std == 0.2
    with pytest.raises(UnknownDetectorLayout, match=r"2 outputs \(a\[1, 512\], b\[1, 2\]\)"):
        decoder_for(fake_session([("a", [1, 512]), ("b", [1, 2])]))
    with pytest.raises(UnknownDetectorLayout):
        decoder_for(fake_session([(f"o{i}", [1, "n", 7]) for i in range(9)]))


def test_centred_crop_maps_back_per_axis_for_a_whole_non_square_image():
    """detect_faces=false on a 200x100 image: the crop's corner (192, 192) is the image's (200, 100)."""
    from facecore.plugin_api import BoundingBox, DetectedFace, Face
    from plugins.insightface.crops import centred

    face = Face(np.zeros((100, 200, 3), dtype=np.uint8), DetectedFace(BoundingBox(0, 0, 200, 100), 1.0),
                whole_image=True)
    crop = centred(face, 192)
    assert crop.pixels.shape == (192, 192, 3)
    assert crop.to_image(np.array([[192.0, 192.0], [96.0, 96.0]])).tolist() == [[200.0, 100.0], [100.0, 50.0]]
