"""``facenet.facemask.MaskDetector`` against Keras: a Keras Inception-v3 3-class model saved as a SavedModel,
zipped with its folders as CompreFace distributes its mask model, imported with ``tools.download_models --from``,
answers Keras's probabilities for the same crops (the 160x160 face, cubic-resized to 100x100, RGB in [0, 1])."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from facecore.config import Settings
from facecore.model_store import ModelStore
from facecore.plugin_api import BoundingBox, DetectedFace, Face, LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from plugins.facenet.facemask import LABELS
from tests.reliability.helpers import ROOT
from tests.srcext import tensorflow_oracle as oracle, tf_keras_mask
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.integration, pytest.mark.tensorflow_oracle]
MODEL = "inception_v3_on_mafa_kaggle123"


def test_keras_h5_and_savedmodel_convert_alike(tmp_path):
    from srcext.keras import convert

    folder = tf_keras_mask.build()
    faces = (np.load(folder / "faces.npy") / 255.0).astype(np.float32)
    expected = np.load(folder / "keras.npy")
    for source in (folder / "model.h5", folder / "saved", folder / "saved_tf21"):
        import onnxruntime

        model = convert(source)
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        assert relative_error(session.run(None, {"input_1": faces})[0], expected) < 1e-4


def test_imported_savedmodel_answers_like_keras(tmp_path):
    import cv2

    saved = tf_keras_mask.build() / "saved_tf21"
    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / f"{MODEL}.zip", "w") as bundle:
        bundle.writestr(f"{MODEL}/", b"")
        for path in sorted(saved.rglob("*")):
            bundle.write(path, f"{MODEL}/{path.relative_to(saved).as_posix()}" + ("/" if path.is_dir() else ""))
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root), "--plugins", "facenet.facemask.MaskDetector"],
                              capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    plugin = PluginRegistry.from_manager(build_plugin_manager()).create("facenet.facemask.MaskDetector")
    plugin.load(LoadContext(ModelStore(root, offline=True).for_plugin(plugin), Settings().device))
    images = np.random.default_rng(3).integers(0, 256, (3, 160, 160, 3), dtype=np.uint8)
    crops = np.stack([cv2.resize(image / 255.0, (100, 100), interpolation=cv2.INTER_CUBIC) for image in images])
    expected = oracle.keras_forward(tmp_path, saved, [crops.astype(np.float32)])[0]
    faces = [Face(image, DetectedFace(BoundingBox(0, 0, 160, 160), 1.0)) for image in images]
    assert relative_error(plugin.probabilities(faces), expected) < 1e-4
    for answer, row in zip(plugin.analyze(faces), expected):
        assert answer == {"mask": {"value": LABELS[int(row.argmax())], "probability": pytest.approx(row.max(), abs=1e-4)}}
