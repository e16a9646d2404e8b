"""The half-scale decoding measurement (issue 15's next step): it runs, and its matching is right."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from facecore.plugin_api import BoundingBox, DetectedFace, Face
from tests.shared_data import shared_path
from tools.benchmarks.reduced_decode import box_rows, decode_half, main
from tools.common.annotations import iou_matrix


def test_a_half_scale_box_scaled_back_matches_its_full_size_box():
    def face(box: BoundingBox) -> Face:
        return Face(np.zeros((1, 1, 3), np.uint8), DetectedFace(box, 1.0))

    full = box_rows([face(BoundingBox(100, 50, 300, 250))])
    half = box_rows([face(BoundingBox(50, 25, 150, 125)), face(BoundingBox(100, 25, 200, 125)),
                     face(BoundingBox(500, 500, 600, 600))], 2.0)
    assert iou_matrix(full, half)[0] == pytest.approx([1.0, 1 / 3, 0.0])


@pytest.mark.integration
def test_a_large_portrait_is_measured_both_ways(tmp_path, capsys):
    photo = shared_path("datasets/deepface/img4.jpg")
    shutil.copy(photo, tmp_path / "img4.jpg")
    half = decode_half(photo.read_bytes())
    from facecore.imaging import decode_image

    whole = decode_image(photo.read_bytes())
    assert half.shape == ((whole.shape[0] + 1) // 2, (whole.shape[1] + 1) // 2, 3)
    assert main([str(tmp_path), "--images", "1"]) == 0
    out = capsys.readouterr().out
    assert "| img4.jpg |" in out and "gender kept 1/1" in out and "1 photos of at least 1280 px" in out
    assert main([str(tmp_path), "--min-side", "100000"]) == 1
