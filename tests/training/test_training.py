"""The trainer end to end on tiny sets: the loss falls and a small model overfits; resume continues exactly;
two DDP processes (gloo, CPU) train exactly as one process with the same global batch."""
from __future__ import annotations

import json
import multiprocessing
import os

import pytest

torch = pytest.importorskip("torch")

from tests.training.conftest import real_faces  # noqa: E402
from training.config import TrainConfig, build_config, parse_args  # noqa: E402
from training.distributed import World, close_world, init_world  # noqa: E402
from training.train import Trainer, main  # noqa: E402

CPU = World(0, 1, 0, torch.device("cpu"))


def tiny(data, out, **changes) -> TrainConfig:
    base = dict(data=str(data), out=str(out), backbone="mobilefacenet", embedding_size=128, head="arcface", s=16.0,
                m=0.2, easy_margin=True, optimizer="sgd", lr=0.05, batch_size=4, epochs=1, progress=False,
                log_every=0)
    return build_config({**base, **changes})


@pytest.mark.integration
def test_loss_falls_and_a_small_model_overfits_real_faces(tmp_path):
    data = real_faces(tmp_path / "faces", identities=4)  # 8 real aligned photos of 4 people
    code = main(["--data", str(data), "--out", str(tmp_path / "run"), "--backbone", "mobilefacenet",
                 "--embedding_size", "128", "--head", "arcface", "--s", "16", "--m", "0.2", "--easy_margin",
                 "--optimizer", "adam", "--lr", "0.002", "--weight_decay", "0", "--batch_size", "8",
                 "--epochs", "25", "--progress", "false", "--log_every", "0"])
    assert code == 0
    epochs = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(epochs) == 25
    assert epochs[-1]["loss"] < epochs[0]["loss"] / 4
    assert epochs[-1]["train_accuracy"] == 1.0  # every photo classified as its own person
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "last.pt").exists()
    assert list((tmp_path / "run" / "tensorboard").iterdir())  # TensorBoard scalars were written


def test_resume_continues_with_the_uninterrupted_runs_loss(synthetic_faces, tmp_path):
    # 12 images, batch 4: 3 steps per epoch; stop after step 4 (inside epoch 2) and resume.
    straight = Trainer(tiny(synthetic_faces, tmp_path / "a", epochs=2, max_steps=6), CPU)
    straight.run()
    stopped = Trainer(tiny(synthetic_faces, tmp_path / "b", epochs=2, max_steps=4), CPU)
    stopped.run()
    resumed = Trainer(tiny(synthetic_faces, tmp_path / "b", epochs=2, max_steps=6,
                           resume=str(tmp_path / "b" / "last.pt")), CPU)
    resumed.run()
    assert stopped.step_losses == pytest.approx(straight.step_losses[:4], abs=1e-6)
    assert resumed.step_losses == pytest.approx(straight.step_losses[4:], abs=1e-6)
    for key, value in straight.model.state_dict().items():
        assert torch.allclose(value.float(), resumed.model.state_dict()[key].float(), atol=1e-6), key


def _ddp_worker(rank: int, port: int, data: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    world = init_world("cpu")
    try:
        Trainer(tiny(data, out, backbone="spherenet20", max_steps=2), world).run()
    finally:
        close_world(world)


@pytest.mark.integration
def test_two_gloo_processes_train_as_one_with_the_same_global_batch(synthetic_faces, tmp_path):
    # SphereNet-20 has no batch norm: on CPUs each DDP process normalises its own share of the batch
    # (SyncBatchNorm is GPU-only), so the exact comparison uses a backbone without it.
    from tests.reliability.helpers import free_port

    context = multiprocessing.get_context("spawn")
    port = free_port()
    workers = [context.Process(target=_ddp_worker, args=(rank, port, str(synthetic_faces), str(tmp_path / "ddp")))
               for rank in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
    assert [w.exitcode for w in workers] == [0, 0]
    single = Trainer(tiny(synthetic_faces, tmp_path / "one", backbone="spherenet20", max_steps=2), CPU)
    single.run()
    distributed = torch.load(tmp_path / "ddp" / "last.pt", weights_only=True)
    assert distributed["step"] == 2
    for key, value in single.model.state_dict().items():
        assert torch.allclose(value, distributed["model"][key], atol=1e-5), key
    head = single.loss.state_dict()["head.weight"]
    assert torch.allclose(head, distributed["loss"]["head.weight"], atol=1e-5)
    assert not torch.allclose(head, Trainer(tiny(synthetic_faces, tmp_path / "fresh"), CPU).loss.head.weight)


def test_config_files_and_options_fold_left_to_right(tmp_path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("lr: 0.4\nm: 0.35\nbackbone: iresnet50\n")
    second.write_text("m: 0.5\n")
    values = parse_args([str(first), "--m", "0.2", "--lr_steps", "[4, 8]", f"@{second}", "--easy-margin"])
    config = build_config(values)
    assert (config.lr, config.m, config.backbone, config.lr_steps, config.easy_margin) == (0.4, 0.5, "iresnet50",
                                                                                           [4, 8], True)
    assert build_config(parse_args([f"@{second}", "--m", "0.2"])).m == 0.2
    with pytest.raises(ValueError, match="unknown option 'nope'"):
        build_config(parse_args(["--nope", "1"]))


def test_help_lists_every_option(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "--sample_rate" in text and "--backbone 'mobilefacenet'" in text


def test_learning_rate_warms_up_then_steps_down():
    from training.schedule import learning_rate

    assert learning_rate(0.1, 0, 0, warmup_steps=4) == pytest.approx(0.025)
    assert learning_rate(0.1, 3, 0, warmup_steps=4) == pytest.approx(0.1)
    assert learning_rate(0.1, 100, 5, lr_steps=[4, 8]) == pytest.approx(0.01)
    assert learning_rate(0.1, 100, 9, lr_steps=[4, 8]) == pytest.approx(0.001)


def test_each_process_takes_its_own_share_of_the_global_batch():
    from training.train import epoch_batches

    one = epoch_batches(10, 4, seed=3, epoch=1, world=CPU)
    shares = [epoch_batches(10, 4, seed=3, epoch=1, world=World(rank, 2, rank, torch.device("cpu")))
              for rank in range(2)]
    assert len(one) == 2 and all(len(batch) == 4 for batch in one)  # the last partial batch is dropped
    for k, batch in enumerate(one):
        assert shares[0][k] + shares[1][k] == batch and not set(shares[0][k]) & set(shares[1][k])
    assert epoch_batches(10, 4, seed=3, epoch=2, world=CPU) != one  # a new order every epoch


def test_freeze_bn_keeps_the_stored_statistics_while_weights_move(synthetic_faces, tmp_path):
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "f", freeze_bn=True, max_steps=1), CPU)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    after = trainer.model.state_dict()
    statistics = [k for k in before if k.endswith(("running_mean", "running_var"))]
    assert statistics and all(torch.equal(before[k], after[k]) for k in statistics)
    assert not torch.equal(before["head.fc.weight"], after["head.fc.weight"])


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "is neither a folder, a .rec file nor a list file" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "o")]) == 2
    assert "no training data" in capsys.readouterr().err


def test_a_time_limit_cuts_the_epoch_short_and_still_evaluates(synthetic_faces, tmp_path):
    trainer = Trainer(tiny(synthetic_faces, tmp_path / "t", epochs=5, time_limit_minutes=1e-6), CPU)
    trainer.run()
    assert len(trainer.step_losses) == 1 and trainer.position.epoch == 1
    assert (tmp_path / "t" / "metrics.jsonl").read_text().count("\n") == 1
