"""Liveness: the crop geometry, the safe loading of .pth pickles, ONNX = PyTorch, and the authors' samples."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from facecore.plugin_api import BoundingBox
from plugins.extras.catalogue import MINIFASNET, MINIFASNET_V1SE, MINIFASNET_V2
from plugins.extras.liveness import LivenessDetector
from plugins.extras.liveness_model import context_box, context_crop, verdict
from tests.plugins.extras.helpers import detected_faces, loaded_from_shared, read_rgb
from tests.shared_data import shared_path


def test_context_box_grows_about_the_centre_and_stays_inside():
    assert context_box(BoundingBox(100, 100, 140, 150), 2.0, 640, 480) == (80, 75, 160, 175)
    # near the left/top edge the box is shifted in, not cut: its size is kept
    assert context_box(BoundingBox(0, 0, 40, 50), 2.0, 640, 480) == (0, 0, 80, 100)
    # too big for the image: the scale shrinks to what fits
    x0, y0, x1, y1 = context_box(BoundingBox(200, 100, 400, 400), 4.0, 640, 480)
    assert (x0, y0) >= (0, 0) and x1 <= 639 and y1 <= 479 and y1 - y0 == pytest.approx(479, abs=1)


def test_context_crop_is_80x80_bgr_floats():
    image = np.zeros((100, 120, 3), dtype=np.uint8)
    image[..., 0] = 200  # red in RGB
    crop = context_crop(image, BoundingBox(40, 30, 80, 70), 2.7)
    assert crop.shape == (80, 80, 3) and crop.dtype == np.float32
    assert crop[..., 2].min() == 200 and crop[..., 0].max() == 0  # red is the last channel in BGR


def test_verdict_takes_the_winning_class_and_class_1_is_real():
    assert verdict(np.array([0.1, 0.8, 0.1])).value == "real"
    spoof = verdict(np.array([0.2, 0.3, 0.5]))
    assert (spoof.value, spoof.probability, spoof.real_probability) == ("spoof", 0.5, 0.3)


class _Trap:
    """Pickles to a call of os.mkdir: executing it would create the folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __reduce__(self):
        import os

        return os.mkdir, (self.folder,)


@pytest.mark.parametrize("zip_format", [False, True])
def test_a_pth_that_would_run_code_is_refused(tmp_path, zip_format):
    torch = pytest.importorskip("torch")
    from srcext.minifasnet import MinifasnetConversionError, convert_cached

    hostile = tmp_path / "hostile.pth"
    torch.save({"conv1.conv.weight": _Trap(str(tmp_path / "pwned"))}, hostile,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(MinifasnetConversionError, match="(?s)not a readable PyTorch state dict.*GLOBAL posix.mkdir"):
        convert_cached(hostile)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.integration
@pytest.mark.parametrize("weights", [MINIFASNET_V2, MINIFASNET_V1SE])
def test_onnx_equals_pytorch_on_the_real_weights(tmp_path, weights):
    torch = pytest.importorskip("torch")
    import onnxruntime

    from srcext.minifasnet import convert_cached
    from srcext.minifasnet.architecture import build
    from srcext.minifasnet.convert import load_state

    pth = shared_path(f"models/antispoof-minifasnet/{weights}")
    onnx_path = convert_cached(pth, tmp_path)
    model = build(load_state(pth))
    crops = np.random.default_rng(0).uniform(0, 255, (4, 3, 80, 80)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": crops})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(crops)).numpy()
    assert got.shape == (4, 3)
    assert np.abs(got - want).max() < 1e-4
    stamp = onnx_path.stat().st_mtime_ns
    assert convert_cached(pth, tmp_path) == onnx_path and onnx_path.stat().st_mtime_ns == stamp  # converted once


@pytest.mark.integration
def test_the_authors_samples_come_out_as_named(tmp_path):
    pytest.importorskip("torch")
    plugin = loaded_from_shared(LivenessDetector(MINIFASNET[0]), tmp_path, "antispoof-minifasnet")
    answers = {}
    for path in sorted(shared_path("models/antispoof-minifasnet/samples").glob("image_*.jpg")):
        faces = detected_faces(read_rgb(path))
        assert len(faces) == 1, path.name
        answers[path.stem] = plugin.analyze(faces)[0]["liveness"]
    assert {name: a["value"] for name, a in answers.items()} == {
        "image_F1": "spoof", "image_F2": "spoof", "image_T1": "real"}
    assert all(0.5 < a["probability"] <= 1.0 for a in answers.values())


@pytest.mark.integration
def test_without_pytorch_a_converted_model_loads_and_an_unconverted_one_says_what_to_do(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from facecore.model_store import ModelNotAvailable

    loaded_from_shared(LivenessDetector(MINIFASNET[0]), tmp_path / "converted", "antispoof-minifasnet")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails, as on a machine without it
    again = loaded_from_shared(LivenessDetector(MINIFASNET[0]), tmp_path / "converted", "antispoof-minifasnet")
    assert again.liveness is not None
    with pytest.raises(ModelNotAvailable, match=r"needs PyTorch \(torch==2\.13\.0"):
        loaded_from_shared(LivenessDetector(MINIFASNET[0]), tmp_path / "fresh", "antispoof-minifasnet")
