"""Trained -> exported -> served: the service answers, through HTTP, the embeddings torch computes, and /status
shows the similarity coefficients stored beside the model."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.checkpoint import load_backbone  # noqa: E402
from training.evaluate import onnx_embedder, torch_embedder  # noqa: E402
from training.export import export_onnx, write_coefficients  # noqa: E402
from training.train import main as train  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.training.conftest import write_faces

    root = tmp_path_factory.mktemp("round_trip")
    faces = write_faces(root / "faces", identities=3, per_identity=4, seed=2)
    torch.set_num_threads(1)
    assert train(["--data", str(faces), "--out", str(root / "run"), "--backbone", "mobilefacenet",
                  "--embedding_size", "128", "--s", "16", "--m", "0.2", "--lr", "0.01", "--batch_size", "4", "--epochs", "1", "--progress", "false",
                  "--log_every", "0"]) == 0
    return root, faces


def test_export_is_dynamic_in_batch_and_equals_torch(trained, tmp_path):
    root, _ = trained
    model, _ = load_backbone(root / "run" / "last.pt")
    assert export_onnx(model, tmp_path / "m.onnx") <= 1e-4
    faces = np.random.default_rng(0).integers(0, 255, (5, 112, 112, 3), dtype=np.uint8)
    from_onnx, from_torch = onnx_embedder(tmp_path / "m.onnx")(faces), torch_embedder(model)(faces)
    assert from_onnx.shape == (5, 128)
    assert np.abs(from_onnx - from_torch).max() <= 1e-4


def test_the_service_serves_the_exported_model_by_name(trained, tmp_path):
    from facecore.app import create_app
    from facecore.config import load_settings
    from training.data import read_image

    root, faces = trained
    model, _ = load_backbone(root / "run" / "last.pt")
    folder = tmp_path / "models" / "insightface" / "calculator" / "my_model"
    folder.mkdir(parents=True)
    export_onnx(model, folder / "my_model.onnx")
    write_coefficients(folder / "my_model.onnx", 1.1, 7.5, 0.9)
    settings = load_settings({"MODELS_ROOT": str(tmp_path / "models"), "MODELS_OFFLINE": "true",
                              "EXTRA_PLUGINS": "", "CALCULATION_PLUGIN": "insightface.Calculator@my_model"})
    client = create_app(settings).test_client()
    status = client.get("/status").get_json()
    assert status["calculator_version"] == "insightface.Calculator@my_model"
    assert status["similarity_coefficients"] == [1.1, 7.5]

    photo = sorted((faces / "person1").iterdir())[0]
    response = client.post("/find_faces", query_string={"face_plugins": "calculator", "detect_faces": "false"},
                           data={"file": (io.BytesIO(photo.read_bytes()), photo.name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    served = np.array(response.get_json()["result"][0]["embedding"], np.float32)
    expected = torch_embedder(model)(read_image(photo)[None])[0]
    assert served.shape == (128,)
    assert np.abs(served - expected).max() <= 1e-4 * max(1.0, float(np.abs(expected).max()))


def test_unreadable_coefficients_stop_the_start_with_a_clear_error(trained, tmp_path):
    from facecore.app import create_app
    from facecore.config import load_settings
    from facecore.errors import StartupError

    root, _ = trained
    model, _ = load_backbone(root / "run" / "last.pt")
    folder = tmp_path / "models" / "insightface" / "calculator" / "broken"
    folder.mkdir(parents=True)
    export_onnx(model, folder / "broken.onnx")
    (folder / "broken.coefficients.json").write_text(json.dumps({"similarity_coefficients": "x"}))
    settings = load_settings({"MODELS_ROOT": str(tmp_path / "models"), "MODELS_OFFLINE": "true",
                              "EXTRA_PLUGINS": "", "CALCULATION_PLUGIN": "insightface.Calculator@broken"})
    with pytest.raises(StartupError, match="similarity coefficients"):
        create_app(settings)


def test_int8_export_stays_close_to_float(trained, tmp_path, capsys):
    from training.export import aligned_faces, main as export

    root, faces = trained
    assert export([str(root / "run" / "last.pt"), str(tmp_path / "m.onnx"), "--int8", "--calibration",
                   str(faces)]) == 0
    printed = capsys.readouterr().out
    assert "m.onnx:" in printed and "m.int8.onnx:" in printed and "ms/face" in printed
    images = aligned_faces(faces, 12)
    full, small = onnx_embedder(tmp_path / "m.onnx")(images), onnx_embedder(tmp_path / "m.int8.onnx")(images)
    cosine = np.sum(full * small, 1) / np.linalg.norm(full, axis=1) / np.linalg.norm(small, axis=1)
    assert cosine.min() > 0.9
    assert (tmp_path / "m.int8.onnx").stat().st_size < (tmp_path / "m.onnx").stat().st_size / 2


def test_int8_needs_calibration_faces(trained, tmp_path):
    from training.export import main as export

    root, _ = trained
    with pytest.raises(SystemExit):
        export([str(root / "run" / "last.pt"), str(tmp_path / "m.onnx"), "--int8"])


def fake_lfw(root, faces):
    """An LFW-shaped folder (Name/Name_0001.png) and a pairs.txt of 10 folds, 1 same + 1 different pair each."""
    import shutil

    for person in sorted(faces.iterdir()):
        (root / person.name).mkdir(parents=True)
        for number, photo in enumerate(sorted(person.iterdir()), 1):
            shutil.copy(photo, root / person.name / f"{person.name}_{number:04d}.png")
    lines = ["10 1"]
    for fold in range(10):
        lines += [f"person{fold % 3}\t1\t{2 + fold % 3}", f"person{fold % 3}\t1\tperson{(fold + 1) % 3}\t2"]
    (root / "pairs.txt").write_text("\n".join(lines) + "\n")
    return root


def test_evaluate_prints_the_lfw_report_and_export_stores_coefficients(trained, tmp_path, capsys):
    from training.evaluate import main as evaluate
    from training.export import main as export

    root, faces = trained
    lfw = fake_lfw(tmp_path / "lfw", faces)
    assert evaluate(["--model", str(root / "run" / "last.pt"), "--lfw", str(lfw)]) == 0
    report = capsys.readouterr().out
    for line in ("LFW: 20 pairs (0 dropped: no face)", "Accuracy/Val_same_accuracy mean:", "Accuracy/Val_diff_accuracy mean:",
                 "Accuracy/Val_accuracy mean:", "Accuracy/Val_accuracy std dev:", "AUC:", "Estimated threshold:"):
        assert line in report
    assert export([str(root / "run" / "last.pt"), str(tmp_path / "mine.onnx"), "--lfw", str(lfw)]) == 0
    stored = json.loads((tmp_path / "mine.coefficients.json").read_text())
    c0, c1 = stored["similarity_coefficients"]
    assert 0.0 < c0 < 2.0 and c1 > 0
    assert evaluate(["--model", str(tmp_path / "mine.onnx"), "--lfw", str(lfw), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["LFW"]
    assert figures["pairs"] == 20 and figures["c0"] == pytest.approx(c0)
