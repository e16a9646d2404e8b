"""The agegender family without TensorFlow: CompreFace's names, labels and Drive ids, and the offline error."""
from __future__ import annotations

import pytest

from facecore.device import Device
from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.plugin_api import LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from plugins.agegender.detectors import AGE_RANGES, AgeDetector, GenderDetector
from plugins.agegender.inception_v3 import _final_side


def test_compreface_names_models_and_labels(monkeypatch):
    monkeypatch.setenv("FACECORE_LOAD_PLUGINS", "agegender")
    registry = PluginRegistry.from_manager(build_plugin_manager())
    assert {"agegender.AgeDetector", "agegender.GenderDetector"} <= set(registry.names())
    assert str(registry.create("agegender.AgeDetector@22801")) == "agegender.AgeDetector@22801"
    assert AGE_RANGES == ((0, 2), (4, 6), (8, 12), (15, 20), (25, 32), (38, 43), (48, 53), (60, 100))
    assert GenderDetector.labels == ("male", "female")
    assert [f.source for f in AgeDetector.models[0].files] == ["gdrive:1PxK72O-NROEz8pUGDDFRDYF4AABbvWiC"] * 2
    assert [f.source for f in GenderDetector.models[0].files] == ["gdrive:1j9B76U3b4_F9e8-OKlNdOBQKa2ziGe_-"] * 2


def test_inception_v3_map_side_for_compreface_s_160_crop():
    assert _final_side(160) == 3 and _final_side(299) == 8  # 8 x 8 is Inception-v3's published map at 299


def test_offline_without_the_checkpoint_names_the_file(tmp_path):
    plugin = AgeDetector(AgeDetector.models[0])
    models = ModelStore(tmp_path, offline=True).for_plugin(plugin)
    with pytest.raises(ModelNotAvailable, match=r"model\.ckpt-22801\.index.*tools\.download_models --from"):
        plugin.load(LoadContext(models, Device()))
