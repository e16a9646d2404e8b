"""training.align with the service's own detector: 112x112 ArcFace crops, photos without a face listed, resumable."""
from __future__ import annotations

import pytest

from tests.shared_data import shared_path
from training.align import NO_FACE_LIST, main

pytestmark = pytest.mark.integration


def test_align_writes_crops_lists_faceless_photos_and_resumes(tmp_path, capsys):
    import cv2

    deepface, dogs = shared_path("datasets/deepface"), shared_path("datasets/dlib-faces/dogs.jpg")
    source = tmp_path / "src"
    for identity, names in {"angelina": ["img1.jpg", "img2.jpg"], "dogs": []}.items():
        (source / identity).mkdir(parents=True)
        for name in names:
            (source / identity / name).symlink_to(deepface / name)
    (source / "dogs" / "dogs.jpg").symlink_to(dogs)
    assert main([str(source), str(tmp_path / "out")]) == 0
    assert "3 photos: 2 aligned now, 0 done before; 1 without a face" in capsys.readouterr().out
    crop = cv2.imread(str(tmp_path / "out" / "angelina" / "img1.png"))
    assert crop.shape == (112, 112, 3) and crop.std() > 20
    assert (tmp_path / "out" / NO_FACE_LIST).read_text().strip().endswith("dogs.jpg")
    assert main([str(source), str(tmp_path / "out")]) == 0  # nothing left to do
    assert "0 aligned now, 3 done before; 1 without a face" in capsys.readouterr().out


def test_a_labels_list_for_a_flat_folder(tmp_path, capsys):
    deepface = shared_path("datasets/deepface")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "img1.jpg").symlink_to(deepface / "img1.jpg")
    (tmp_path / "identities.txt").write_text("image identity\nimg1.jpg 17\n")
    assert main([str(tmp_path), str(tmp_path / "out"), "--labels", str(tmp_path / "identities.txt")]) == 0
    assert (tmp_path / "out" / "17" / "img1.png").exists()
    (tmp_path / "bad.txt").write_text("img1.jpg\n")
    assert main([str(tmp_path), str(tmp_path / "out2"), "--labels", str(tmp_path / "bad.txt")]) == 1
    assert "expected 'image identity'" in capsys.readouterr().err
