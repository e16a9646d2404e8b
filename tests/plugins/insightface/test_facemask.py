"""``insightface.facemask.MaskDetector`` without MXNet: CompreFace's name, models (first = default), Drive ids,
slug and labels, and the offline error. Probabilities against MXNet: test_facemask_oracle.py."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.device import Device
from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.plugin_api import LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from plugins.compreface_mask import LABELS
from plugins.insightface.facemask import MaskDetector, classifier_input

MOBILENET, RESNET = "mobilenet_v2_on_mafa_kaggle123", "resnet18_on_mafa_kaggle123"


def test_compreface_s_name_models_and_slug(monkeypatch):
    monkeypatch.setenv("FACECORE_LOAD_PLUGINS", "insightface")
    registry = PluginRegistry.from_manager(build_plugin_manager())
    for model in (MOBILENET, RESNET):
        plugin = registry.create(f"insightface.facemask.MaskDetector@{model}")
        assert str(plugin) == f"insightface.facemask.MaskDetector@{model}"
    plugin = registry.create("insightface.facemask.MaskDetector")
    assert plugin.model.name == MOBILENET  # CompreFace's first tuple is the default
    assert str(plugin) == "insightface.facemask.MaskDetector"
    assert plugin.slug == "mask" and plugin.requires_detection and plugin.family() == "insightface"
    assert LABELS == ("without_mask", "with_mask", "mask_weared_incorrect")
    assert [(m.files[0].source, m.options["architecture"]) for m in MaskDetector.models] == [
        ("gdrive:1DYUIroNXkuYKQypYtCxQvAItLnrTTt5E", "mobilenet_v2_1_0"),
        ("gdrive:1A3fNrvgrJqMw54cWRj47LNFNnFvTjmdj", "resnet18_v1")]


def test_classifier_input_is_gluon_s_resize_totensor_normalize():
    crop = np.full((112, 112, 3), (255, 0, 128), dtype=np.uint8)
    batch = classifier_input(crop)
    assert batch.shape == (3, 224, 224) and batch.dtype == np.float32
    assert np.allclose(batch[:, 100, 100], [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225],
                       atol=1e-5)


def test_offline_without_the_model_names_the_file_url_and_import(tmp_path):
    plugin = MaskDetector(MaskDetector.models[0])
    with pytest.raises(ModelNotAvailable,
                       match=r"mobilenetv2_1_0\.params.*drive\.google\.com.*tools\.download_models --from"):
        plugin.load(LoadContext(ModelStore(tmp_path, offline=True).for_plugin(plugin), Device()))
