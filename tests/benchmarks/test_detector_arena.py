"""The detector arena's memory measurement, and the service A/B tool's arithmetic and checks."""
from __future__ import annotations

import pytest

from facecore.config import load_settings
from tools.benchmarks.detector_arena import arena_growth_mb, main
from tools.benchmarks.service_ab import main as service_ab, photo_times
from tools.common.service import build_detector_only


def test_the_arena_grows_to_one_runs_peak_then_stops():
    pipeline = build_detector_only(load_settings({"IMG_LENGTH_LIMIT": "320"}))
    arena_growth_mb(pipeline, 320, 3)  # the arena at its peak for this limit
    assert arena_growth_mb(pipeline, 320, 6) < 5  # the same sizes again take nothing new


def test_both_copies_are_measured_in_processes_of_their_own(capsys):
    assert main(["--sizes", "2"]) == 0
    out = capsys.readouterr().out
    assert "libfacedetection.FaceDetector: RSS growth over 2 random sizes up to 640x640" in out
    assert "MB with the arena" in out and "MB without" in out


def test_without_a_bounded_detection_copy_there_is_nothing_to_compare(monkeypatch, capsys):
    monkeypatch.setenv("IMG_LENGTH_LIMIT", "0")
    assert main([]) == 2
    assert "keep no arena" in capsys.readouterr().err


def test_a_photos_plugin_time_is_the_sum_over_its_faces():
    body = {"result": [{"execution_time": {"detector": 10.0, "calculator": 4.0}},
                       {"execution_time": {"detector": 10.0, "calculator": 5.5}}]}
    assert photo_times(body) == {"detector": 20.0, "calculator": 9.5}
    assert photo_times({"result": []}) == {}


def test_the_old_side_must_be_a_checkout(tmp_path):
    with pytest.raises(SystemExit, match="not a checkout of this project"):
        service_ab([str(tmp_path)])
