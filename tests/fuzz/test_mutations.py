"""Corrupt input never gives a 500 or a hang: >= 1000 deterministic mutations of valid JPEG/PNG/WebP/GIF
files, each sent through the HTTP layer (fake plugins): every answer is 200 or a 4xx JSON error."""
from __future__ import annotations

import io
import os
import time
from collections import Counter

import pytest

from facecore.app import create_app
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.fuzz.mutations import cases, length_fields
from tests.reliability.helpers import animated_gif, image_bytes

CASES = int(os.environ.get("MUTATION_CASES", "1200"))
PER_CASE_LIMIT_S = 2.0


@pytest.fixture(scope="module")
def client():
    settings = FAKE_SETTINGS.with_overrides(extras=("fake.AgeDetector", "fake.LandmarksDetector"))
    return create_app(settings, pipeline=fake_pipeline(settings)).test_client()


def seeds() -> dict[str, bytes]:
    return {"jpeg": image_bytes("JPEG", 96, 80, quality=80),
            "jpeg-progressive": image_bytes("JPEG", 64, 64, progressive=True),
            "png": image_bytes("PNG", 64, 48), "webp": image_bytes("WEBP", 64, 64, quality=70),
            "webp-lossless": image_bytes("WEBP", 48, 48, lossless=True), "gif": image_bytes("GIF", 64, 64),
            "gif-animated": animated_gif(4, 40)}


def test_length_fields_are_found():
    for name, data in seeds().items():
        assert len(length_fields(data)) >= 2, name


def test_mutated_images_never_break_the_service(client):
    outcomes: Counter[tuple[str, int]] = Counter()
    failures = []
    slowest = 0.0
    for name, kind, data in cases(seeds(), CASES):
        started = time.perf_counter()
        response = client.post("/find_faces?face_plugins=age,landmarks", data={"file": (io.BytesIO(data), "x.jpg")},
                               content_type="multipart/form-data")
        elapsed = time.perf_counter() - started
        slowest = max(slowest, elapsed)
        status = response.status_code
        outcomes[(kind, status)] += 1
        ok = status == 200 or (400 <= status < 500 and response.is_json and "message" in response.get_json())
        if not ok or elapsed > PER_CASE_LIMIT_S:
            failures.append((name, kind, status, round(elapsed, 2), response.data[:200]))
    assert not failures, failures[:5]
    assert sum(outcomes.values()) == CASES >= 1000
    assert sum(n for (_, status), n in outcomes.items() if status == 200) > 0  # mutations that still decode
    assert sum(n for (_, status), n in outcomes.items() if status == 400) > 0
