"""Each head's logits against its paper's formula, on cases worked out by hand.

The embedding x = (3, 4) (|x| = 5) against unit class centres (1, 0) and (0, 1) gives cos t = (0.6, 0.8);
t_0 = acos 0.6 = 0.927295 rad; cos 0.5 = 0.8775826, sin 0.5 = 0.4794255.
"""
import math

import pytest

torch = pytest.importorskip("torch")

from training.losses import CenterLoss, MarginHead, RecognitionLoss, focal_loss  # noqa: E402

COS05, SIN05 = 0.8775826, 0.4794255


def head(kind, embedding, centres, label=0, **options):
    module = MarginHead(kind, len(centres[0]), len(centres), **options)
    module.weight.data = torch.tensor(centres, dtype=torch.float32)
    logits, labels = module(torch.tensor([embedding], dtype=torch.float32), torch.tensor([label]))
    return logits[0].tolist(), labels.tolist()


def test_softmax_is_a_linear_layer():
    module = MarginHead("softmax", 2, 2)
    module.weight.data = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    module.bias.data = torch.tensor([0.5, -1.0])
    logits, _ = module(torch.tensor([[3.0, 4.0]]), torch.tensor([0]))
    assert logits[0].tolist() == pytest.approx([3.5, 3.0])


def test_arcface_adds_the_angle_margin_to_the_true_class_only():
    logits, _ = head("arcface", [3, 4], [[1, 0], [0, 1]], s=2.0, m=0.5)
    # cos(t + m) = 0.6 cos m - 0.8 sin m = 0.52654956 - 0.38354040 = 0.14300916
    assert logits == pytest.approx([2 * 0.14300916, 2 * 0.8], abs=1e-5)


def test_arcface_easy_margin_leaves_obtuse_angles_alone():
    # x = (-3, 4): cos t = (-0.6, 0.8). Easy margin: cos t_y <= 0 keeps -0.6.
    logits, _ = head("arcface", [-3, 4], [[1, 0], [0, 1]], s=2.0, m=0.5, easy_margin=True)
    assert logits == pytest.approx([-1.2, 1.6], abs=1e-5)
    # Without it: -0.6 > cos(pi - m) = -0.8775826, so cos(t + m) = -0.6 cos m - 0.8 sin m = -0.91008996
    logits, _ = head("arcface", [-3, 4], [[1, 0], [0, 1]], s=2.0, m=0.5)
    assert logits == pytest.approx([2 * -0.91008996, 1.6], abs=1e-5)


def test_arcface_past_pi_uses_the_linear_penalty():
    # cos t_y = -0.95 < cos(pi - m): cos t - m sin(pi - m) = -0.95 - 0.5 * 0.4794255 = -1.18971275
    y = math.sqrt(1 - 0.95 ** 2)
    logits, _ = head("arcface", [-0.95, y], [[1, 0], [0, 1]], s=1.0, m=0.5)
    assert logits[0] == pytest.approx(-1.18971275, abs=1e-5)


def test_cosface_subtracts_the_cosine_margin():
    logits, _ = head("cosface", [3, 4], [[1, 0], [0, 1]], s=2.0, m=0.35)
    assert logits == pytest.approx([0.5, 1.6], abs=1e-5)


def test_combined_margins():
    # m1 = 1, m2 = 0.5, m3 = 0.2: cos(t + 0.5) - 0.2 = 0.14300916 - 0.2
    logits, _ = head("combined", [3, 4], [[1, 0], [0, 1]], s=2.0, margins=(1.0, 0.5, 0.2))
    assert logits == pytest.approx([2 * -0.05699084, 1.6], abs=1e-5)
    # m1 = 2 alone: cos 2t = 2 cos^2 t - 1 = -0.28 (SphereFace's multiplicative margin)
    logits, _ = head("combined", [3, 4], [[1, 0], [0, 1]], s=1.0, margins=(2.0, 0.0, 0.0))
    assert logits[0] == pytest.approx(-0.28, abs=1e-5)


def test_sphereface_psi_and_the_feature_norm():
    # m = 4: k = floor(4 t / pi) = floor(1.1807) = 1; cos 4t = 8c^4 - 8c^2 + 1 = -0.8432;
    # psi = (-1)^1 (-0.8432) - 2 = -1.1568; logits scale by |x| = 5.
    logits, _ = head("sphereface", [3, 4], [[1, 0], [0, 1]], sphere_m=4)
    assert logits == pytest.approx([5 * -1.1568, 5 * 0.8], abs=1e-4)
    # lambda = 1 blends: (1 * 0.6 - 1.1568) / 2 = -0.2784
    logits, _ = head("sphereface", [3, 4], [[1, 0], [0, 1]], sphere_m=4, sphere_lambda=1.0)
    assert logits[0] == pytest.approx(5 * -0.2784, abs=1e-4)


def test_adacos_scale_starts_fixed_then_adapts():
    module = MarginHead("adacos", 2, 3)
    module.weight.data = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # cos t = (0.6, 0.8, -0.6)
    s0 = math.sqrt(2) * math.log(2)  # sqrt(2) ln(C - 1) = 0.98025814
    assert module.s == pytest.approx(s0)
    logits, _ = module(torch.tensor([[3.0, 4.0]]), torch.tensor([0]))
    assert logits[0].tolist() == pytest.approx([s0 * 0.6, s0 * 0.8, s0 * -0.6], abs=1e-5)
    # B_avg = exp(s0 0.8) + exp(-s0 0.6); t_med = 0.9273 > pi/4, so s = ln(B_avg) / cos(pi/4)
    b_avg = math.exp(s0 * 0.8) + math.exp(-s0 * 0.6)
    assert module.s == pytest.approx(math.log(b_avg) / math.cos(math.pi / 4), abs=1e-5)


def test_focal_loss_down_weights_easy_examples():
    # logits (0, ln 3): p = (0.25, 0.75); label 1, gamma 2: -(1 - 0.75)^2 ln 0.75 = 0.0625 * 0.28768207
    logits = torch.tensor([[0.0, math.log(3.0)]])
    assert float(focal_loss(logits, torch.tensor([1]), 2.0)) == pytest.approx(0.01798013, abs=1e-6)
    assert float(focal_loss(logits, torch.tensor([1]), 0.0)) == pytest.approx(0.28768207, abs=1e-6)  # = CE


def test_center_loss_is_half_the_squared_distance_times_lambda():
    center = CenterLoss(2, 2, weight=2.0)
    center.centers.data = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert center(torch.tensor([[1.0, 2.0]]), torch.tensor([0])).item() == pytest.approx(5.0)
    assert center(torch.tensor([[1.0, 2.0]]), torch.tensor([1])).item() == pytest.approx(1.0)


def test_recognition_loss_adds_center_loss_to_softmax():
    torch.manual_seed(0)
    loss = RecognitionLoss(MarginHead("softmax", 2, 2), "ce", center_weight=2.0)
    x, y = torch.tensor([[1.0, 2.0]]), torch.tensor([0])
    total, logits, _ = loss(x, y)
    expected = torch.nn.functional.cross_entropy(logits, y) + loss.center(x, y)
    assert total.item() == pytest.approx(expected.item())
    assert loss.center(x, y).item() == pytest.approx(5.0)


def test_partial_fc_samples_a_fraction_of_centres_and_keeps_the_batch_classes():
    torch.manual_seed(0)
    module = MarginHead("cosface", 4, 10, s=1.0, m=0.0, sample_rate=0.3)
    x, labels = torch.randn(2, 4), torch.tensor([7, 2])
    torch.manual_seed(1)
    logits, renumbered = module(x, labels)
    assert logits.shape == (2, 3)
    torch.manual_seed(1)
    index, _ = module.sample(labels)
    assert {2, 7} <= set(index.tolist())
    full = torch.nn.functional.normalize(x) @ torch.nn.functional.normalize(module.weight).T
    chosen = torch.nn.functional.normalize(module.weight)[index]
    assert torch.allclose(logits, torch.nn.functional.normalize(x) @ chosen.T, atol=1e-6)
    assert torch.allclose(logits.gather(1, renumbered[:, None]).squeeze(1), full[[0, 1], [7, 2]], atol=1e-6)
    module.eval()  # evaluation uses every centre
    assert module(x, labels)[0].shape == (2, 10)


def test_unknown_head_and_bad_rate_are_refused():
    with pytest.raises(ValueError, match="unknown head"):
        MarginHead("nope", 2, 2)
    with pytest.raises(ValueError, match="sample_rate"):
        MarginHead("arcface", 2, 2, sample_rate=0.0)
