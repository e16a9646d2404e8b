"""Percentiles, run summaries, the image list and the comparison table."""
from __future__ import annotations

import math

import cv2
import numpy as np

from tools.benchmarks import images
from tools.benchmarks.compare import table
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


def test_table_ratio_is_against_the_baseline():
    base = RunSummary("face_recognition, upsample 1", 2, 10, 10, 10.0, [100.0], 100.0)
    fast = RunSummary("service", 2, 10, 10, 4.0, [50.0], 300.0, {"calculator": 9.5})
    text = table([base, fast], base)
    assert "| 1.00 |" in text.splitlines()[2] and "| 2.50 |" in text.splitlines()[3]
    assert "calculator 9.5" in text


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
