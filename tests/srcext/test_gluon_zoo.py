"""``srcext.mxnet.gluon_zoo`` against MXNet 1.9.1's own model zoo: ``mobilenet_v2_1_0`` and ``resnet18_v1`` with
3 classes, random weights and random batch-norm statistics, saved by gluon (``save_parameters`` and the legacy
``collect_params().save``); our ONNX equals MXNet within 1e-4 relative. Also: CompreFace's whole mask
preprocessing (gluon transforms on a 112x112 crop) against ``insightface.facemask``'s, and the errors."""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
import pytest

from plugins.insightface.facemask import classifier_input
from srcext.mxnet import MxnetConversionError, convert_gluon, convert_gluon_cached, read_params, write_params
from tests.reliability.helpers import ROOT
from tests.srcext import gluon_oracle
from tests.srcext.mxnet_oracle import relative_error

pytestmark = [pytest.mark.mxnet_oracle, pytest.mark.integration]
ARCHITECTURES = ("mobilenet_v2_1_0", "resnet18_v1")


def face_crops() -> np.ndarray:
    """Two 112x112 RGB crops of the astronaut's face (one mirrored) and one of random pixels, uint8."""
    import cv2

    image = cv2.cvtColor(cv2.imread(str(ROOT / "sample_images" / "astronaut.png")), cv2.COLOR_BGR2RGB)
    face = cv2.resize(image[20:220, 120:320], (112, 112), interpolation=cv2.INTER_AREA)
    noise = np.random.default_rng(5).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    return np.stack([face, face[:, ::-1], noise])


def tensors() -> np.ndarray:
    crops = face_crops()
    normalised = np.stack([classifier_input(crop) for crop in crops])
    return np.concatenate([normalised, np.random.default_rng(7).uniform(-2, 2, (2, 3, 224, 224))]).astype(np.float32)


@pytest.fixture(scope="module", params=ARCHITECTURES)
def model(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    return request.param, gluon_oracle.build(folder, request.param, 11, tensors(), face_crops())


def run(onnx_model, batch: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"data": batch})[0]


def test_both_parameter_files_convert_to_mxnets_logits(model):
    arch, saved = model
    assert np.abs(saved.logits).max() > 0.05  # a network whose answers differ between images
    assert np.ptp(saved.logits, axis=0).max() > 1e-3
    for params in (saved.params, saved.legacy):
        assert relative_error(run(convert_gluon(arch, params), tensors()), saved.logits) < 1e-4


def test_compreface_preprocessing_and_softmax_give_compreface_scores(model):
    arch, saved = model
    crops = face_crops()
    got = run(convert_gluon(arch, saved.params, softmax=True), np.stack([classifier_input(c) for c in crops]))
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert relative_error(got, saved.compreface) < 1e-4
    assert list(got.argmax(axis=1)) == list(saved.compreface.argmax(axis=1))


def test_conversion_is_deterministic_and_cached(model, tmp_path):
    arch, saved = model
    assert convert_gluon(arch, saved.params).SerializeToString() == convert_gluon(arch, saved.params).SerializeToString()
    target = tmp_path / "model.onnx"
    convert_gluon_cached(arch, saved.params, target, softmax=True)
    first = target.stat().st_mtime_ns
    assert convert_gluon_cached(arch, saved.params, target, softmax=True) == target
    assert target.stat().st_mtime_ns == first  # reused
    convert_gluon_cached(arch, saved.params, target, softmax=False)  # another output: converted again
    assert json.loads(target.with_name("model.onnx.json").read_text())["softmax"] is False
    assert relative_error(run(onnx.load(target), tensors()), saved.logits) < 1e-4


def test_wrong_or_incomplete_parameters_are_named(model, tmp_path):
    arch, saved = model
    params = read_params(saved.params)
    other = "resnet18_v1" if arch == "mobilenet_v2_1_0" else "mobilenet_v2_1_0"
    with pytest.raises(MxnetConversionError, match=f"gluon {other}: .*(shape|missing)"):
        convert_gluon(other, params)  # the other architecture's file
    missing = dict(params)
    del missing["output.0.weight" if arch == "mobilenet_v2_1_0" else "output.bias"]
    with pytest.raises(MxnetConversionError, match="parameter 'output.* is missing from the file"):
        convert_gluon(arch, missing)
    with pytest.raises(MxnetConversionError, match="not part of the network.*extra.weight"):
        convert_gluon(arch, {**params, "extra.weight": np.zeros(3, np.float32)})
    bad = dict(params)
    bad["features.1.gamma"] = np.ones(5, np.float32)
    with pytest.raises(MxnetConversionError, match="features.1.gamma has shape"):
        convert_gluon(arch, bad)
    legacy = list(read_params(saved.legacy).items())
    shuffled = dict([legacy[1], legacy[0], *legacy[2:]])  # a gamma where the first weight belongs
    write_params(tmp_path / "shuffled.params", shuffled)
    with pytest.raises(MxnetConversionError, match="where the network has"):
        convert_gluon(arch, tmp_path / "shuffled.params")
    with pytest.raises(MxnetConversionError, match="unknown gluon architecture"):
        convert_gluon("vgg16", params)


def test_command_line_writes_the_model_or_names_the_problem(model, tmp_path):
    from srcext.gluon2onnx import main

    arch, saved = model
    assert main([arch, str(saved.params), str(tmp_path / "out.onnx"), "--softmax"]) == 0
    probabilities = run(onnx.load(tmp_path / "out.onnx"), tensors())
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    other = "resnet18_v1" if arch == "mobilenet_v2_1_0" else "mobilenet_v2_1_0"
    assert main([other, str(saved.params), str(tmp_path / "bad.onnx")]) == 1
    assert not (tmp_path / "bad.onnx").exists()
