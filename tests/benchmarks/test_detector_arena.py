"""The detector arena measurement: it runs on the default detector and reports both copies and both memories."""
from __future__ import annotations

import shutil

import pytest

from facecore.config import load_settings
from tests.shared_data import shared_path
from tools.benchmarks.detector_arena import arena_growth_mb, main
from tools.common.service import build_detector_only


def test_the_arena_grows_to_one_runs_peak_then_stops():
    pipeline = build_detector_only(load_settings({"IMG_LENGTH_LIMIT": "320"}))
    arena_growth_mb(pipeline, 320, 3)  # the arena at its peak for this limit
    assert arena_growth_mb(pipeline, 320, 6) < 5  # the same sizes again take nothing new


@pytest.mark.integration
def test_two_portraits_are_measured_both_ways(tmp_path, capsys):
    for name in ("img1.jpg", "img4.jpg"):
        shutil.copy(shared_path(f"datasets/deepface/{name}"), tmp_path / name)
    assert main(["--image-dir", str(tmp_path), "--images", "2", "--rounds", "1", "--sizes", "3"]) == 0
    out = capsys.readouterr().out
    assert "libfacedetection.FaceDetector: 2 photos" in out
    assert "CPU ms per photo" in out and out.count("median") == 2 and "x the CPU (range" in out
    assert "MB with the arena" in out and "MB without" in out


def test_without_a_bounded_detection_copy_there_is_nothing_to_compare(monkeypatch, capsys):
    monkeypatch.setenv("IMG_LENGTH_LIMIT", "0")
    assert main(["--images", "1"]) == 2
    assert "keep no arena" in capsys.readouterr().err
