"""Batching across concurrent requests: each caller gets exactly its own results, in fewer model runs."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from facecore.batching import MicroBatcher
from facecore.plugin_api import BoundingBox, DetectedFace, Face, FacePlugin
from tests.fakes import FAKE_SETTINGS, fake_pipeline


class Echo(FacePlugin):
    """Returns each face's probability, so a mixed-up slice is visible."""

    slug = "echo"

    def __init__(self) -> None:
        super().__init__(None)
        self.batch_sizes: list[int] = []
        self.fail = False

    def analyze(self, faces):
        self.batch_sizes.append(len(faces))
        if self.fail:
            raise RuntimeError("model down")
        return [{"echo": face.detection.probability} for face in faces]


def faces_of(request: int, count: int) -> list[Face]:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    return [Face(image, DetectedFace(BoundingBox(0, 0, 1, 1), request + k / 10)) for k in range(count)]


def run_concurrently(batcher: MicroBatcher, requests: int) -> list[list[dict]]:
    barrier = threading.Barrier(requests)

    def call(index: int) -> list[dict]:
        barrier.wait()
        return batcher.analyze(faces_of(index, 1 + index % 3))
    with ThreadPoolExecutor(requests) as pool:
        return list(pool.map(call, range(requests)))


def test_each_caller_gets_its_own_results_in_fewer_runs():
    plugin = Echo()
    batcher = MicroBatcher(plugin, wait_ms=300, max_faces=1000)
    results = run_concurrently(batcher, 6)
    for index, result in enumerate(results):
        assert [r["echo"] for r in result] == pytest.approx([index + k / 10 for k in range(1 + index % 3)])
    assert sum(plugin.batch_sizes) == 12 and len(plugin.batch_sizes) < 6


def test_a_full_batch_runs_without_waiting_out_the_deadline():
    import time
    plugin = Echo()
    batcher = MicroBatcher(plugin, wait_ms=5_000, max_faces=7)
    started = time.monotonic()
    results = run_concurrently(batcher, 4)  # 1+2+3+1 = 7 faces: full as soon as the last caller arrives
    assert len(results) == 4 and plugin.batch_sizes == [7]
    assert time.monotonic() - started < 2.5


def test_an_error_reaches_every_caller():
    plugin = Echo()
    plugin.fail = True
    batcher = MicroBatcher(plugin, wait_ms=100, max_faces=64)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(batcher.analyze, faces_of(i, 1)) for i in range(3)]
        for future in futures:
            with pytest.raises(RuntimeError, match="model down"):
                future.result(timeout=5)


def test_pipeline_results_identical_with_batching():
    plain = fake_pipeline()
    batched = fake_pipeline(FAKE_SETTINGS.with_overrides(batch_wait_ms=50))
    image = np.full((100, 100, 3), 80, dtype=np.uint8)
    args = {"threshold": None, "limit": 0, "slugs": ["calculator", "age", "landmarks"]}
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: batched.find_faces(image, **args), range(4)))
    expected = plain.find_faces(image, **args)
    for outcome in outcomes:
        assert [f.fragments.keys() for f in outcome.faces] == [f.fragments.keys() for f in expected.faces]
        for mine, theirs in zip(outcome.faces, expected.faces):
            assert np.allclose(mine.fragments["embedding"], theirs.fragments["embedding"])
            assert mine.fragments["landmarks"] == theirs.fragments["landmarks"]
