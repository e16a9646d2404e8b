"""Average precision as WIDER FACE / PASCAL VOC compute it, and the WIDER ``label.txt`` reader."""
from __future__ import annotations

import numpy as np
import pytest

from tools.common.annotations import load_annotations
from tools.common.average_precision import FALSE, LEFT_OUT, TRUE, average_precision, rank_image

FACES = np.array([[0, 0, 40, 40], [100, 100, 140, 140], [200, 200, 210, 210]], dtype=np.float64)
ALL = np.ones(3, dtype=bool)


def test_a_perfect_ranking_scores_one():
    ranked = rank_image(FACES, ALL, FACES.copy(), np.array([0.9, 0.8, 0.7]))
    assert list(ranked.outcomes) == [TRUE, TRUE, TRUE]
    assert average_precision([ranked]) == pytest.approx(1.0)


def test_a_false_detection_ranked_first_costs_what_voc_says():
    found = np.vstack([[500, 500, 540, 540], FACES[:2]])
    ranked = rank_image(FACES, ALL, found, np.array([0.95, 0.9, 0.8]))
    assert list(ranked.outcomes) == [FALSE, TRUE, TRUE]
    # precision 0, 1/2, 2/3 at recall 0, 1/3, 2/3; envelope 2/3 over both recall steps
    assert average_precision([ranked]) == pytest.approx(2 / 3 * 2 / 3)


def test_duplicates_are_false_and_overlap_below_half_misses():
    shifted = FACES[0] + [25, 0, 25, 0]  # IoU 15/65 with the first face
    found = np.vstack([FACES[0], FACES[0] + 1, shifted])
    ranked = rank_image(FACES, ALL, found, np.array([0.9, 0.8, 0.7]))
    assert list(ranked.outcomes) == [TRUE, FALSE, FALSE]


def test_faces_that_do_not_count_excuse_their_detections():
    large = (FACES[:, 3] - FACES[:, 1]) >= 32
    ranked = rank_image(FACES, large, FACES[::-1].copy(), np.array([0.9, 0.8, 0.7]))
    assert list(ranked.outcomes) == [LEFT_OUT, TRUE, TRUE] and ranked.positives == 2
    assert average_precision([ranked]) == pytest.approx(1.0)
    assert average_precision([rank_image(FACES, large, np.zeros((0, 4)), np.zeros(0))]) == 0.0


def test_ap_pools_detections_of_all_images_by_score():
    first = rank_image(FACES[:1], ALL[:1], np.array([[0, 0, 40, 40], [300, 300, 340, 340]]), np.array([0.5, 0.9]))
    second = rank_image(FACES[1:2], ALL[:1], FACES[1:2].copy(), np.array([0.8]))
    # ranked: false 0.9, true 0.8, true 0.5 -> precision 1/2 at recall 1/2, 2/3 at recall 1
    assert average_precision([first, second]) == pytest.approx(0.5 * 2 / 3 + 0.5 * 2 / 3)


def test_wider_list_reader(tmp_path):
    labels = tmp_path / "label.txt"
    labels.write_text("# 0--Parade/a.jpg\n10 20 30 40\n1 2 0 5\n# 1--Handshaking/b.jpg\n"
                      "# 2--Demo/c.jpg\n5 6 7 8 1.0 2.0 0.5\n")
    truths = load_annotations(labels)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in truths) == [
        "images/0--Parade/a.jpg", "images/1--Handshaking/b.jpg", "images/2--Demo/c.jpg"]
    assert truths[tmp_path / "images/0--Parade/a.jpg"].boxes.tolist() == [[10, 20, 40, 60]]  # zero width dropped
    assert truths[tmp_path / "images/1--Handshaking/b.jpg"].faces == 0
    assert truths[tmp_path / "images/2--Demo/c.jpg"].boxes.tolist() == [[5, 6, 12, 14]]
