"""Fine-tuning's starting point: an ONNX calculator read as a trainable torch module gives ONNX Runtime's output."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.onnx_import import OnnxModule, UnsupportedOnnx  # noqa: E402


def test_an_exported_backbone_reads_back_and_trains(tmp_path):
    from training.export import export_onnx
    from training.models import build_backbone

    torch.manual_seed(0)
    model = build_backbone("iresnet18", 128).eval()
    export_onnx(model, tmp_path / "r18.onnx")
    module = OnnxModule(tmp_path / "r18.onnx").eval()
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        assert torch.allclose(module(x), model(x), atol=1e-4)
    module.train()
    module.frozen_batch_norm = True  # fine-tuning: batch norm uses the stored statistics even in training
    with torch.no_grad():
        assert torch.allclose(module(x), model(x), atol=1e-4)
    module.frozen_batch_norm = False
    module(x).pow(2).sum().backward()
    grads = [p.grad for p in module.parameters()]
    assert grads and all(g is not None for g in grads)


@pytest.mark.integration
def test_mobileface_v2_converted_from_mxnet_matches_onnx_runtime(tmp_path):
    import onnxruntime as ort

    from srcext.mxnet.cache import convert_cached
    from tests.shared_data import shared_path

    folder = shared_path("models/mxnet/mobileface_v2")
    path = convert_cached(folder / "MobileFace_Identification_V2-symbol.json",
                          folder / "MobileFace_Identification_V2-0000.params", (1, 3, 112, 112), out_dir=tmp_path)
    faces = np.random.default_rng(0).integers(0, 255, (2, 112, 112, 3)).astype(np.float32)
    expected = ort.InferenceSession(str(path)).run(None, {"data": faces.transpose(0, 3, 1, 2)})[0]
    module = OnnxModule(path).eval()  # takes the trainer's (x - 127.5) / 127.5; the graph's own scaling is folded
    with torch.no_grad():
        got = module((torch.from_numpy(faces).permute(0, 3, 1, 2) - 127.5) / 127.5).numpy()
    assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()
    thresholds = {name for op, inputs, _, _ in module.nodes if op in ("Max", "Min") for name in inputs[1:]}
    trainable = {key for key, _ in module.named_parameters()}
    assert thresholds and not {module.names[name] for name in thresholds} & trainable  # ReLU6 bounds stay put
    assert module.fold_batch_norm() == 38  # all of them: each follows a Conv or the last Gemm
    with torch.no_grad():
        folded = module((torch.from_numpy(faces).permute(0, 3, 1, 2) - 127.5) / 127.5).numpy()
    assert np.abs(folded - expected).max() <= 1e-4 * np.abs(expected).max()


def test_freezing_batch_norm_folds_it_into_the_layer_before_it(tmp_path):
    from training.export import export_onnx
    from training.models import build_backbone

    torch.manual_seed(0)
    model = build_backbone("iresnet18", 128)
    model.train()(torch.randn(8, 3, 112, 112))  # statistics other than the initial 0 and 1
    export_onnx(model.eval(), tmp_path / "r18.onnx")
    module = OnnxModule(tmp_path / "r18.onnx").eval()
    batch_norms = sum(op == "BatchNormalization" for op, *_ in module.nodes)
    folded = module.fold_batch_norm()
    left = [inputs for op, inputs, _, _ in module.nodes if op == "BatchNormalization"]
    assert folded > 0 and len(left) == batch_norms - folded  # IResNet's block-opening BN follows an Add
    producers = {outputs[0]: op for op, _, outputs, _ in module.nodes}
    assert all(producers.get(inputs[0]) not in ("Conv", "Gemm") for inputs in left)
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        assert torch.allclose(module(x), model(x), atol=1e-4)
    module(x).pow(2).sum().backward()
    assert all(p.grad is not None for p in module.parameters())  # no orphaned gamma or beta left behind


def test_an_unknown_operator_is_named(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Erf", ["data"], ["out"])], "g",
                              [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 112, 112])])
    onnx.save(helper.make_model(graph), tmp_path / "erf.onnx")
    with pytest.raises(UnsupportedOnnx, match="no operator Erf"):
        OnnxModule(tmp_path / "erf.onnx")
