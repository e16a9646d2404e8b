"""Shared fixtures of the facenet plugin tests: the MTCNN weights of the ``mtcnn`` pip package and a
loaded detector (CPU)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecore.model_store import ModelNotAvailable, ModelStore


@pytest.fixture(scope="session")
def weight_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from plugins.facenet.detector import MTCNN

    store = ModelStore(tmp_path_factory.mktemp("models"), offline=True)
    try:
        return store.ensure("facenet", "detector", MTCNN)
    except ModelNotAvailable as error:  # pragma: no cover - mtcnn is a declared dependency
        pytest.skip(f"MTCNN weights unavailable: {error}")


@pytest.fixture(scope="session")
def weights(weight_files: dict[str, Path]) -> dict[str, list[np.ndarray]]:
    from plugins.facenet.nets import load_weights

    return {kind: load_weights(weight_files[f"{kind}.lz4"]) for kind in ("pnet", "rnet", "onet")}


@pytest.fixture(scope="session")
def detector(tmp_path_factory: pytest.TempPathFactory):
    from facecore.device import Device
    from plugins.facenet.detector import FaceDetector

    plugin = FaceDetector(FaceDetector.find_model(None))
    plugin.load(ModelStore(tmp_path_factory.mktemp("store"), offline=True).context_for(plugin, Device()))
    return plugin
