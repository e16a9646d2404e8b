"""``facenet.LandmarksDetector``, ``facenet.PoseEstimator`` and the package's registration."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from facecore.plugin_api import BoundingBox, DetectedFace, Face
from plugins.facenet.face_plugins import LandmarksDetector, PoseEstimator

MARKS = np.array([[30.4, 40.6], [70.5, 40.2], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]])


def face(marks: np.ndarray | None = MARKS, whole: bool = False, size: tuple[int, int] = (120, 100)) -> Face:
    image = np.zeros((*size, 3), np.uint8)
    return Face(image, DetectedFace(BoundingBox(10, 20, 90, 110), 0.99, marks), whole_image=whole)


def test_landmarks_are_rounded_ints_in_order():
    out = LandmarksDetector(None).analyze([face(), face(MARKS + 1)])
    assert out[0] == {"landmarks": [[30, 41], [70, 40], [50, 60], [35, 80], [65, 80]]}
    assert out[1]["landmarks"][0] == [31, 42]
    assert all(isinstance(v, int) for point in out[0]["landmarks"] for v in point)


def test_landmarks_of_a_whole_image_face_are_empty():
    plugin = LandmarksDetector(None)
    assert plugin.analyze([face(None, whole=True), face(None)]) == [{"landmarks": []}, {"landmarks": []}]


def test_pose_of_a_frontal_face_is_near_zero():
    assert PoseEstimator.requires_detection and PoseEstimator.slug == "pose"
    frontal = np.array([[38.0, 50.0], [62.0, 50.0], [50.0, 64.0], [41.0, 76.0], [59.0, 76.0]])
    [result] = PoseEstimator(None).analyze([face(frontal, size=(100, 100))])
    assert set(result["pose"]) == {"pitch", "yaw", "roll"}
    assert abs(result["pose"]["yaw"]) < 5 and abs(result["pose"]["roll"]) < 5


def test_pose_uses_the_original_image_size():
    """The same points read differently in a bigger picture (another camera centre)."""
    plugin = PoseEstimator(None)
    [small] = plugin.analyze([face(size=(120, 100))])
    [big] = plugin.analyze([face(size=(1200, 1000))])
    assert small["pose"] != big["pose"]


def test_pose_turns_with_the_face():
    turned = MARKS.copy()
    turned[2, 0] += 12  # nose moves to the image's right
    plugin = PoseEstimator(None)
    [straight], [right] = plugin.analyze([face()]), plugin.analyze([face(turned)])
    assert abs(right["pose"]["yaw"] - straight["pose"]["yaw"]) > 5  # the sign is facecore.pose's convention
    assert abs(right["pose"]["pitch"] - straight["pose"]["pitch"]) < abs(right["pose"]["yaw"] - straight["pose"]["yaw"])


def test_pose_without_landmarks_is_null():
    assert PoseEstimator(None).analyze([face(None)]) == [{"pose": None}]


def test_package_registers_its_plugins_without_heavy_imports():
    code = ("import sys; import plugins.facenet as p; names = [c.__name__ for c in p.register_plugins()]; "
            "heavy = [m for m in ('onnxruntime', 'onnx', 'cv2', 'joblib') if m in sys.modules]; "
            "print(names, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['FaceDetector', 'Calculator', 'LandmarksDetector', 'PoseEstimator', 'MaskDetector'] []"


def test_registry_names_and_kinds(monkeypatch):
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    monkeypatch.setenv("FACECORE_LOAD_PLUGINS", "facenet")  # other families are not this test's business
    registry = PluginRegistry.from_manager(build_plugin_manager(modules=()))
    assert {"facenet.FaceDetector", "facenet.LandmarksDetector", "facenet.PoseEstimator"} <= set(registry.names())
    detector = registry.create("facenet.FaceDetector@mtcnn_compreface")
    assert str(detector) == "facenet.FaceDetector@mtcnn_compreface"
