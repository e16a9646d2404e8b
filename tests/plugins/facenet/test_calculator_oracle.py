"""``facenet.Calculator`` end to end against TensorFlow: a random-weight FaceNet graph (built and frozen by
TensorFlow as facenet's scripts do) zipped as CompreFace distributes it, imported with
``tools.download_models --from``, served over HTTP, gives TensorFlow's embedding for 160x160 crops sent with
``detect_faces=false``."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import requests
from PIL import Image

from tests.reliability.helpers import ROOT, UwsgiServer
from tests.srcext import tf_facenet
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.integration, pytest.mark.tensorflow_oracle]
MODEL = "20180402-114759"


@pytest.fixture(scope="module")
def facenet():
    return tf_facenet.build()


def compreface_zip(folder, graph) -> None:
    """``<model>.zip`` holding ``<model>/<model>.pb`` beside the release's checkpoint files."""
    with zipfile.ZipFile(folder / f"{MODEL}.zip", "w") as bundle:
        bundle.writestr(f"{MODEL}/", b"")
        bundle.write(graph, f"{MODEL}/{MODEL}.pb")
        bundle.writestr(f"{MODEL}/model-{MODEL}.meta", b"not needed")
        bundle.writestr(f"{MODEL}/model-{MODEL}.ckpt-275.index", b"not needed")


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def test_imported_zip_served_over_http_gives_tensorflows_embedding(facenet, tmp_path):
    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    compreface_zip(downloads, facenet / "facenet.pb")
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root), "--plugins", f"facenet.Calculator@{MODEL}"],
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    assert (root / "facenet" / "calculator" / MODEL / f"{MODEL}.pb").is_file()
    assert (root / "facenet" / "calculator" / MODEL / f"{MODEL}.onnx").is_file()  # converted at import
    faces, _, expected = tf_facenet.load(facenet)
    env = {"FACECORE_LOAD_PLUGINS": "facenet", "FACE_DETECTION_PLUGIN": "facenet.FaceDetector",
           "CALCULATION_PLUGIN": f"facenet.Calculator@{MODEL}", "EXTRA_PLUGINS": "", "MODELS_ROOT": str(root),
           "MODELS_OFFLINE": "true"}
    with UwsgiServer(tmp_path, tmp_path / "uwsgi.log", **env) as server:
        status = requests.get(server.url + "/status", timeout=10).json()
        assert status["calculator_version"] == f"facenet.Calculator@{MODEL}"
        assert status["similarity_coefficients"] == [1.1817961, 5.291995557]
        for face, want in zip(faces, expected):
            response = requests.post(server.url + "/find_faces", files={"file": ("face.png", png(face))},
                                     data={"detect_faces": "false", "face_plugins": "calculator"}, timeout=60)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["plugins_versions"]["calculator"] == f"facenet.Calculator@{MODEL}"
            got = np.array(body["result"][0]["embedding"], dtype=np.float32)
            assert got.shape == (512,)
            assert relative_error(got, want) < 1e-4
