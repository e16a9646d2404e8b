"""``insightface.facemask.MaskDetector`` end to end against MXNet: random-weight gluon ``mobilenet_v2_1_0`` and
``resnet18_v1`` (3 classes) saved by MXNet, zipped as CompreFace distributes them, imported with
``tools.download_models --from``, served over HTTP as ``insightface.facemask.MaskDetector@mobilenet_v2_on_mafa_kaggle123``:
the class and probability are MXNet's for the face's crop put through CompreFace's own transforms; the same
answers from 8 threads as from one."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
import requests

from facecore.config import Settings
from facecore.model_store import ModelStore
from facecore.pipeline import load_plugin
from facecore.plugin_api import Face, LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from plugins.compreface_mask import LABELS
from plugins.insightface.crops import arcface112
from plugins.insightface.facemask import classifier_input
from tests.reliability.helpers import ROOT, UwsgiServer
from tests.srcext import gluon_oracle
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.integration, pytest.mark.mxnet_oracle]
MOBILENET, RESNET = "mobilenet_v2_on_mafa_kaggle123", "resnet18_on_mafa_kaggle123"
IMAGE = ROOT / "sample_images" / "astronaut.png"  # one face, 512x512 (under IMG_LENGTH_LIMIT: no downscaling)


def astronaut_face(models_root) -> Face:
    """The face as the served detector (``facenet.FaceDetector``, MTCNN from its pip package) finds it."""
    import cv2

    image = cv2.cvtColor(cv2.imread(str(IMAGE)), cv2.COLOR_BGR2RGB)
    registry = PluginRegistry.from_manager(build_plugin_manager())
    detector = registry.create("facenet.FaceDetector")
    load_plugin(detector, ModelStore(models_root, offline=True), Settings().device)
    detections = detector.detect(image, detector.default_threshold)
    assert len(detections) == 1
    return Face(image, detections[0])


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    face = astronaut_face(tmp_path_factory.mktemp("detector-models"))
    crops = arcface112(face)[None]
    built = {arch: gluon_oracle.build(tmp_path_factory.mktemp(arch), arch, seed, classifier_input(crops[0])[None], crops)
             for arch, seed in (("mobilenet_v2_1_0", 21), ("resnet18_v1", 22))}
    return face, built


def compreface_zips(folder, built) -> None:
    """``mobilenetv2_1_0.zip`` as CompreFace's (the parameters file at its root); the ResNet one with a folder,
    the other layout a zip may have."""
    with zipfile.ZipFile(folder / "mobilenetv2_1_0.zip", "w") as bundle:
        bundle.write(built["mobilenet_v2_1_0"].params, "mobilenetv2_1_0.params")
    with zipfile.ZipFile(folder / "resnet18_v1.zip", "w") as bundle:
        bundle.writestr("resnet18_v1/", b"")
        bundle.write(built["resnet18_v1"].params, "resnet18_v1/resnet18_v1.params")


def test_imported_zips_answer_mxnets_class_and_probability(oracle, tmp_path):
    face, built = oracle
    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    compreface_zips(downloads, built)
    selections = [f"insightface.facemask.MaskDetector@{MOBILENET}", f"insightface.facemask.MaskDetector@{RESNET}"]
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root), "--plugins", *selections],
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    for model in (MOBILENET, RESNET):  # converted at import: the server never writes to MODELS_ROOT
        assert (root / "insightface" / "mask" / model / f"{model}.onnx").is_file()

    registry = PluginRegistry.from_manager(build_plugin_manager())
    for selection, arch in zip(selections, ("mobilenet_v2_1_0", "resnet18_v1")):
        plugin = registry.create(selection)
        plugin.load(LoadContext(ModelStore(root, offline=True).for_plugin(plugin), Settings().device))
        assert relative_error(plugin.probabilities([face]), built[arch].compreface) < 1e-4

    expected = built["mobilenet_v2_1_0"].compreface[0]
    assert expected.max() - expected.min() > 0.01  # a network that prefers one class
    env = {"FACECORE_LOAD_PLUGINS": "facenet,insightface,dlib", "FACE_DETECTION_PLUGIN": "facenet.FaceDetector",
           "CALCULATION_PLUGIN": "dlib.Calculator", "EXTRA_PLUGINS": selections[0], "MODELS_ROOT": str(root),
           "MODELS_OFFLINE": "true"}
    with UwsgiServer(tmp_path, tmp_path / "uwsgi.log", **env) as server:
        response = requests.post(server.url + "/find_faces", files={"file": ("face.png", IMAGE.read_bytes())},
                                 data={"face_plugins": "mask"}, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["plugins_versions"]["mask"] == selections[0]
        [result] = body["result"]
        assert set(result["execution_time"]) == {"detector", "mask"}
        assert result["mask"] == {"value": LABELS[int(expected.argmax())],
                                  "probability": pytest.approx(float(expected.max()), abs=1e-4)}
        skipped = requests.post(server.url + "/find_faces", files={"file": ("face.png", IMAGE.read_bytes())},
                                data={"face_plugins": "mask", "detect_faces": "false"}, timeout=60).json()
        assert "mask" not in skipped["result"][0] and "mask" not in skipped["plugins_versions"]  # as CompreFace

    from facecore.app import create_app
    from facecore.config import load_settings
    from tests.reliability.helpers import assert_same_answers_from_threads
    from tests.shared_data import shared_path

    client = create_app(load_settings({**env, "MAX_IN_FLIGHT": "8"})).test_client()
    images = [IMAGE.read_bytes(), shared_path("datasets/deepface/couple.jpg").read_bytes()]
    assert_same_answers_from_threads(client, images, "mask")
