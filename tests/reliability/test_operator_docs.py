"""What an operator reads is what the code does: the README's plugin table and download_models' report."""
from __future__ import annotations

import re
import shutil

import pytest

from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tests.reliability.helpers import ROOT
from tests.shared_data import shared_path
from tools import download_models

ROW = re.compile(r"^\| (`[^|]+`) \| [^|]+ \| ([^|]+) \|")


def plugin_table() -> list[tuple[list[str], str]]:
    """(plugin names, models cell) of each row of the README's plugin table."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| plugin | slug | models"):].split("\n\n", 1)[0]
    rows = [ROW.match(line) for line in table.splitlines()[2:]]
    return [(re.findall(r"`([^`]+)`", row.group(1)), row.group(2)) for row in rows if row]


def test_readme_plugin_table_names_each_plugins_default_model_first():
    registry = PluginRegistry.from_manager(build_plugin_manager())
    listed = set()
    for names, models in plugin_table():
        first = re.search(r"`([^`]+)`", models)
        for name in names:
            plugin_cls = registry.classes[name]
            default = plugin_cls.find_model(None)
            listed.add(name)
            if default is None:
                assert first is None, f"{name} takes no model, the README names {first.group(1)}"
            else:
                assert first is not None and first.group(1) == default.name, (name, default.name, models)
                assert set(re.findall(r"`([^`]+)`", models)) <= set(plugin_cls.model_names()) | {"arcface_*"}
    built_in = {n for n in registry.names() if registry.classes[n].__module__.startswith("plugins.")}
    assert listed == built_in  # every built-in plugin has its row


def test_download_models_from_reports_a_model_in_the_store_as_present(tmp_path, capsys):
    model = shared_path("models/yunet_s_640_640.onnx")
    incoming, empty, root = tmp_path / "incoming", tmp_path / "empty", tmp_path / "store"
    incoming.mkdir()
    empty.mkdir()
    shutil.copy(model, incoming / "face_detection_yunet_2023mar.onnx")
    selection = ["--root", str(root), "--plugins", "opencv.FaceDetector@yunet_2023mar", "--no-prepare"]
    assert download_models.main([*selection, "--from", str(incoming)]) == 0
    assert "ok   opencv.FaceDetector" in capsys.readouterr().out
    assert download_models.main([*selection, "--from", str(empty)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "present opencv.FaceDetector" in out and "FAIL" not in out


@pytest.mark.parametrize("content", [b"altered"])
def test_download_models_from_still_fails_on_an_altered_file_in_the_store(tmp_path, capsys, content):
    target = tmp_path / "store" / "opencv" / "detector" / "yunet_2023mar" / "face_detection_yunet_2023mar.onnx"
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    (tmp_path / "empty").mkdir()
    code = download_models.main(["--root", str(tmp_path / "store"), "--plugins", "opencv.FaceDetector@yunet_2023mar",
                                 "--no-prepare", "--from", str(tmp_path / "empty")])
    assert code == 1 and "FAIL opencv.FaceDetector" in capsys.readouterr().err
