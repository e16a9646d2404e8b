"""OpenVINO f32 answers like ONNX Runtime, within 1e-4, on every built-in model we can run here.

Each plugin is loaded and run once on real photos through ONNX Runtime while every session it opens is
recorded (the model and the tensors it was fed); then the same model opened by OpenVINO gets the same
tensors and must give the same outputs. So the comparison uses the inputs the service really produces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import facecore.onnx_session
import plugins.dlib.age_gender
import plugins.insightface.loading
from facecore.device import Device
from facecore.imaging import downscale
from facecore.inference_runtime import BF16, F32, OPENVINO, RuntimeChoice, openvino_installed
from facecore.model_store import ModelStore
from facecore.plugin_api import Face
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tests.shared_data import shared_path

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not openvino_installed(), reason="needs the openvino package (face-core[openvino])")]
TOLERANCE = 1e-4
real_open_session = facecore.onnx_session.open_session


@dataclass
class Recorded:
    """A session opened by a plugin, and what it was asked."""

    model: Path | bytes
    session: Any
    calls: list[tuple[Any, dict[str, np.ndarray], list[np.ndarray]]] = field(default_factory=list)

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        outputs = self.session.run(names, feeds)
        if len(self.calls) < 4:
            self.calls.append((names, {k: np.array(v) for k, v in feeds.items()}, [np.array(o) for o in outputs]))
        return outputs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


@pytest.fixture
def recorded(monkeypatch) -> list[Recorded]:
    sessions: list[Recorded] = []

    def recording_open(model, device, threads=None, **options):
        sessions.append(Recorded(model, real_open_session(model, device, threads, **options)))
        return sessions[-1]

    for module in (facecore.onnx_session, plugins.dlib.age_gender, plugins.insightface.loading):
        monkeypatch.setattr(module, "open_session", recording_open)
    plugins.insightface.loading._sessions.clear()
    yield sessions
    plugins.insightface.loading._sessions.clear()


def couple() -> np.ndarray:
    from tools.common.images import read_rgb

    small, _ = downscale(read_rgb(shared_path("datasets/deepface/couple.jpg")), 640)
    return small


def default_plugin(name: str, root: Path) -> Any:
    plugin = PluginRegistry.from_manager(build_plugin_manager()).create(name)
    plugin.load(ModelStore(root, offline=True).context_for(plugin, Device(threads=1)))
    return plugin


def couple_faces(root: Path) -> list[Face]:
    image = couple()
    detector = default_plugin("facenet.FaceDetector", root / "mtcnn")
    return [Face(image, face) for face in detector.detect(image, 0.85)]


def own_detector(root: Path, file: str) -> Any:
    from plugins.insightface.detector import FaceDetector
    from tests.plugins.insightface.helpers import load_from, local_store

    detector = FaceDetector(FaceDetector.custom_model("own"))
    return load_from(local_store(root, "insightface", "detector", "own", shared_path(f"models/{file}")), detector)


def mxnet(kind: str, root: Path) -> Any:
    from plugins.insightface.calculator import Calculator
    from plugins.insightface.catalogue import CALCULATORS, GENDERAGE
    from plugins.insightface.genderage import GenderDetector
    from tests.plugins.insightface.measure import mxnet_plugin

    if kind == "mobileface_v2":
        return mxnet_plugin(Calculator, CALCULATORS, kind, "calculator", shared_path("models/mxnet/mobileface_v2"), root)
    return mxnet_plugin(GenderDetector, GENDERAGE, kind, "genderage", shared_path("models/mxnet/genderage_v1"), root)


CASES: dict[str, Callable[[Path], Any]] = {
    "mtcnn": lambda root: default_plugin("facenet.FaceDetector", root).detect(couple(), 0.5),
    "libfacedetection": lambda root: default_plugin("libfacedetection.FaceDetector", root).detect(couple(), 0.5),
    "dlib_resnet": lambda root: default_plugin("dlib.Calculator", root).embed(couple_faces(root)),
    "dlib_age": lambda root: default_plugin("dlib.AgeDetector", root).analyze(couple_faces(root)),
    "dlib_gender": lambda root: default_plugin("dlib.GenderDetector", root).analyze(couple_faces(root)),
    "dlib_mmod": lambda root: default_plugin("dlib.FaceDetector@mmod", root).detect(couple()[::2, ::2].copy(), 0.5),
    "scrfd_500m": lambda root: own_detector(root, "scrfd_500m_bnkps.onnx").detect(couple(), 0.5),
    "retinaface_mnet025": lambda root: own_detector(root, "retinaface_mbnet025.onnx").detect(couple(), 0.5),
    "yunet_n": lambda root: own_detector(root, "yunet_n_dynamic.onnx").detect(couple(), 0.5),
    "mobileface_v2": lambda root: mxnet("mobileface_v2", root).embed(couple_faces(root)),
    "genderage_v1": lambda root: mxnet("genderage_v1", root).analyze(couple_faces(root)),
}


def largest_difference(record: Recorded, precision: str) -> float:
    session = real_open_session(record.model, Device(threads=1, runtime=RuntimeChoice(OPENVINO, precision)))
    worst = 0.0
    for names, feeds, expected in record.calls:
        for want, got in zip(expected, session.run(names, feeds)):
            assert want.shape == got.shape
            scale = max(1.0, float(np.max(np.abs(want)))) if precision == BF16 else 1.0
            worst = max(worst, float(np.max(np.abs(want - got))) / scale)
    return worst


@pytest.mark.parametrize("case", sorted(CASES))
def test_openvino_f32_equals_onnxruntime(case, recorded, tmp_path):
    CASES[case](tmp_path)
    ran = [record for record in recorded if record.calls]
    assert ran, "the plugin ran no ONNX session"
    for record in ran:
        assert largest_difference(record, F32) < TOLERANCE


def test_status_reports_each_plugins_runtime(tmp_path):
    from facecore.app import create_app
    from facecore.config import Settings
    from facecore.inference_runtime import parse_plan

    settings = Settings(models_root=tmp_path, models_offline=True, extras=("dlib.AgeDetector",),
                        inference=parse_plan("onnxruntime calculator:openvino", "calculator:bf16"))
    plugins = create_app(settings).test_client().get("/status").get_json()["plugins"]
    assert plugins["calculator"]["runtime"] == "openvino bf16" and plugins["calculator"]["device"] == "cpu"
    assert plugins["age"]["runtime"] == "onnxruntime f32"
    assert plugins["detector"]["runtime"] == "onnxruntime f32"  # libfacedetection's weights, rebuilt as ONNX
