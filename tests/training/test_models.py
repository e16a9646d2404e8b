"""Backbones: every one gives (N, D) for D in 128/256/512; IResNet-50/100 match the published size and cost."""
import pytest

torch = pytest.importorskip("torch")

from training.models import BACKBONES, build_backbone  # noqa: E402


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def on_meta(name: str, size: int):
    """The backbone with shapes only (no memory, no arithmetic): counting is instant even for IResNet-100."""
    with torch.device("meta"):
        return build_backbone(name, size).eval()


def gflops(model) -> float:
    """GFLOPs of one 112x112 face, 2 per multiply-add (as InsightFace's zoo and tools.benchmarks count)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, 112, 112, device="meta"))
    return counter.get_total_flops() / 1e9


@pytest.mark.parametrize("depth, published_params_m, published_gflops", [(50, 43.6, 12.6), (100, 65.2, 24.2)])
def test_iresnet_matches_insightface_published_size_and_cost(depth, published_params_m, published_gflops):
    # InsightFace's model zoo (also pinned for the ONNX rebuild in tests/benchmarks/test_floor_models.py)
    model = on_meta(f"iresnet{depth}", 512)
    assert parameters(model) / 1e6 == pytest.approx(published_params_m, rel=5e-3)
    assert gflops(model) == pytest.approx(published_gflops, rel=5e-3)


def test_mobilefacenet_matches_its_paper():
    # Chen et al. 2018, Table 2: MobileFaceNet 0.99 M parameters, 221 M multiply-adds (128-d output)
    model = on_meta("mobilefacenet", 128)
    assert parameters(model) / 1e6 == pytest.approx(0.99, rel=0.05)
    assert gflops(model) / 2 * 1e3 == pytest.approx(221, rel=0.05)  # multiply-adds


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_has_the_embedding_shape(name):
    assert on_meta(name, 256)(torch.zeros(2, 3, 112, 112, device="meta")).shape == (2, 256)


@pytest.mark.parametrize("name", ["iresnet18", "mobilefacenet", "mobilenetv2", "resnet18", "spherenet20"])
def test_light_backbones_embed_real_numbers(name):
    torch.manual_seed(0)
    model = build_backbone(name, 128).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 112, 112))
    assert out.shape == (2, 128) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[1], rtol=1e-3, atol=0.0)  # the output depends on the input


@pytest.mark.parametrize("size", [128, 256, 512])
def test_embedding_sizes(size):
    assert on_meta("iresnet50", size)(torch.zeros(1, 3, 112, 112, device="meta")).shape == (1, size)


def test_unknown_backbone_and_size_are_refused():
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("vgg16")
    with pytest.raises(ValueError, match="embedding size"):
        build_backbone("iresnet18", 100)
