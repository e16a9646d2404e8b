"""``facenet.Calculator`` without TensorFlow: CompreFace's crop and prewhitening, its models and coefficients,
a clear error when the graph is absent. Embeddings against TensorFlow: test_calculator_oracle.py."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.plugin_api import BoundingBox, DetectedFace, Face, LoadContext
from plugins.facenet.calculator import Calculator, compreface_crop, prewhiten, resize_like_skimage

COMPREFACE_MODELS = {"20180402-114759": (1.1817961, 5.291995557), "20180408-102900": (1.1362496, 5.803152427),
                     "inception_resnetv1_casia_masked": (1.1145709, 4.554903071)}


def test_models_and_coefficients_are_compreface_s():
    assert Calculator.model_names() == list(COMPREFACE_MODELS)
    for spec in Calculator.models:
        assert spec.similarity_coefficients == COMPREFACE_MODELS[spec.name]
        (file,) = spec.files
        assert file.filename == file.member == f"{spec.name}.pb" and file.source.startswith("gdrive:")


def test_prewhiten_gives_zero_mean_unit_std_with_compreface_s_floor():
    crop = np.random.default_rng(0).random((160, 160, 3))
    white = prewhiten(crop)
    assert abs(white.mean()) < 1e-12 and abs(white.std() - 1) < 1e-12
    flat = np.full((160, 160, 3), 0.5)
    assert np.all(prewhiten(flat) == 0)
    nearly = flat.copy()
    nearly[0, 0, 0] += 1e-6  # std below 1/sqrt(n): divided by the floor, not by the tiny std
    assert np.abs(prewhiten(nearly)).max() < 1e-3


def test_a_160_pixel_whole_image_is_used_as_is():
    image = np.random.default_rng(1).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    face = Face(image, DetectedFace(BoundingBox(0, 0, 160, 160), 1.0), whole_image=True)
    np.testing.assert_array_equal(compreface_crop(face), image / 255.0)


def test_the_crop_is_the_box_at_whole_pixels_resized():
    image = np.zeros((400, 300, 3), np.uint8)
    image[100:260, 50:210] = 200  # the box's content, bright; the rest black
    face = Face(image, DetectedFace(BoundingBox(50.7, 100.2, 210.9, 260.5), 0.99))
    crop = compreface_crop(face)
    assert crop.shape == (160, 160, 3)
    np.testing.assert_allclose(crop, 200 / 255.0)


def test_shrinking_smooths_like_skimage_and_keeps_the_range():
    image = np.zeros((320, 320, 3), np.uint8)
    image[::2] = 255  # stripes finer than the target grid: an anti-aliased shrink greys them out
    small = resize_like_skimage(image, 160)
    assert small.shape == (160, 160, 3) and small.min() >= 0 and small.max() <= 1
    assert np.abs(small - 0.5).max() < 0.2


def test_without_the_graph_offline_the_error_names_file_and_import_command(tmp_path):
    calculator = Calculator(Calculator.models[0])
    from facecore.device import Device

    models = ModelStore(tmp_path, offline=True).for_plugin(calculator)
    with pytest.raises(ModelNotAvailable, match=r"20180402-114759\.pb.*tools\.download_models --from"):
        calculator.load(LoadContext(models, Device(-1)))


def test_download_takes_the_graph_from_compreface_s_drive_zip_and_records_its_sha256(tmp_path):
    import hashlib
    import io
    import json
    import zipfile

    calls = []

    def drive(url, target):
        calls.append(url)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("20180402-114759/", b"")
            bundle.writestr("20180402-114759/20180402-114759.pb", b"graph bytes")
            bundle.writestr("20180402-114759/model-20180402-114759.meta", b"other")
        target.write_bytes(buffer.getvalue())

    calculator = Calculator(Calculator.models[0])
    models = ModelStore(tmp_path, downloader=drive).for_plugin(calculator)
    path = models.file("20180402-114759.pb")
    assert path == tmp_path / "facenet" / "calculator" / "20180402-114759" / "20180402-114759.pb"
    assert path.read_bytes() == b"graph bytes"
    assert calls == ["https://drive.google.com/uc?export=download&id=1im5Qq006ZEV_tViKh3cgia_Q4jJ13bRK"]
    recorded = json.loads((tmp_path / "checksums.lock.json").read_text())
    assert recorded == {"facenet/calculator/20180402-114759/20180402-114759.pb":
                        hashlib.sha256(b"graph bytes").hexdigest()}
