"""Annotation and pair readers, matching and the verification maths, on tiny files written here."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tools.common.annotations import (
    Truth,
    ellipse_box,
    load_annotations,
    read_fddb,
    read_imglab,
    read_noses,
    read_wider,
    score_image,
)
from tools.common.pairs import folder_pairs, read_csv_pairs, read_lfw_pairs
from tools.evaluate_verification import evaluate, roc_points
from tools.optimize_detection_params import Trial, env_text, middle_of_ties


def test_wider_reader_boxes_invalid_and_empty_images(tmp_path):
    gt = tmp_path / "wider_face_val_bbx_gt.txt"
    gt.write_text("0--Parade/a.jpg\n2\n10 20 30 40 0 0 0 0 0 0\n5 5 8 8 2 0 0 1 0 0\n"
                  "0--Parade/b.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n0--Parade/c.jpg\n1\n1 2 3 4 0 0 0 0 0 0\n")
    truths = read_wider(gt, tmp_path / "images")
    a, b, c = (truths[tmp_path / "images" / "0--Parade" / n] for n in ("a.jpg", "b.jpg", "c.jpg"))
    assert a.boxes.tolist() == [[10, 20, 40, 60]] and a.ignore.tolist() == [[5, 5, 13, 13]]
    assert b.faces == 0 and c.boxes.tolist() == [[1, 2, 4, 6]]


def test_fddb_reader_turns_ellipses_into_boxes(tmp_path):
    fold = tmp_path / "FDDB-fold-01-ellipseList.txt"
    fold.write_text("2002/08/11/big/img_591\n1\n40.0 20.0 1.5707963 100.0 200.0  1\n"
                    "2002/08/26/big/img_265\n2\n10 10 0 50 50 1\n30 10 0 10 10 1\n")
    truths = read_fddb(fold, tmp_path)
    box = truths[tmp_path / "2002/08/11/big/img_591.jpg"].boxes[0]
    assert box == pytest.approx([80, 160, 120, 240], abs=1e-4)  # vertical major axis: 40 px up and down
    assert truths[tmp_path / "2002/08/26/big/img_265.jpg"].boxes.shape == (2, 4)
    assert ellipse_box(30, 10, 0, 10, 10) == pytest.approx([-20, 0, 40, 20])
    assert load_annotations(fold, tmp_path).keys() == truths.keys()


def test_imglab_and_nose_readers(tmp_path):
    (tmp_path / "faces.xml").write_text("<dataset><images><image file='x.jpg'><box top='1' left='2' width='3' "
                                        "height='4'/><box top='0' left='0' width='5' height='5' ignore='1'/>"
                                        "</image></images></dataset>")
    truth = read_imglab(tmp_path / "faces.xml")[tmp_path / "x.jpg"]
    assert truth.boxes.tolist() == [[2, 1, 5, 5]] and len(truth.ignore) == 1
    (tmp_path / "n.json").write_text('{"a.jpg": [[10, 12]], "b.jpg": []}')
    (tmp_path / "n.csv").write_text("file,x,y\na.jpg,10,12\na.jpg,30,30\nb.jpg,,\n")
    assert read_noses(tmp_path / "n.json")[tmp_path / "a.jpg"].noses.tolist() == [[10, 12]]
    from_csv = read_noses(tmp_path / "n.csv")
    assert from_csv[tmp_path / "a.jpg"].faces == 2 and from_csv[tmp_path / "b.jpg"].faces == 0


def test_matching_counts_misses_and_extras():
    truth = Truth(boxes=np.array([[0, 0, 10, 10], [50, 50, 60, 60.0]]), noses=np.array([[105.0, 105.0]]))
    found = [[1, 1, 10, 10], [100, 100, 110, 110], [200, 200, 210, 210]]
    score = score_image(truth, found)
    assert (score.matched, score.missed, score.extra) == (2, [1], [2])
    ignored = Truth(ignore=np.array([[200, 200, 210, 210.0]]))
    assert score_image(ignored, [[200, 200, 211, 211]]).errors == 0


def test_pair_readers(tmp_path):
    (tmp_path / "pairs.txt").write_text("2\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\nBob\t1\t2\nBob\t2\tAnn\t2\n")
    pairs = read_lfw_pairs(tmp_path / "pairs.txt", tmp_path)
    assert [(p.same, p.fold) for p in pairs] == [(True, 0), (False, 0), (True, 1), (False, 1)]
    assert pairs[1].b == tmp_path / "Bob" / "Bob_0001.jpg"
    (tmp_path / "m.csv").write_text("file_x,file_y,Decision\na.jpg,b.jpg,Yes\na.jpg,c.jpg,No\n")
    assert [p.same for p in read_csv_pairs(tmp_path / "m.csv")] == [True, False]
    for name in ("ann", "bob", "cid"):
        (tmp_path / "ids" / name).mkdir(parents=True)
        for k in (1, 2):
            (tmp_path / "ids" / name / f"{k}.jpg").write_bytes(b"")
    built = folder_pairs(tmp_path / "ids")
    assert sum(p.same for p in built) == 3 and len(built) == 6
    assert built[3].a.parent.name == "ann" and built[3].b.parent.name == "bob"


def test_verification_figures_on_separable_distances():
    rng = np.random.default_rng(0)
    same, diff = rng.uniform(0.1, 0.35, 100), rng.uniform(0.45, 0.9, 100)
    d = np.concatenate([same, diff])
    y = np.arange(200) < 100
    result = evaluate(d, y, np.arange(200) % 10)
    assert result.accuracy_mean == 1.0 and result.auc == 1.0
    assert 0.35 <= result.c0 <= 0.45 and 0.35 <= result.threshold <= 0.45
    fpr, tpr = roc_points(d, y)
    assert tpr[100] == 1.0 and fpr[100] == 0.0


def test_env_file_is_read_by_the_service(tmp_path):
    from facecore.config import load_settings

    trials = [Trial("dlib.FaceDetector@hog", t, 640, 0, 1, 5.0) for t in (0.3, 0.5, 0.7)]
    best = middle_of_ties(trials)
    assert best.threshold == 0.5
    env = dict(line.split("=", 1) for line in env_text(best, "x").splitlines() if not line.startswith("#"))
    settings = load_settings(env)
    assert math.isclose(settings.det_prob_threshold, 0.5) and settings.img_length_limit == 640
    assert settings.detector == "dlib.FaceDetector@hog"
