"""Shared fixtures: an app on fake plugins and its test client."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facecore.app import create_app
from tests.fakes import FAKE_SETTINGS, fake_pipeline


@pytest.fixture
def app():
    return create_app(FAKE_SETTINGS, pipeline=fake_pipeline())


@pytest.fixture
def client(app):
    return app.test_client()


def png_bytes(width: int = 100, height: int = 100, mode: str = "RGB", noise: bool = True) -> bytes:
    """A PNG; ``noise=False`` keeps big images small in bytes (the test client spools large bodies)."""
    rng = np.random.default_rng(0)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    array = rng.integers(0, 255, (height, width, channels), dtype=np.uint8) if noise else \
        np.full((height, width, channels), 100, dtype=np.uint8)
    image = Image.fromarray(array[:, :, 0] if channels == 1 else array, mode)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def png() -> bytes:
    return png_bytes()
