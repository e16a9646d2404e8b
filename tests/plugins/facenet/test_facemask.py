"""``facenet.facemask.MaskDetector`` without TensorFlow: CompreFace's name, slug, labels, files and the offline
error. Probabilities against Keras: test_facemask_oracle.py."""
from __future__ import annotations

import pytest

from facecore.device import Device
from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.plugin_api import LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from plugins.facenet.facemask import LABELS, MaskDetector


def test_compreface_s_name_slug_labels_and_files(monkeypatch):
    monkeypatch.setenv("FACECORE_LOAD_PLUGINS", "facenet")
    plugin = PluginRegistry.from_manager(build_plugin_manager()).create(
        "facenet.facemask.MaskDetector@inception_v3_on_mafa_kaggle123")
    assert str(plugin) == "facenet.facemask.MaskDetector@inception_v3_on_mafa_kaggle123"
    assert plugin.slug == "mask" and plugin.requires_detection and plugin.family() == "facenet"
    assert LABELS == ("without_mask", "with_mask", "mask_weared_incorrect")
    members = {f.filename: f.member for f in MaskDetector.models[0].files}
    assert members == {"saved_model.pb": "saved_model.pb", "variables.index": "variables/variables.index",
                       "variables.data-00000-of-00001": "variables/variables.data-00000-of-00001"}


def test_offline_without_the_model_names_the_file(tmp_path):
    plugin = MaskDetector(MaskDetector.models[0])
    with pytest.raises(ModelNotAvailable, match=r"saved_model\.pb.*tools\.download_models --from"):
        plugin.load(LoadContext(ModelStore(tmp_path, offline=True).for_plugin(plugin), Device()))
