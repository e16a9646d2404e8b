"""convert_cached: atomic, deterministic, reused while the source and converter are unchanged."""
from __future__ import annotations

import json

import numpy as np

from srcext.dlib import CONVERTER_VERSION, convert_cached
from tests.srcext.test_dlib_reader import con, loss_mmod, write_net


def _write_detector(path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((1, 3, 3, 3)).astype(np.float32)
    path.write_bytes(write_net(loss_mmod, [lambda w: con(w, weights, np.zeros(1, np.float32), 1, 1)], 0, 0))


def test_writes_model_and_sidecar(tmp_path):
    source = tmp_path / "tiny_detector.dat"
    _write_detector(source, 1)
    out = convert_cached(source, tmp_path / "cache")
    assert out == tmp_path / "cache" / "tiny_detector.onnx"
    sidecar = json.loads((tmp_path / "cache" / "tiny_detector.onnx.json").read_text())
    assert sidecar["converter_version"] == CONVERTER_VERSION
    assert len(sidecar["source_sha256"]) == 64
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_reused_when_unchanged_and_rebuilt_when_source_changes(tmp_path):
    source = tmp_path / "tiny_detector.dat"
    _write_detector(source, 1)
    out = convert_cached(source, tmp_path)
    first = out.read_bytes()
    stamp = out.stat().st_mtime_ns
    assert convert_cached(source, tmp_path).stat().st_mtime_ns == stamp  # not rewritten

    _write_detector(source, 2)
    assert convert_cached(source, tmp_path).read_bytes() != first


def test_output_bytes_are_deterministic(tmp_path):
    source = tmp_path / "tiny_detector.dat"
    _write_detector(source, 3)
    first = convert_cached(source, tmp_path / "a").read_bytes()
    assert convert_cached(source, tmp_path / "b").read_bytes() == first


def test_corrupted_output_is_rebuilt(tmp_path):
    source = tmp_path / "tiny_detector.dat"
    _write_detector(source, 4)
    out = convert_cached(source, tmp_path)
    good = out.read_bytes()
    out.write_bytes(good[:100])
    assert convert_cached(source, tmp_path).read_bytes() == good
