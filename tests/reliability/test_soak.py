"""Soak: 2000 mixed requests at concurrency 2 against the real default plugins; RSS must not keep growing.

``make soak`` (performance-marked, not part of ``make test``). SOAK_REQUESTS changes the count.
Prints the RSS figures that docs/security.md quotes.
"""
from __future__ import annotations

import base64
import gc
import io
import os
import random
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from tests.reliability.helpers import huge_png, image_bytes
from tests.reliability.test_real_plugins import default_client, face_jpeg

pytestmark = pytest.mark.performance
REQUESTS = int(os.environ.get("SOAK_REQUESTS", "2000"))
GROWTH_LIMIT_MB = 50.0


def request_mix():
    face, couple = face_jpeg(), face_jpeg("deepface/couple.jpg", 500)
    noise = image_bytes("PNG", 200, 150)
    multipart = [("/find_faces?face_plugins=calculator,age,gender,landmarks,pose", face, 200),
                 ("/find_faces?face_plugins=calculator&limit=1", couple, 200),
                 ("/find_faces?detect_faces=false&face_plugins=calculator,age", face, 200),
                 ("/scan_faces", couple, 200), ("/vectorize", face, 200),
                 ("/find_faces", noise, 400), ("/find_faces", face[:len(face) // 3], None),
                 ("/find_faces", b"%PDF-1.4 not an image", 400), ("/find_faces", huge_png(9000, 9000), 400)]
    calls = [("multipart", path, data, status) for path, data, status in multipart]
    calls.append(("base64", "/find_faces_base64?face_plugins=calculator,gender", face, 200))
    calls += [("get", "/status", b"", 200), ("get", "/healthcheck", b"", 200)]
    return calls


def send(client, call) -> int:
    kind, path, data, _ = call
    if kind == "get":
        return client.get(path).status_code
    if kind == "base64":
        return client.post(path, json={"file": base64.b64encode(data).decode()}).status_code
    return client.post(path, data={"file": (io.BytesIO(data), "x.jpg")}, content_type="multipart/form-data").status_code


def test_no_memory_growth(tmp_path):
    client = default_client(tmp_path, MAX_IN_FLIGHT="2")
    calls = request_mix()
    plan = [random.Random(7).choice(calls) for _ in range(REQUESTS)]
    process = psutil.Process()
    samples = []

    def run(batch):
        with ThreadPoolExecutor(2) as pool:
            for call, status in zip(batch, pool.map(lambda c: send(client, c), batch)):
                assert call[3] is None or status == call[3], (call[1], status)
                assert status < 500

    half = REQUESTS // 2
    run(plan[:half])
    gc.collect()
    samples.append(process.memory_info().rss)
    for start in range(half, REQUESTS, max(REQUESTS // 10, 1)):
        run(plan[start:start + max(REQUESTS // 10, 1)])
        samples.append(process.memory_info().rss)
    gc.collect()
    growth = (process.memory_info().rss - samples[0]) / 2**20
    print(f"soak: {REQUESTS} requests, RSS at half {samples[0] / 2**20:.1f} MB, "
          f"peak {max(samples) / 2**20:.1f} MB, growth over the second half {growth:.1f} MB")
    assert growth < GROWTH_LIMIT_MB
