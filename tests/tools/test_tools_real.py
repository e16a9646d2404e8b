"""Every tool on real images from ../shared/datasets with the real default plugins (integration)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import shared_path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("scan", "benchmark_detection", "optimize_detection_params", "evaluate_verification", "export_embeddings",
         "recognize", "cluster_clean", "load")


@pytest.fixture(autouse=True)
def no_bars(monkeypatch):
    monkeypatch.setenv("FACECORE_NO_PROGRESS", "1")


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_has_help(tool):
    done = subprocess.run([sys.executable, "-m", f"tools.{tool}", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "usage:" in done.stdout


@pytest.mark.integration
def test_scan_reports_annotation_errors(tmp_path, capsys):
    from tools import scan

    couple = shared_path("datasets/deepface/couple.jpg")
    shutil.copy(couple, tmp_path / "couple.jpg")
    (tmp_path / "right.json").write_text(json.dumps({"couple.jpg": [[780, 1000], [1820, 760]]}))
    (tmp_path / "wrong.json").write_text(json.dumps({"couple.jpg": [[780, 1000]]}))
    assert scan.main([str(tmp_path / "couple.jpg"), "--annotations", str(tmp_path / "right.json"),
                      "--out", str(tmp_path / "out")]) == 0
    body = json.loads(capsys.readouterr().out.splitlines()[0])
    assert len(body["result"]) == 2 and {f["gender"]["value"] for f in body["result"]} == {"male", "female"}
    assert (tmp_path / "out" / "couple.scan.jpg").stat().st_size > 10_000
    assert scan.main([str(tmp_path / "couple.jpg"), "--annotations", str(tmp_path / "wrong.json"),
                      "--out", str(tmp_path / "out"), "--plugins", "calculator"]) == 1
    assert "extra face" in capsys.readouterr().err


@pytest.mark.integration
def test_benchmark_detection_on_dlib_faces(tmp_path, capsys):
    from tools import benchmark_detection

    folder = shared_path("datasets/dlib-faces")
    assert benchmark_detection.main(["--detectors", "dlib.FaceDetector@hog", "facenet.FaceDetector",
                                     "--annotations", str(folder / "testing.xml"), "--out", str(tmp_path)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| dlib") or
            line.startswith("| facenet")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert int(cells[2]) == 25 and float(cells[4]) >= 0.9 and float(cells[5]) >= 0.9  # faces, precision, recall


@pytest.mark.integration
def test_optimize_detection_params_writes_a_usable_env_file(tmp_path):
    from facecore.config import load_settings
    from tools import optimize_detection_params

    folder = shared_path("datasets/dlib-faces")
    env_file = tmp_path / "detection.env"
    assert optimize_detection_params.main(["--detector", "dlib.FaceDetector@hog", "--thresholds", "0.05", "0.5",
                                           "0.99", "--limits", "320", "640", "--annotations",
                                           str(folder / "testing.xml"), "--env-file", str(env_file)]) == 0
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and line[0] != "#")
    settings = load_settings(env)
    assert settings.img_length_limit == 640 and settings.det_prob_threshold == 0.5
    assert "errors 0" in env_file.read_text()


@pytest.mark.integration
def test_verification_reproduces_the_calibration_on_lfw_pairs(tmp_path, capsys):
    from tools import evaluate_verification

    folder = shared_path("datasets/lfw-aligned-100pair")
    assert evaluate_verification.main([str(folder), "--no-detect", "--json", "--out", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out)
    # docs/calibration.md: best accuracy 0.970 at threshold 0.4111, ROC AUC 0.9896 on these 200 pairs.
    assert figures["pairs"] == 200 and figures["dropped"] == 0
    assert figures["best_accuracy"] == pytest.approx(0.970, abs=0.006)
    assert figures["auc"] == pytest.approx(0.9896, abs=0.002)
    assert figures["best_threshold"] == pytest.approx(0.4111, abs=0.005)
    assert 0.93 <= figures["accuracy_mean"] <= 0.98
    assert Path(figures["roc_png"]).stat().st_size > 5_000


@pytest.mark.integration
def test_export_then_recognize(tmp_path, capsys):
    from tools import export_embeddings, recognize
    from tools.common import gallery

    deepface = shared_path("datasets/deepface")
    for name, numbers in (("alice", (1, 2)), ("bob", (8, 9))):
        (tmp_path / "people" / name).mkdir(parents=True)
        for k in numbers:
            shutil.copy(deepface / f"img{k}.jpg", tmp_path / "people" / name)
    store = tmp_path / "g.h5"
    assert export_embeddings.main([str(tmp_path / "people"), str(store), "--thumbnails", "32", "--batch", "3"]) == 0
    shutil.copy(deepface / "img47.jpg", tmp_path / "people" / "bob")
    assert export_embeddings.main([str(tmp_path / "people"), str(store)]) == 0
    assert "4 image(s) already" in capsys.readouterr().out
    saved = gallery.read(store)
    assert sorted(saved.labels) == ["alice", "alice", "bob", "bob", "bob"] and saved.embeddings.shape == (5, 128)
    assert recognize.main([str(store), str(deepface / "img4.jpg"), str(deepface / "img48.jpg"),
                           str(deepface / "img13.jpg"), "--out", str(tmp_path / "out")]) == 0
    names = [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()]
    assert names == ["alice", "bob", "unknown"]
    assert (tmp_path / "out" / "img4.recognized.jpg").exists()


@pytest.mark.integration
def test_cluster_clean_rejects_the_intruder(tmp_path, capsys):
    from tools import cluster_clean

    deepface = shared_path("datasets/deepface")
    folder = tmp_path / "alice"
    folder.mkdir()
    for k in (1, 2, 4, 5, 6, 7):
        shutil.copy(deepface / f"img{k}.jpg", folder)
    shutil.copy(deepface / "img29.jpg", folder / "img99.jpg")  # another identity group
    out = tmp_path / "out"
    assert cluster_clean.main([str(folder), "--out", str(out)]) == 0
    assert not (out / "clean").exists()  # a dry run copies nothing
    assert cluster_clean.main([str(folder), "--out", str(out), "--apply", "--metric", "cosine"]) == 0
    assert sorted(p.name for p in (out / "rejects").iterdir()) == ["img99.jpg"]
    assert len(list((out / "clean").iterdir())) == 6 and (out / "rejects.png").exists()
    assert len(list(folder.iterdir())) == 7


@pytest.mark.integration
def test_memory_constraints_script_with_a_short_list():
    image = shared_path("datasets/deepface/img1.jpg")
    env = {**os.environ, "MEM_LIMITS": "200M 4G", "EXTRA_PLUGINS": "", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "tools" / "test_memory_constraints.sh"), str(image)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"FAIL 200M {image}" in done.stdout and f"OK   4G {image}" in done.stdout
    assert "smallest limit that fits every image: 4G" in done.stdout


@pytest.mark.integration
def test_export_skips_faces_under_min_quality(tmp_path, capsys):
    import cv2

    from tools import export_embeddings
    from tools.common import gallery

    deepface = shared_path("datasets/deepface")
    folder = tmp_path / "people" / "alice"
    folder.mkdir(parents=True)
    for k in (1, 2):
        shutil.copy(deepface / f"img{k}.jpg", folder)
    sharp = cv2.imread(str(deepface / "img4.jpg"))
    cv2.imwrite(str(folder / "blurred.jpg"), cv2.GaussianBlur(sharp, (0, 0), 25))  # 700-px face: ~4 px of its aligned crop
    store = tmp_path / "g.h5"
    assert export_embeddings.main([str(tmp_path / "people"), str(store), "--min-quality", "0.6"]) == 0
    captured = capsys.readouterr()
    assert "1 under quality 0.6" in captured.out and "blurred.jpg" in captured.err
    assert sorted(gallery.read(store).files) == ["alice/img1.jpg", "alice/img2.jpg"]
    with pytest.raises(SystemExit):
        export_embeddings.main([str(tmp_path / "people"), str(store), "--min-quality", "1.5"])


def test_min_quality_helpers():
    from tools.common.quality import QUALITY_PLUGIN, good_enough, quality_extras, slugs_with_quality

    assert quality_extras(None) == () and quality_extras(0.5) == (QUALITY_PLUGIN,)
    assert slugs_with_quality(("calculator",), None) == ("calculator",)
    assert slugs_with_quality(("calculator",), 0.5) == ("calculator", "quality")
    assert good_enough({}, None) and good_enough({"quality": {"score": 0.7}}, 0.5)
    assert not good_enough({"quality": {"score": 0.3}}, 0.5)
    with pytest.raises(ValueError, match="EXTRA_PLUGINS"):
        good_enough({"embedding": [0.0]}, 0.5)
