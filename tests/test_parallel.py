"""FACE_THREADS: one request's face-plugin work on several threads (src/parallel.py, Pipeline.run_plugins)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from facecore import parallel
from facecore.parallel import RecentIdle, TaskRunner, cpu_jiffies, idle_now
from facecore.plugin_api import BoundingBox, DetectedFace, Face
from tests import fakes
from tests.fakes import FAKE_SETTINGS, fake_pipeline

REAL_IDLE_CORES = parallel.idle_cores  # before the fixture below replaces it


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """Every core idle, whatever else this machine runs: the tests below are about the threads."""
    monkeypatch.setattr(parallel, "idle_cores", lambda cores: cores)


def test_a_request_takes_more_threads_only_while_cores_are_idle():
    assert [TaskRunner(2, idle=lambda cores, n=n: n).threads_now() for n in (0, 1, 5)] == [1, 2, 2]
    assert [TaskRunner(4, idle=lambda cores, n=n: n).threads_now() for n in (0, 2, 3)] == [1, 3, 4]
    assert TaskRunner(3, idle=lambda cores: None).threads_now() == 3  # cannot tell: as configured
    assert TaskRunner(1, idle=lambda cores: 8).threads_now() == 1


def test_busy_cores_leave_a_request_on_one_thread():
    runner = TaskRunner(2, idle=lambda cores: 0)
    names = runner.run([lambda: threading.current_thread().name for _ in range(4)])
    assert set(names) == {threading.current_thread().name} and runner._pool is None


def test_idle_now_reads_the_runnable_threads_of_proc_loadavg():
    idle = idle_now(64)
    if idle is None:
        pytest.skip("no /proc/loadavg on this platform: FACE_THREADS applies as configured")
    runnable = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    assert 0 <= idle <= 63 and abs((64 - idle) - runnable) <= 8  # this thread is runnable; others come and go
    assert idle_now(1) == 0


def test_recent_idle_is_the_idle_share_between_readings_at_least_a_window_apart():
    samples = iter([(0, 0), (5, 10), (6, 14), (9, 20), (9, 40)])
    recent = RecentIdle(read=lambda: next(samples), min_ticks=10)
    assert recent.share() is None  # the first reading only starts the window
    assert recent.share() == 0.5  # 5 idle of 10
    assert recent.share() == 0.5  # 4 ticks later: too soon, the last share stands
    assert recent.share() == 0.4  # (9 - 5) idle of (20 - 10)
    assert recent.share() == 0.0
    if cpu_jiffies() is None:
        pytest.skip("no /proc/stat on this platform")
    idle, total = cpu_jiffies()
    assert 0 <= idle <= total


def test_a_core_counts_as_idle_only_when_idle_now_and_lately(monkeypatch):
    for now, share, expected in [(1, 0.5, 1), (1, 0.1, 0), (0, 0.9, 0), (1, 0.25, 1), (1, None, 1), (None, 0.5, 1)]:
        monkeypatch.setattr(parallel, "idle_now", lambda cores, n=now: n)
        monkeypatch.setattr(parallel._recent, "share", lambda s=share: s)
        assert REAL_IDLE_CORES(2) == expected, (now, share)


def test_values_come_back_in_the_tasks_order_whatever_the_threads():
    for threads in (1, 2, 3):
        tasks = [lambda i=i: (time.sleep(0.002 * (5 - i)), i)[1] for i in range(5)]
        assert TaskRunner(threads).run(tasks) == [0, 1, 2, 3, 4]
    assert TaskRunner(2).run([]) == []


def test_two_threads_run_two_tasks_at_once_and_one_thread_runs_them_in_turn():
    def meet(barrier: threading.Barrier) -> str:
        barrier.wait(timeout=2)  # broken unless another task reaches it at the same time
        return threading.current_thread().name

    barrier = threading.Barrier(2)
    names = TaskRunner(2).run([lambda: meet(barrier), lambda: meet(barrier)])
    assert len(set(names)) == 2 and threading.current_thread().name in names  # the caller works too
    with pytest.raises(threading.BrokenBarrierError):
        TaskRunner(1).run([lambda: meet(threading.Barrier(2))])


def test_the_first_failure_is_raised_once_every_started_task_has_ended():
    ended: list[int] = []

    def slow(i: int) -> int:
        time.sleep(0.05)
        ended.append(i)
        return i

    def fail() -> int:
        raise ValueError("task 1 failed")

    with pytest.raises(ValueError, match="task 1 failed"):
        TaskRunner(2).run([lambda: slow(0), fail, *[lambda i=i: slow(i) for i in range(2, 8)]])
    settled = list(ended)
    time.sleep(0.1)
    assert ended == settled, "a task was still running after run() raised"
    assert 0 in ended and len(ended) < 7, "the tasks after the failure were not skipped"


def test_a_pool_made_in_another_process_is_not_reused():
    runner = TaskRunner(2)
    runner.run([lambda: 1, lambda: 2])
    first = runner._pool
    runner._pool_pid = -1  # as seen from a forked child
    runner.run([lambda: 1, lambda: 2])
    assert runner._pool is not first


def test_a_crop_two_threads_ask_for_is_made_once():
    face = Face(np.zeros((8, 8, 3), np.uint8), DetectedFace(BoundingBox(0, 0, 8, 8), 0.9))
    made: list[int] = []

    def make(_: Face) -> list[int]:
        made.append(1)
        time.sleep(0.05)
        return [len(made)]

    crops = TaskRunner(2).run([lambda: face.crop("chip", make), lambda: face.crop("chip", make)])
    assert made == [1] and crops[0] is crops[1]


@pytest.mark.parametrize("faces", [1, 2, 5, 40])
def test_several_threads_answer_exactly_what_one_thread_answers(faces, monkeypatch):
    def embed(self, batch):  # an embedding of each face's own box: a face given another's would show
        time.sleep(0.001 * len(batch))
        return np.array([[f.detection.box.x_min, f.detection.box.y_min, 1.0] for f in batch], np.float32)

    monkeypatch.setattr(fakes.Calculator, "embed", embed)
    image = np.zeros((400, 400, 3), np.uint8)
    detections = [DetectedFace(BoundingBox(i % 20 * 20, i // 20 * 20, i % 20 * 20 + 18, i // 20 * 20 + 18), 0.9)
                  for i in range(faces)]
    slugs = ["calculator", "age", "landmarks", "pose"]
    answers = []
    for threads in (1, 2, 4):
        pipeline = fake_pipeline(FAKE_SETTINGS.with_overrides(face_threads=threads))
        answers.append([(r.detection.box, json.dumps(r.fragments, sort_keys=True, default=np.ndarray.tolist),
                         sorted(r.execution_time)) for r in pipeline.run_plugins(image, detections, slugs)])
    assert answers[0] == answers[1] == answers[2]
    for box, fragments, _ in answers[0]:
        answer = json.loads(fragments)
        assert set(answer) >= {"embedding", "age", "landmarks", "pose"}
        assert answer["embedding"][:2] == [box.x_min, box.y_min]
