"""The ``.params`` reader: round trips through our writer, legacy arrays, and clear errors."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from srcext.mxnet import MxnetConversionError, read_params, split_params, write_params


def test_round_trip_keeps_names_shapes_and_dtypes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"arg:w32": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
              "arg:w16": rng.standard_normal((5,)).astype(np.float16),
              "aux:w64": rng.standard_normal((2, 2)), "arg:i32": np.array([1, -2], np.int32),
              "arg:u8": np.array([[0, 255]], np.uint8), "arg:i64": np.array([2**40], np.int64)}
    write_params(tmp_path / "m.params", arrays)
    loaded = read_params(tmp_path / "m.params")
    assert list(loaded) == list(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype and np.array_equal(loaded[name], value), name
    assert read_params((tmp_path / "m.params").read_bytes()).keys() == arrays.keys()


def test_split_params_strips_prefixes() -> None:
    assert list(split_params({"arg:a": np.zeros(1), "aux:b": np.zeros(1), "c": np.zeros(1)})) == ["a", "b", "c"]


def test_legacy_array_without_magic_is_read() -> None:
    """Pre-v1 arrays start with ndim and uint32 dims."""
    data = np.arange(6, dtype=np.float32)
    body = struct.pack("<I2I", 2, 2, 3) + struct.pack("<iii", 1, 0, 0) + data.tobytes()
    names = struct.pack("<Q", 1) + struct.pack("<Q", 5) + b"arg:x"
    loaded = read_params(struct.pack("<QQQ", 0x112, 0, 1) + body + names)
    assert np.array_equal(loaded["arg:x"], data.reshape(2, 3))


def test_bad_magic_and_truncation_are_reported(tmp_path: Path) -> None:
    with pytest.raises(MxnetConversionError, match="magic 0x112"):
        read_params(b"\x00" * 24)
    write_params(tmp_path / "m.params", {"arg:w": np.ones((4, 4), np.float32)})
    with pytest.raises(MxnetConversionError, match="truncated"):
        read_params((tmp_path / "m.params").read_bytes()[:60])


def test_real_params_files_load() -> None:
    from tests.shared_data import shared_path

    loaded = read_params(shared_path("models/mxnet/genderage_v1/model-0000.params"))
    assert loaded["arg:fc1_gamma"].shape == (202,) and loaded["aux:fc1_moving_var"].dtype == np.float32
    assert len(loaded) == 146
