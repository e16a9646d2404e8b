"""``agegender.AgeDetector`` / ``GenderDetector`` against TensorFlow: rude_carnie's Inception-v3 built by TF-slim
with random weights and saved as a checkpoint, zipped as CompreFace distributes it, imported with
``tools.download_models --from``, answers with TensorFlow's probabilities for the same 160x160 crops."""
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
from plugins.agegender.detectors import AGE_RANGES, GENDERS
from srcext.tensorflow.checkpoint import read_checkpoint
from tests.reliability.helpers import ROOT
from tests.srcext import tf_agegender
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.integration, pytest.mark.tensorflow_oracle]
MODELS = {"agegender.AgeDetector": ("22801", len(AGE_RANGES)), "agegender.GenderDetector": ("21936", len(GENDERS))}


def compreface_zip(folder, step: str, checkpoint) -> None:
    """``<step>.zip`` holding ``<step>/checkpoint`` and ``<step>/model.ckpt-<step>.*``, as rude_carnie saved it."""
    with zipfile.ZipFile(folder / f"{step}.zip", "w") as bundle:
        bundle.writestr(f"{step}/checkpoint", f'model_checkpoint_path: "model.ckpt-{step}"\n')
        for suffix in (".index", ".data-00000-of-00001", ".meta"):
            bundle.write(next(checkpoint.glob(f"model.ckpt-*{suffix}")), f"{step}/model.ckpt-{step}{suffix}")


def test_checkpoint_reader_reads_every_tensor_tensorflow_saved():
    folder = tf_agegender.build(len(GENDERS))
    weights = read_checkpoint(next(folder.glob("model.ckpt-*.index")))
    assert weights["output/weights"].shape == (2048, 2) and weights["output/biases"].shape == (2,)
    assert weights["InceptionV3/Conv2d_1a_3x3/weights"].shape == (3, 3, 3, 32)
    assert "InceptionV3/Conv2d_1a_3x3/BatchNorm/gamma" not in weights  # slim's batch norm has no scale
    assert len([name for name in weights if name.endswith("/weights")]) == 95


def test_imported_checkpoints_answer_like_tensorflow(tmp_path):
    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    folders = {}
    for name, (step, labels) in MODELS.items():
        folders[name] = tf_agegender.build(labels)
        compreface_zip(downloads, step, folders[name])
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root), "--plugins", *MODELS], capture_output=True, text=True,
                              timeout=900, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    registry = PluginRegistry.from_manager(build_plugin_manager())
    store = ModelStore(root, offline=True)
    for name, folder in folders.items():
        plugin = registry.create(name)
        plugin.load(LoadContext(store.for_plugin(plugin), Settings().device))
        faces = np.load(folder / "faces.npy")
        expected = np.load(folder / "softmax.npy")
        assert expected.max(axis=1).min() < 0.99  # the random network does not saturate: probabilities mean something
        crops = [Face(face, DetectedFace(BoundingBox(0, 0, 160, 160), 1.0), whole_image=True) for face in faces]
        assert relative_error(plugin.probabilities(crops), expected) < 1e-4
        answers = plugin.analyze(crops)
        for answer, row in zip(answers, expected):
            (fragment,) = answer.values()
            assert abs(fragment["probability"] - row.max()) < 1e-4
            label = plugin.labels[int(row.argmax())]
            assert (fragment.get("value") or (fragment.get("low"), fragment.get("high"))) == label
