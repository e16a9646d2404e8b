"""The plugin contract as the pipeline enforces it: thread-safety declared by the plugin and serialised by
the pipeline, one start-up failure line per load or warm-up failure, one used-before-load guard."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import pytest

from facecore.device import Device
from facecore.errors import StartupError
from facecore.model_store import ModelStore
from facecore.pipeline import Pipeline
from facecore.plugin_api import DetectedFace, Face, FaceDetector, FacePlugin, JSONValue, LoadContext, PluginNotLoaded
from tests import fakes

IMAGE = np.zeros((100, 100, 3), np.uint8)


class Overlap:
    """Counts how many threads are inside a plugin at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self._lock = threading.Lock()

    def visit(self) -> None:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.02)  # long enough for the other threads to arrive
        with self._lock:
            self.inside -= 1


def counting_plugin(safe: bool) -> FacePlugin:
    class Counting(FacePlugin):
        name = "test.Counting"
        slug = "counting"
        thread_safe = safe
        overlap = Overlap()

        def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
            self.overlap.visit()
            return [{"counting": 1} for _ in faces]
    return Counting()


def counting_detector(safe: bool) -> FaceDetector:
    class CountingDetector(fakes.FaceDetector):
        name = "test.CountingDetector"
        thread_safe = safe
        overlap = Overlap()

        def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
            self.overlap.visit()
            return super().detect(image, threshold)
    return CountingDetector()


def from_8_threads(pipeline: Pipeline) -> None:
    pipeline.ready = True
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: pipeline.find_faces(IMAGE, threshold=None, limit=0, slugs=["counting"]),
                                range(16)))
    assert all(len(r.faces) == 2 and r.faces[0].fragments["counting"] == 1 for r in results)


@pytest.mark.parametrize("batch_wait_ms", [0, 5])
def test_a_plugin_not_declared_thread_safe_is_never_entered_twice_at_once(batch_wait_ms):
    detector, plugin = counting_detector(False), counting_plugin(False)
    from_8_threads(Pipeline(detector, fakes.Calculator(None), [plugin], batch_wait_ms=batch_wait_ms))
    assert detector.overlap.most == 1 and plugin.overlap.most == 1


def test_a_plugin_declared_thread_safe_runs_in_several_threads_at_once():
    detector, plugin = counting_detector(True), counting_plugin(True)
    from_8_threads(Pipeline(detector, fakes.Calculator(None), [plugin]))
    assert detector.overlap.most > 1 and plugin.overlap.most > 1  # the flag, not the test, serialises


def test_every_builtin_plugin_declares_its_thread_safety_and_a_name():
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    registry = PluginRegistry.from_manager(build_plugin_manager())
    builtin = {name: cls for name, cls in registry.classes.items() if cls.__module__.startswith("plugins.")}
    assert len(builtin) >= 18
    for name, cls in builtin.items():
        assert vars(cls)["name"] == name
        assert isinstance(cls.thread_safe, bool)
    assert registry.classes["opencv.FaceDetector"].thread_safe is False  # YuNet keeps per-call state
    assert registry.create("dlib.FaceDetector@hog").thread_safe is False  # so do dlib's own detectors
    assert registry.create("dlib.FaceDetector@mmod").thread_safe is True  # its ONNX conversion does not


class FailingInWarmUp(FacePlugin):
    name = "test.FailingInWarmUp"
    slug = "failing"

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        raise ValueError("weights and input disagree")


class FailingInLoad(FacePlugin):
    name = "test.FailingInLoad"
    slug = "failing"
    models = fakes.Calculator.models

    def load(self, ctx: LoadContext) -> None:
        raise OSError("cannot map the file")


def test_a_plugin_failing_in_warm_up_stops_the_start_with_one_line_and_no_traceback(caplog):
    pipeline = Pipeline(fakes.FaceDetector(None), fakes.Calculator(None), [FailingInWarmUp(None)])
    with caplog.at_level(logging.DEBUG), pytest.raises(StartupError) as error:
        pipeline.warm_up(IMAGE)
    assert str(error.value) == "test.FailingInWarmUp (model none) failed in warm-up: ValueError: weights and input disagree"
    assert not any(record.exc_info for record in caplog.records)  # the one line is the whole report
    assert not pipeline.ready


def test_a_plugin_failing_in_load_stops_the_start_naming_plugin_model_and_cause(tmp_path):
    plugin = FailingInLoad(FailingInLoad.models[1])
    pipeline = Pipeline(fakes.FaceDetector(None), fakes.Calculator(None), [plugin])
    with pytest.raises(StartupError, match=r"^test\.FailingInLoad \(model m2\) failed in load: "
                                           r"OSError: cannot map the file$"):
        pipeline.load(ModelStore(tmp_path), Device())


def test_a_missing_model_file_is_one_line_too(tmp_path):
    class NeedsFile(FacePlugin):
        name = "test.NeedsFile"
        slug = "needs"
        models = fakes.Calculator.models

        def load(self, ctx: LoadContext) -> None:
            ctx.models.files()
    pipeline = Pipeline(fakes.FaceDetector(None), fakes.Calculator(None), [NeedsFile(NeedsFile.models[0])])
    with pytest.raises(StartupError, match=r"^test\.NeedsFile \(model m1\) failed in load: model 'm1', file "
                                           r"'m1\.bin': a model of your own: place the file at .*test/needs/m1/m1\.bin"):
        pipeline.load(ModelStore(tmp_path), Device())


def test_a_plugin_used_before_load_says_so_through_the_base_class_guard():
    class Lazy(FacePlugin):
        name = "test.Lazy"
        session: object | None = None

        def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
            return [{"x": str(self.loaded(self.session))} for _ in faces]
    with pytest.raises(PluginNotLoaded, match=r"^test\.Lazy used before load\(\)$"):
        Lazy(None).analyze([Face(IMAGE, DetectedFace(fakes.FaceDetector.boxes[0][0], 0.9))])
    assert Lazy(None).loaded(0) == 0  # only None means "not loaded"


def test_the_load_context_holds_the_plugins_own_part_of_the_store(tmp_path):
    seen: list[LoadContext] = []

    class Shared(FacePlugin):
        name = "test.family.Shared"
        slug = "age"
        store_slug = "genderage"
        models = fakes.Calculator.models

        def load(self, ctx: LoadContext) -> None:
            seen.append(ctx)
    Pipeline(fakes.FaceDetector(None), fakes.Calculator(None), [Shared(Shared.models[1])]).load(
        ModelStore(tmp_path), Device())
    assert seen[0].models.folder == tmp_path / "test" / "genderage" / "m2"


FAILING_PACKAGE = '''
from facecore import hookimpl
from tests import fakes


class FailsInWarmUp(fakes.AgeDetector):
    name = "failing.FailsInWarmUp"

    def analyze(self, faces):
        raise RuntimeError("the network answered NaN")


@hookimpl
def register_plugins():
    return [FailsInWarmUp]
'''


@pytest.mark.integration
def test_python_m_facecore_app_refuses_a_start_with_one_line_and_exit_code_2(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    package = tmp_path / "facecore_failing"
    package.mkdir()
    (package / "__init__.py").write_text(FAILING_PACKAGE)
    info = tmp_path / "facecore_failing-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: facecore-failing\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[facecore.plugins]\nfailing = facecore_failing\n")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{tmp_path}", "FACECORE_LOAD_PLUGINS": "failing,dlib",
           "FACE_DETECTION_PLUGIN": "dlib.FaceDetector", "CALCULATION_PLUGIN": "dlib.Calculator",
           "EXTRA_PLUGINS": "failing.FailsInWarmUp", "MODELS_ROOT": str(tmp_path / "models"),
           "ML_PORT": "1", "LOGGING_LEVEL_NAME": "info"}
    done = subprocess.run([sys.executable, "-m", "facecore.app"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    refusals = [line for line in done.stderr.splitlines() if "cannot start" in line]
    assert refusals == ["cannot start: failing.FailsInWarmUp (model none) failed in warm-up: "
                        "RuntimeError: the network answered NaN"]


def test_the_public_surface_reexports_the_cores_own_objects():
    import facecore
    import facecore.plugin_api

    assert all(hasattr(facecore, name) for name in facecore.__all__)
    assert facecore.FacePlugin is facecore.plugin_api.FacePlugin  # not a second copy: issubclass checks hold
    assert facecore.hookimpl.project_name == "facecore"


def test_a_detection_is_a_value_with_tuple_landmarks():
    box = fakes.FaceDetector.boxes[0][0]
    marks = np.array([[1, 2], [3, 2], [2, 3], [1, 4], [3, 4]], dtype=np.float32)
    face = DetectedFace(box, 0.9, marks)
    assert face.landmarks == ((1.0, 2.0), (3.0, 2.0), (2.0, 3.0), (1.0, 4.0), (3.0, 4.0))
    assert face == DetectedFace(box, 0.9, marks.tolist()) and hash(face) == hash(DetectedFace(box, 0.9, marks))
    assert face.scaled(2.0).landmarks[4] == (6.0, 8.0)
