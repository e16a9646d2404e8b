"""A short end-to-end comparison run: the library venv, uWSGI and the report (slow: performance)."""
from __future__ import annotations

import json

import pytest

from tests.shared_data import shared_path
from tools.benchmarks import compare

pytestmark = pytest.mark.performance


def test_short_comparison_reports_both_systems(tmp_path, capsys):
    folder = shared_path("datasets/deepface")
    out = tmp_path / "compare.json"
    assert compare.main(["--image-dir", str(folder), "--images", "2", "--library-procs", "1,2",
                         "--library-upsample", "1", "--concurrency", "2", "--configs", "hog",
                         "--peers", "face_recognition",
                         "--work-dir", str(tmp_path), "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    library = [r for r in runs if r["label"].startswith("face_recognition")]
    service = [r for r in runs if r["label"].startswith("service")]
    assert len(library) == 2 and len(service) == 1
    # same photos, same HOG model: both find the couple's two faces and four of the selfie's five (HOG misses one)
    assert library[0]["extra"]["faces_by_image"] == {"couple_640.jpg": 2, "selfie-many-people_640.jpg": 4}
    assert service[0]["extra"]["faces_by_image"] == library[0]["extra"]["faces_by_image"]
    assert service[0]["errors"] == 0 and service[0]["images_per_s"] > 0 and service[0]["rss_mb"] > 50
    assert "calculator" in service[0]["per_face_ms"]
    assert "x face_recognition (2 procs)" in capsys.readouterr().out


def test_insightface_package_and_the_service_find_the_same_faces_on_the_same_onnx_files(tmp_path):
    shared_path("models/scrfd_500m_bnkps.onnx")
    folder = shared_path("datasets/deepface")
    out = tmp_path / "compare.json"
    assert compare.main(["--image-dir", str(folder), "--images", "3", "--library-procs", "1",
                         "--peers", "insightface", "--concurrency", "1", "--configs", "insightface",
                         "--work-dir", str(tmp_path), "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    peer, service = runs
    assert peer["label"] == "insightface (FaceAnalysis)" and service["label"].startswith("service SCRFD-500M")
    # SCRFD at threshold 0.5 on the 640 px copies: the couple's 2 faces, the selfie's 5 and the edge face, img1's 1
    assert peer["extra"]["faces_by_image"] == {"couple_640.jpg": 2, "selfie-many-people_640.jpg": 6, "img1_640.jpg": 1}
    assert service["extra"]["faces_by_image"] == peer["extra"]["faces_by_image"]
    assert service["errors"] == 0 and "calculator" in service["per_face_ms"]
