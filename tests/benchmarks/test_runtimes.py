"""tools.benchmarks.runtimes: every runtime gets a row, and OpenVINO f32 answers like ONNX Runtime."""
from __future__ import annotations

import pytest

from facecore.inference_runtime import openvino_installed
from tests.shared_data import shared_path

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not openvino_installed(), reason="needs the openvino package (face-core[openvino])")]


def test_one_round_on_the_gender_network(tmp_path, capsys):
    from tools.benchmarks import runtimes

    shared_path("datasets/deepface/selfie-many-people.jpg")
    assert runtimes.main(["--rounds", "1", "--batch", "2", "--plugins", "dlib.GenderDetector",
                          "--models-root", str(tmp_path)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| `dlib.GenderDetector`")]
    assert [row.split(" | ")[1] for row in rows] == ["onnxruntime f32", "openvino f32", "openvino bf16"]
    assert float(rows[1].rsplit(" | ", 1)[1].rstrip(" |")) < 1e-4
