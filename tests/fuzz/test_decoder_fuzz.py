"""Property fuzzing of the decoder: any bytes -> an RGB array or a 400-class error, never anything else.

Bounded for ``make test`` (FUZZ_EXAMPLES, default 300); ``make fuzz`` runs it longer.
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from facecore.errors import BadRequest
from facecore.imaging import SIGNATURES, DecodeLimits, decode_image
from tests.reliability.helpers import image_bytes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
LIMITS = DecodeLimits(max_pixels=4_000_000, max_frames=20)
VALID = [image_bytes(fmt, 24, 20) for fmt in ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")]
MAGIC = [magic if offset == 0 else b"RIFF\x00\x00\x00\x00" + magic for magic, offset, _ in SIGNATURES]

fuzz_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes) -> None:
    try:
        array = decode_image(data, LIMITS)
    except BadRequest:
        return
    assert isinstance(array, np.ndarray) and array.dtype == np.uint8
    assert array.ndim == 3 and array.shape[2] == 3 and array.shape[0] * array.shape[1] <= LIMITS.max_pixels


@fuzz_settings
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_magic_then_noise(magic, tail):
    check(magic + tail)


@fuzz_settings
@given(st.sampled_from(VALID), st.data())
def test_spliced_valid_images(valid, data):
    start = data.draw(st.integers(0, len(valid)))
    end = data.draw(st.integers(start, min(len(valid), start + 64)))
    check(valid[:start] + data.draw(st.binary(max_size=64)) + valid[end:])
