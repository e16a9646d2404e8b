"""CompreFace's UI picks the first ``available_plugins`` key containing "landmarks", asks for it with
gender,age,pose and draws the field ``landmarks``; its API server keeps only ``landmarks``. Each built-in
landmarks plugin, configured alone, must give them points to draw; with the 5-point plugin also asked for,
``landmarks`` stays its 5 points whatever the order."""
from __future__ import annotations

import io

import pytest

from facecore.app import create_app
from facecore.config import Settings
from tests.shared_data import shared_path

pytestmark = pytest.mark.integration


def stand_in_2d106(root) -> None:
    """The 2d106det file where the store expects it: a graph whose 212 outputs are 0 (plumbing only)."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("ReduceMean", ["data"], ["m"], axes=[1, 2, 3], keepdims=0),
             helper.make_node("Unsqueeze", ["m", "one"], ["u"]), helper.make_node("Mul", ["u", "zeros"], ["fc1"])]
    graph = helper.make_graph(nodes, "lm", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 192, 192])],
                              [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 212])],
                              initializer=[helper.make_tensor("one", TensorProto.INT64, [1], [1]),
                                           helper.make_tensor("zeros", TensorProto.FLOAT, [1, 212], [0.0] * 212)])
    folder = root / "insightface" / "landmarks2d106" / "2d106det"
    folder.mkdir(parents=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8),
              str(folder / "2d106det.onnx"))


def ui_pick(client, image: bytes) -> list:
    """What CompreFace's UI does: the first landmarks key of /status, sent with gender,age,pose."""
    plugins = client.get("/status").get_json()["available_plugins"]
    key = next(name for name in plugins if "landmarks" in name)
    data = {"file": (io.BytesIO(image), "photo.jpg"), "face_plugins": f"{key},gender,age,pose"}
    body = client.post("/find_faces", data=data, content_type="multipart/form-data").get_json()
    return [face.get("landmarks") for face in body["result"]]


@pytest.mark.parametrize("plugin,points", [
    ("facenet.LandmarksDetector", 5), ("dlib.LandmarksDetector", 5), ("dlib.Landmarks68Detector", 68),
    ("insightface.LandmarksDetector", 5), ("insightface.Landmarks2d106Detector", 106)])
def test_the_ui_finds_points_under_landmarks(tmp_path, plugin, points):
    image = shared_path("datasets/deepface/img4.jpg").read_bytes()
    if "2d106" in plugin:
        stand_in_2d106(tmp_path)
    settings = Settings(models_root=tmp_path, models_offline=True,
                        extras=(plugin, "dlib.AgeDetector", "dlib.GenderDetector", "facenet.PoseEstimator"))
    client = create_app(settings).test_client()
    (marks,) = ui_pick(client, image)
    assert marks is not None and len(marks) == points and all(len(point) == 2 for point in marks)


def test_the_five_points_keep_landmarks_whatever_the_order(tmp_path):
    image = shared_path("datasets/deepface/img4.jpg").read_bytes()
    settings = Settings(models_root=tmp_path, models_offline=True,
                        extras=("dlib.Landmarks68Detector", "facenet.LandmarksDetector"))
    client = create_app(settings).test_client()
    for order in ("landmarks68,landmarks", "landmarks,landmarks68"):
        data = {"file": (io.BytesIO(image), "photo.jpg"), "face_plugins": order}
        (face,) = client.post("/find_faces", data=data, content_type="multipart/form-data").get_json()["result"]
        assert len(face["landmarks"]) == 5 and len(face["landmarks68"]) == 68
