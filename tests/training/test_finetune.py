"""Fine-tuning without forgetting: frozen batch norm, an imprinted head, head-only epochs, feature and weight
anchors to the starting backbone, and best.pt chosen by validation (the start included)."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from tests.training.test_training import CPU, tiny  # noqa: E402
from training.train import Trainer, selection_score  # noqa: E402


def _backbone(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def _drift(trainer: Trainer, start: dict[str, torch.Tensor]) -> float:
    now = trainer.model.state_dict()
    return float(sum(((now[k].float() - v.float()) ** 2).sum() for k, v in start.items() if v.is_floating_point()))


def test_imprinted_head_starts_at_each_identitys_mean_embedding(synthetic_faces, tmp_path):
    import torch.nn.functional as F

    from training.data import to_tensor_batch

    trainer = Trainer(tiny(synthetic_faces, tmp_path / "i", head_init="imprint"), CPU)
    model = trainer.model.eval()
    for label, name in enumerate(trainer.samples.names):
        photos = [trainer.samples.loaders[i]() for i, y in enumerate(trainer.samples.labels) if y == label]
        with torch.no_grad():
            mean = F.normalize(model(to_tensor_batch(photos))).mean(0)
        assert torch.allclose(trainer.loss.head.weight[label], F.normalize(mean, dim=0), atol=1e-5), name
    with pytest.raises(ValueError, match="cosine head"):
        Trainer(tiny(synthetic_faces, tmp_path / "s", head="softmax", head_init="imprint"), CPU)
    with pytest.raises(ValueError, match="unknown head_init"):
        Trainer(tiny(synthetic_faces, tmp_path / "u", head_init="zeros"), CPU)


def test_head_only_epochs_leave_the_backbone_untouched_then_it_trains(synthetic_faces, tmp_path):
    # 12 photos, batch 4: 3 steps per epoch; the first epoch trains the head alone.
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "h", epochs=2, freeze_backbone_epochs=1, max_steps=3), CPU)
    start, head = _backbone(trainer), trainer.loss.head.weight.detach().clone()
    trainer.run()
    assert _drift(trainer, start) == 0.0  # weights and batch-norm statistics as they were
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in start.items())
    assert not torch.equal(head, trainer.loss.head.weight)
    resumed = Trainer(tiny(synthetic_faces, tmp_path / "h", epochs=2, freeze_backbone_epochs=1, max_steps=4,
                           resume=str(tmp_path / "h" / "last.pt")), CPU)
    resumed.run()
    assert _drift(resumed, start) > 0.0  # epoch 2: the backbone trains too


def test_a_pretrained_onnx_backbone_with_frozen_batch_norm_folds_it_and_keeps_the_rest(tmp_path, synthetic_faces):
    from training.export import export_onnx
    from training.models import build_backbone
    from training.onnx_import import OnnxModule

    torch.manual_seed(0)
    export_onnx(build_backbone("iresnet18", 128), tmp_path / "start.onnx")
    unfolded = OnnxModule(tmp_path / "start.onnx")
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "p", pretrained=str(tmp_path / "start.onnx"), freeze_bn=True,
                           max_steps=2), CPU)
    probe = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        assert torch.allclose(trainer.model.eval()(probe), unfolded.eval()(probe), atol=1e-4)
    statistics = {name for op, inputs, _, _ in trainer.model.nodes if op == "BatchNormalization"
                  for name in inputs[3:5]}
    start = _backbone(trainer)
    trainer.run()
    now = trainer.model.state_dict()
    assert statistics and all(torch.equal(start[trainer.model.names[n]], now[trainer.model.names[n]])
                              for n in statistics)  # the batch norms left (after an Add) keep their statistics
    assert _drift(trainer, start) > 0.0  # while the weights moved
    unfrozen = Trainer(tiny(synthetic_faces, tmp_path / "q", pretrained=str(tmp_path / "start.onnx"), max_steps=2),
                       CPU)
    unfrozen.run()
    assert not all(torch.equal(getattr(unfolded, unfolded.names[n]), getattr(unfrozen.model, unfrozen.model.names[n]))
                   for n in statistics)


def test_the_feature_anchor_starts_at_zero_and_holds_embeddings_near_the_start(synthetic_faces, tmp_path):
    probe = torch.randn(6, 3, 112, 112, generator=torch.Generator().manual_seed(1))

    def embedding_shift(weight: float) -> tuple[float, Trainer]:
        trainer = Trainer(tiny(synthetic_faces, tmp_path / f"d{weight}", freeze_bn=True, lr=0.2, epochs=3,
                               distill_weight=weight), CPU)
        with torch.no_grad():
            before = torch.nn.functional.normalize(trainer.model.eval()(probe))
        trainer.run()
        with torch.no_grad():
            after = torch.nn.functional.normalize(trainer.model.eval()(probe))
        return float((after - before).pow(2).sum(1).mean()), trainer

    free, plain = embedding_shift(0.0)
    anchored, trainer = embedding_shift(50.0)
    assert trainer.anchor_losses[0] == pytest.approx(0.0, abs=1e-10)  # the teacher is the start, frozen
    assert max(trainer.anchor_losses) > 0.0 and set(plain.anchor_losses) == {0.0}
    assert anchored < free / 2


def test_l2sp_holds_the_weights_near_the_start_instead_of_decaying_them(synthetic_faces, tmp_path):
    def weight_shift(weight: float) -> float:
        trainer = Trainer(tiny(synthetic_faces, tmp_path / f"w{weight}", lr=0.2, epochs=3, l2sp_weight=weight), CPU)
        start = _backbone(trainer)
        backbone_decay = trainer.optimizer.param_groups[0]["weight_decay"]
        assert backbone_decay == (0.0 if weight else trainer.config.weight_decay)
        trainer.run()
        return _drift(trainer, {k: v for k, v in start.items() if "running" not in k and "num_batches" not in k})

    assert weight_shift(2.0) < weight_shift(0.0) / 2


def test_best_checkpoint_is_chosen_by_validation_and_starts_at_the_untrained_model(synthetic_faces, tmp_path):
    record = {"train_accuracy": 0.9, "val_accuracy": 0.7, "lfw_accuracy": 0.99, "agedb_30_accuracy": 0.8}
    assert selection_score(record) == 0.7  # never LFW while a validation set is there
    assert selection_score({k: v for k, v in record.items() if k != "val_accuracy"}) == 0.99
    assert selection_score({"train_accuracy": 0.9, "agedb_30_accuracy": 0.8}) == 0.8
    assert selection_score(record, "lfw") == 0.99 and selection_score(record, "train") == 0.9
    with pytest.raises(ValueError, match="select_by 'lfw'"):
        Trainer(tiny(synthetic_faces, tmp_path / "x", select_by="lfw"), CPU)
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "b", val=str(synthetic_faces), eval_before=True,
                           max_steps=1), CPU)
    trainer.run()
    best = torch.load(tmp_path / "b" / "best.pt", weights_only=True)
    start = json.loads((tmp_path / "b" / "metrics.jsonl").read_text().splitlines()[0])
    assert best["step"] == 0 and best["best"] == start["val_accuracy"] == trainer.best


@pytest.mark.parametrize("pretrained", [False, True])
def test_the_first_layers_stay_fixed_and_the_rest_trains(synthetic_faces, tmp_path, pretrained):
    from training.finetune import weight_layers

    changes = {"freeze_backbone_layers": 3, "max_steps": 2}
    if pretrained:
        from training.export import export_onnx
        from training.models import build_backbone

        torch.manual_seed(0)
        export_onnx(build_backbone("mobilefacenet", 128), tmp_path / "start.onnx")
        changes.update(pretrained=str(tmp_path / "start.onnx"), freeze_bn=True)
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "l", **changes), CPU)
    layers = weight_layers(trainer.model)
    start = [[p.detach().clone() for p in params] for params in layers]
    trainer.run()
    moved = [any(not torch.equal(p, p0) for p, p0 in zip(params, before)) for params, before in zip(layers, start)]
    assert moved[:3] == [False, False, False] and all(moved[3:])
    assert not any(p.requires_grad for params in layers[:3] for p in params)
