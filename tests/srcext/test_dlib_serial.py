"""dlib's integer/float/string/tensor encodings, read and written."""
from __future__ import annotations

import math

import numpy as np
import pytest

from srcext.dlib.serial import DlibFormatError, Reader, Writer


@pytest.mark.parametrize("value", [0, 1, 2, 255, 256, 1216, -1, -300, 2**40, -(2**62)])
def test_int_round_trip(value):
    assert Reader(Writer().int(value).getvalue()).read_int() == value


def test_int_bytes_match_dlib():
    # dlib's pack_int: control byte (0x80 = negative | byte count), then little-endian magnitude.
    assert Writer().int(0).getvalue() == b"\x01\x00"
    assert Writer().int(1216).getvalue() == b"\x02\xc0\x04"
    assert Writer().int(-28).getvalue() == b"\x81\x1c"


def test_float_decodes_bytes_from_the_real_model():
    # loss_metric_2's margin in dlib_face_recognition_resnet_model_v1.dat: mantissa 0xa3d70a, exponent -28
    assert Reader(bytes.fromhex("030ad7a3811c")).read_float() == float(np.float32(0.04))


@pytest.mark.parametrize("value", [0.0, 1.0, -2.5, 0.04, 1e-30, 123456.789, math.inf, -math.inf])
def test_float32_round_trip(value):
    value = float(np.float32(value))
    encoded = Writer().float(value, digits=24).getvalue()
    assert Reader(encoded).read_float() == value


def test_float_nan():
    assert math.isnan(Reader(Writer().float(math.nan).getvalue()).read_float())


def test_string_bool_and_position():
    data = Writer().string("con_4").bool(True).bool(False).int(7).getvalue()
    reader = Reader(data)
    assert reader.peek_string() == "con_4"
    assert reader.read_string() == "con_4"
    assert (reader.read_bool(), reader.read_bool(), reader.read_int()) == (True, False, 7)
    assert reader.at_end()


@pytest.mark.parametrize("version", [1, 2])
def test_tensor_round_trip(version):
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 7 - 1
    decoded = Reader(Writer().tensor(values, version=version).getvalue()).read_tensor()
    assert decoded.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(decoded, values)


def test_truncated_data_is_an_error():
    data = Writer().tensor(np.ones((1, 4), np.float32)).getvalue()
    with pytest.raises(DlibFormatError, match="unexpected end"):
        Reader(data[:-1]).read_tensor()


def test_bad_bool_is_an_error():
    with pytest.raises(DlibFormatError, match="bool"):
        Reader(b"x").read_bool()
