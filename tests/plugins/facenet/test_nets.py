"""The ONNX graphs built from the Keras weights compute what the Keras layers compute."""
from __future__ import annotations

import numpy as np
import pytest

from plugins.facenet import nets
from tests.plugins.facenet import reference


def run(model: bytes, pixels: np.ndarray) -> dict[str, np.ndarray]:
    from facecore.device import Device
    from facecore.onnx_session import open_session

    session = open_session(model, Device(), threads=1)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"image": pixels.astype(np.float32)})))


def random_weights(real: list[np.ndarray], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in real]


@pytest.mark.parametrize("kind, shape", [("pnet", (2, 37, 29, 3)), ("pnet", (1, 12, 12, 3)),
                                         ("rnet", (3, 24, 24, 3)), ("onet", (3, 48, 48, 3))])
@pytest.mark.parametrize("which", ["real", "random"])
def test_onnx_matches_numpy_reference(weights, kind, shape, which):
    layout = nets.LAYOUTS[kind]
    params = weights[kind] if which == "real" else random_weights(weights[kind], seed=len(shape) + shape[1])
    pixels = np.random.default_rng(7).uniform(0, 255, shape)
    got = run(nets.build(layout, params), pixels)
    expected = reference.forward(layout, params, pixels)
    assert list(got) == list(layout.outputs)
    for name in layout.outputs:
        assert got[name].shape == expected[name].shape, name
        np.testing.assert_allclose(got[name], expected[name], atol=1e-4, rtol=1e-4, err_msg=name)


def test_pnet_output_grid(weights):
    """P-Net maps an H x W image to a ceil((H - 2) / 2) - 4 grid of 12-pixel windows, stride 2."""
    got = run(nets.build(nets.PNET, weights["pnet"]), np.zeros((1, 100, 61, 3)))
    assert got["boxes"].shape == (1, 4, 45, 26)
    assert got["scores"].shape == (1, 2, 45, 26)
    np.testing.assert_allclose(got["scores"].sum(axis=1), 1.0, atol=1e-5)


def test_output_shapes_of_refining_nets(weights):
    assert {k: v.shape for k, v in run(nets.build(nets.RNET, weights["rnet"]), np.zeros((5, 24, 24, 3))).items()} \
        == {"boxes": (5, 4), "scores": (5, 2)}
    assert {k: v.shape for k, v in run(nets.build(nets.ONET, weights["onet"]), np.zeros((2, 48, 48, 3))).items()} \
        == {"boxes": (2, 4), "landmarks": (2, 10), "scores": (2, 2)}


def test_weight_count_is_checked(weights):
    with pytest.raises(ValueError, match="left over"):
        nets.build(nets.PNET, weights["pnet"] + [np.zeros(3, np.float32)])
    with pytest.raises(IndexError):
        nets.build(nets.RNET, weights["rnet"][:-2])


def test_normalisation_is_inside_the_graph(weights):
    """Mid-grey input (127.5) is exactly zero after normalisation, so the first conv sees only its bias."""
    params = [np.zeros_like(w) for w in weights["rnet"]]
    params[-1] = np.array([0.0, 1.0], np.float32)  # bias of the score head
    got = run(nets.build(nets.RNET, params), np.full((1, 24, 24, 3), 127.5))
    np.testing.assert_allclose(got["scores"], [[1 / (1 + np.e), np.e / (1 + np.e)]], atol=1e-6)
