"""Memory per request is bounded and returned: faces run in bounded chunks, ONNX Runtime keeps no arena (but a
detector's, bounded by the detection copy).

The bound (docs/security.md): a worker's peak RSS stays below idle + 500 MB for any accepted input.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from facecore.device import Device
from facecore.onnx_session import ARENA_MAX_DETECTION_SIDE, open_session
from facecore.plugin_api import BoundingBox, DetectedFace
from tests import fakes
from tests.fakes import FAKE_SETTINGS, fake_pipeline
from tests.reliability.helpers import ROOT
from tests.shared_data import shared_path

BOUND_MB = 500
FACES = 400


def test_plugins_run_over_bounded_chunks_of_faces():
    pipeline = fake_pipeline(FAKE_SETTINGS.with_overrides(face_chunk=16))
    image = np.zeros((400, 400, 3), np.uint8)
    detections = [DetectedFace(BoundingBox(i % 20 * 20, i // 20 * 20, i % 20 * 20 + 18, i // 20 * 20 + 18), 0.9)
                  for i in range(40)]
    fakes.Calculator.batches.clear()
    results = pipeline.run_plugins(image, detections, ["calculator"])
    assert sorted(fakes.Calculator.batches) == [8, 16, 16]  # in any order: FACE_THREADS runs two at once
    assert len(results) == 40 and all("embedding" in r.fragments for r in results)


def relu_model() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def test_onnx_sessions_keep_no_memory_arena():
    for side in (0, 640):  # a calculator's batch of faces is unbounded, whatever the detection copy
        options = open_session(relu_model(), Device(-1, 1, detection_side=side)).get_session_options()
        assert options.enable_cpu_mem_arena is False and options.enable_mem_pattern is False


@pytest.mark.parametrize(("side", "kept"), [(640, True), (ARENA_MAX_DETECTION_SIDE, True),
                                            (ARENA_MAX_DETECTION_SIDE + 1, False), (0, False)])
def test_a_detector_keeps_the_arena_only_while_the_detection_copy_is_bounded(side, kept):
    options = open_session(relu_model(), Device(-1, 1, detection_side=side), detector_input=True).get_session_options()
    assert options.enable_cpu_mem_arena is kept
    assert options.enable_mem_pattern is False  # one plan per input shape would grow with the shapes seen


def test_the_service_device_carries_the_detection_copy_size():
    assert FAKE_SETTINGS.with_overrides(img_length_limit=800).device.detection_side == 800


PROBE = textwrap.dedent('''
    import io, json, sys
    from pathlib import Path
    import numpy as np
    from PIL import Image
    from facecore.app import create_app

    def status_mb(field):
        return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) // 1024

    faces, tile = int(sys.argv[2]), 160
    pictures = sorted(Path(sys.argv[1]).rglob("*.jpg"))[:faces]
    grid = int(np.ceil(np.sqrt(len(pictures))))
    canvas = np.zeros((grid * tile, grid * tile, 3), np.uint8)
    for i, path in enumerate(pictures):
        row, col = divmod(i, grid)
        canvas[row * tile:(row + 1) * tile, col * tile:(col + 1) * tile] = np.asarray(
            Image.open(path).convert("RGB").resize((tile, tile)))
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, "JPEG", quality=90)
    client = create_app().test_client()
    def post(data):
        return client.post("/find_faces?face_plugins=calculator", data={"file": (io.BytesIO(data), "x.jpg")},
                           content_type="multipart/form-data")
    post(out.getvalue())  # the first request's one-off allocations are part of idle
    idle = status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    response = post(out.getvalue())
    print(json.dumps({"status": response.status_code, "faces": len(response.get_json().get("result", [])),
                      "idle": idle, "peak": status_mb("VmHWM"), "after": status_mb("VmRSS")}))
''')


@pytest.mark.integration
def test_hundreds_of_faces_with_the_default_plugins_stay_under_the_bound():
    """An image of 400 small faces with face_plugins=calculator took a worker from 300 MB to 3.4 GB for good."""
    lfw = shared_path("datasets/lfw/images")
    out = subprocess.run([sys.executable, "-c", PROBE, str(lfw), str(FACES)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                      "LOGGING_LEVEL_NAME": "warning",
                                                      # the ~13 px faces of the collage: MTCNN finds > 200 of
                                                      # them, the default YuNet 104 (docs/detectors.md)
                                                      "FACE_DETECTION_PLUGIN": "facenet.FaceDetector"})
    assert out.returncode == 0, out.stderr[-3000:]
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    print(measured)
    assert measured["status"] == 200 and measured["faces"] > 200, measured
    assert measured["peak"] - measured["idle"] < BOUND_MB, measured
    assert measured["after"] - measured["idle"] < 100, measured  # returned, not kept for good
