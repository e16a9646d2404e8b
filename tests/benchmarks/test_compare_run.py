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
    assert "x library (2 procs)" in capsys.readouterr().out
