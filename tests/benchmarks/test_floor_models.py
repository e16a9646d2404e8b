"""FLOPs of the real models: pinned, so a converter or counter change that alters the work shows up."""
from __future__ import annotations

import pytest

from tests.shared_data import shared_path
from tools.benchmarks.floor_models import catalogue, pnet_runs
from tools.benchmarks.flops import FloorRow, floor_rows, unit_flops
from tools.benchmarks.sgemm import GemmRate, measure_sgemm

pytestmark = pytest.mark.integration

MODELS = {m.name.split(" (")[0].split(",")[0]: m for m in catalogue(640, 480)}


def _mflops(name: str) -> float:
    item = MODELS[name]
    return unit_flops(item.build(), item.runs()).total / 1e6


def test_dlib_resnet_costs_about_271_million_multiply_adds_per_face():
    pytest.importorskip("face_recognition_models")
    assert _mflops("dlib ResNet") == pytest.approx(541.7, rel=1e-3)


def test_mtcnn_refine_and_output_nets():
    pytest.importorskip("joblib")
    assert _mflops("MTCNN R-Net") == pytest.approx(3.06, rel=1e-2)
    assert _mflops("MTCNN O-Net") == pytest.approx(25.8, rel=1e-2)


def test_pnet_pyramid_of_a_vga_image():
    runs = pnet_runs(640, 480)
    assert runs[0]["image"] == (1, 288, 384, 3)  # scale 12/20 = 0.6
    assert min(r["image"][1] for r in runs) >= 12
    assert len(runs) == 10


def test_default_detector_yunet_on_the_enlarged_vga_input():
    pytest.importorskip("yuface")
    item = MODELS["YuNet"]
    assert item.runs() == [{"input": (1, 3, 608, 800)}]  # 640x480 x 1.25 = 800x600, padded to 32
    # 1.25 squared of the VGA cost (the network is fully convolutional), all of it in Conv nodes
    assert _mflops("YuNet") == pytest.approx(817.5, rel=1e-3)
    vga = unit_flops(item.build(), [{"input": (1, 3, 480, 640)}])
    assert vga.total / 1e6 == pytest.approx(516.3, rel=1e-3) and set(vga.by_op) == {"Conv"}


def test_scrfd_500m_matches_its_published_cost():
    shared_path("models/scrfd_500m_bnkps.onnx")
    # InsightFace lists SCRFD-500M at 0.5 GFLOPs (multiply-adds) for VGA 640x480: 640x640 is 4/3 of that.
    mflops = _mflops("SCRFD-500M 640x640")
    assert mflops == pytest.approx(1467.1, rel=1e-3)
    assert 0.45e3 < mflops / 2 * 3 / 4 < 0.6e3


def test_arcface_backbones_match_their_published_cost_and_size():
    # InsightFace's model zoo: IResNet-100 24.2 GFLOPs and 65.2 M parameters, IResNet-50 12.6 GFLOPs, 43.6 M.
    import numpy as np

    assert _mflops("ArcFace IResNet-100") == pytest.approx(24.2e3, rel=5e-3)
    assert _mflops("ArcFace IResNet-50") == pytest.approx(12.6e3, rel=5e-3)
    model = MODELS["ArcFace IResNet-50"].build()
    assert sum(int(np.prod(t.dims)) for t in model.graph.initializer) == pytest.approx(43.6e6, rel=5e-3)


def test_arcface_backbone_runs_in_onnx_runtime_at_any_batch():
    import numpy as np
    import onnxruntime as ort

    from tools.benchmarks.iresnet import build_iresnet

    session = ort.InferenceSession(build_iresnet(50).SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"data": np.zeros((2, 3, 112, 112), np.float32)})[0]
    assert out.shape == (2, 512) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="depth 34"):
        build_iresnet(34)


def test_floor_rows_divide_flops_by_the_rate_and_skip_what_is_missing():
    rates = {1: GemmRate(1, 1, 100.0), 2: GemmRate(2, 1, 200.0)}
    rows = floor_rows([MODELS["MTCNN O-Net"]], rates, measure=False)
    assert rows[0].floor_ms_1t == pytest.approx(rows[0].mflops / 100.0)  # MFLOP / (GFLOP/s) = ms
    assert rows[0].floor_ms_2t == pytest.approx(rows[0].mflops / 200.0)
    assert FloorRow("x", "face", 1.0, 2.0, 1.0, measured_ms_1t=6.0).ratio == 3.0


def test_sgemm_rate_is_positive():
    rate = measure_sgemm(1, size=128, repeats=1)
    assert rate.threads == 1 and rate.gflops > 0.1


def test_openvino_column_measures_the_same_model():
    from facecore.inference_runtime import openvino_installed

    if not openvino_installed():
        pytest.skip("needs the openvino package (face-core[openvino])")
    rates = {1: GemmRate(1, 1, 100.0), 2: GemmRate(2, 1, 200.0)}
    (row,) = floor_rows([MODELS["MTCNN O-Net"]], rates, measure=False, openvino=True)
    assert row.measured_ms_1t is None and row.openvino_ms_1t > 0
    assert row.openvino_ratio == pytest.approx(row.openvino_ms_1t / row.floor_ms_1t)
