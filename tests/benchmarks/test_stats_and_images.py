"""Percentiles, run summaries, the image list and the comparison table."""
from __future__ import annotations

import math

import cv2
import numpy as np

from tools.benchmarks import images
from tools.benchmarks.compare import baseline_of, ratios, table
from tools.benchmarks.stats import RunSummary, mean_per_face, percentile


def test_nearest_rank_percentiles_are_real_samples():
    values = list(range(100, 0, -1))  # 1..100 unsorted
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([7.0], 99) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2
    assert math.isnan(percentile([], 50))


def test_summary_rates_and_mean_per_face():
    run = RunSummary("x", 2, images=10, faces=15, wall_s=5.0, latencies_ms=[1.0, 2.0], rss_mb=1.0)
    assert (run.images_per_s, run.faces_per_s) == (2.0, 3.0)
    assert mean_per_face([{"a": 1, "b": 4}, {"a": 3}]) == {"a": 2.0, "b": 2.0}
    assert run.as_dict()["p50_ms"] == 1.0


def _run(label: str, workers: int, wall_s: float, repeat: int) -> RunSummary:
    return RunSummary(label, workers, 10, 10, wall_s, [100.0 * wall_s], 100.0, {"calculator": 9.5},
                      extra={"repeat": repeat}, cpu_s=wall_s * 2)  # 2 cores busy: CPU ms per image = 200 x wall


def test_table_ratios_pair_runs_of_the_same_repeat():
    runs = []
    for repeat, (library_s, peer_s, ours_s, older_s) in enumerate([(10.0, 5.0, 4.0, 8.0), (20.0, 5.0, 5.0, 5.0)]):
        runs += [_run("face_recognition, upsample 1", 2, library_s, repeat),
                 _run("insightface (FaceAnalysis)", 2, peer_s, repeat),
                 _run("service default plugins (2p x 1t)", 2, ours_s, repeat),
                 _run("service default plugins @ abc123 (2p x 1t)", 2, older_s, repeat)]
    ours = ("service default plugins (2p x 1t)", 2)
    assert ratios(runs, ours, ("face_recognition, upsample 1", 2)) == [2.5, 4.0]
    assert ratios(runs, ours, ("insightface (FaceAnalysis)", 2)) == [1.25, 1.0]
    lines = table(runs).splitlines()
    assert ratios(runs, ours, ("insightface (FaceAnalysis)", 2), cpu=True) == [1.25, 1.0]
    # medians of per-repeat ratios: face_recognition, InsightFace (images/s, then CPU), the older commit
    assert "| 3.25 (2.50-4.00) | 1.12 (1.00-1.25) | 1.12 (1.00-1.25) | 1.50 (1.00-2.00) |" in lines[4]
    assert "| 900 (800-1000) |" in lines[4]  # CPU ms per image
    assert lines[5].endswith("| - |") and "calculator 9.5" in lines[4]  # the older commit has no older row
    assert "| 2.25 (2.00-2.50) |" in lines[4]  # images/s median (range) over the repeats


def test_older_commit_row_is_found_by_label():
    labels = ["service default plugins (2p x 1t)", "service default plugins @ db2b022 (2p x 1t)", "service x",
              "service default plugins, bf16 (2p x 1t)"]
    assert baseline_of(labels[0], labels) == baseline_of(labels[3], labels) == labels[1]
    assert baseline_of(labels[1], labels) is None
    assert baseline_of("service dlib HOG + dlib.Calculator (2p x 1t)", labels) is None


def test_pick_puts_multi_face_photos_first_then_numeric_order(tmp_path):
    for name in ("img10.jpg", "img2.jpg", "img1.jpg", "couple.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in images.pick(tmp_path, 3)] == ["couple.jpg", "img1.jpg", "img2.jpg"]
    assert [p.name for p in images.pick(tmp_path, 10)][-1] == "img10.jpg"


def test_shrink_to_bounds_the_longer_side_and_keeps_small_images(tmp_path):
    big, small = tmp_path / "big.jpg", tmp_path / "small.jpg"
    cv2.imwrite(str(big), np.full((300, 1000, 3), 128, np.uint8))
    cv2.imwrite(str(small), np.full((100, 50, 3), 128, np.uint8))
    out = images.shrink_to([big, small], tmp_path / "out", 640)
    assert cv2.imread(str(out[0])).shape[:2] == (192, 640)
    assert cv2.imread(str(out[1])).shape[:2] == (100, 50)
    assert images.shrink_to([big], tmp_path / "unused", 0) == [big]
