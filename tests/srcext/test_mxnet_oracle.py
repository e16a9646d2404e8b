"""ONNX conversions against MXNet 1.9.1 itself (run in its own venv): every op, and the two real models."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from srcext.mxnet import convert, convert_cached, read_params
from tests.shared_data import shared_path
from tests.srcext.mxnet_graphs import CASES, build_case
from tests.srcext.mxnet_oracle import mxnet_forward, relative_error, run_script

pytestmark = [pytest.mark.mxnet_oracle, pytest.mark.integration]

TOLERANCE = 1e-4
REAL_MODELS = {
    "mobileface_v2": ("models/mxnet/mobileface_v2/MobileFace_Identification_V2-symbol.json",
                      "models/mxnet/mobileface_v2/MobileFace_Identification_V2-0000.params", 256),
    "genderage_v1": ("models/mxnet/genderage_v1/model-symbol.json", "models/mxnet/genderage_v1/model-0000.params", 202),
}


def run_onnx(model_bytes: bytes, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def face_crops(count: int) -> np.ndarray:
    """Real aligned faces resized to 112x112, NCHW float32 in 0..255 (both models scale inside the graph)."""
    import cv2

    folder = shared_path("datasets/lfw-aligned-100pair")
    files = sorted(path for path in folder.rglob("*") if path.suffix.lower() in (".jpg", ".png"))[:count]
    crops = [cv2.resize(cv2.imread(str(path))[:, :, ::-1], (112, 112), interpolation=cv2.INTER_AREA) for path in files]
    return np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)


def test_every_op_matches_mxnet(tmp_path: Path) -> None:
    oracle_cases, ours = [], []
    for case in CASES:
        symbol, params, inputs, heads = build_case(case, tmp_path)
        model = convert(symbol, params, {name: value.shape for name, value in inputs.items()})
        ours.append((case.name, heads, run_onnx(model.SerializeToString(), inputs)))
        oracle_cases.append({"symbol": symbol, "params": params, "inputs": inputs})
    failures = []
    for (name, heads, actual), expected in zip(ours, mxnet_forward(tmp_path, oracle_cases)):
        assert len(actual) == len(expected) == len(heads), name
        for head, mine, theirs in zip(heads, actual, expected):
            if mine.shape != theirs.shape or relative_error(mine, theirs) > TOLERANCE:
                failures.append(f"{name}/{head}: shapes {mine.shape} vs {theirs.shape}, "
                                f"error {relative_error(mine, theirs) if mine.shape == theirs.shape else 'n/a'}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("model", sorted(REAL_MODELS))
def test_real_model_matches_mxnet(model: str, tmp_path: Path) -> None:
    symbol_rel, params_rel, width = REAL_MODELS[model]
    symbol, params = shared_path(symbol_rel), shared_path(params_rel)
    onnx_path = convert_cached(symbol, params, (1, 3, 112, 112), out_dir=tmp_path / "cache")
    rng = np.random.default_rng(7)
    random = rng.uniform(0, 255, (2, 3, 112, 112)).astype(np.float32)
    faces = face_crops(4)
    expected = mxnet_forward(tmp_path, [{"symbol": symbol, "params": params, "inputs": {"data": random}},
                                        {"symbol": symbol, "params": params, "inputs": {"data": faces}}])
    for batch, (reference,) in zip((random, faces), expected):
        (actual,) = run_onnx(onnx_path.read_bytes(), {"data": batch})
        assert actual.shape == reference.shape == (len(batch), width)
        assert relative_error(actual, reference) < TOLERANCE


def test_reader_reads_what_mxnet_saves(tmp_path: Path) -> None:
    """Arrays of several dtypes saved by ``mx.nd.save`` come back bit-exact through ``read_params``."""
    run_script("import sys, mxnet as mx, numpy as np\n"
               "a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7\n"
               "mx.nd.save(sys.argv[1], {'arg:w32': mx.nd.array(a), 'arg:w16': mx.nd.array(a, dtype='float16'),"
               " 'aux:w64': mx.nd.array(a, dtype='float64'), 'arg:i32': mx.nd.array([1, -2], dtype='int32'),"
               " 'arg:u8': mx.nd.array([[255]], dtype='uint8')})", str(tmp_path / "x.params"))
    loaded = read_params(tmp_path / "x.params")
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    assert loaded["arg:w32"].dtype == np.float32 and np.array_equal(loaded["arg:w32"], base)
    assert loaded["arg:w16"].dtype == np.float16 and np.array_equal(loaded["arg:w16"], base.astype(np.float16))
    assert loaded["aux:w64"].dtype == np.float64 and np.array_equal(loaded["aux:w64"], base.astype(np.float64))
    assert loaded["arg:i32"].tolist() == [1, -2] and loaded["arg:u8"].tolist() == [[255]]
