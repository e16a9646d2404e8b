"""The tools as a new operator meets them: missing extras said up front, help, one-line errors, paths."""
from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from tests.reliability.helpers import ROOT, image_bytes

#: tool -> (the extra module it needs, argv that would start real work)
TOOLS = {
    "export_embeddings": ("h5py", lambda tmp: [str(tmp), str(tmp / "gallery.h5")]),
    "recognize": ("h5py", lambda tmp: [str(tmp / "gallery.h5"), str(tmp / "photo.png")]),
    "cluster_clean": ("sklearn", lambda tmp: [str(tmp)]),
    "evaluate_verification": ("matplotlib", lambda tmp: [str(tmp / "pairs.csv")]),
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_tool_without_its_extra_stops_before_any_work(tool, tmp_path, monkeypatch, capsys):
    module_name, argv = TOOLS[tool]
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "a.png").write_bytes(image_bytes("PNG", 32, 32))
    (tmp_path / "photo.png").write_bytes(image_bytes("PNG", 32, 32))
    (tmp_path / "pairs.csv").write_text("file_x,file_y,Decision\nalice/a.png,alice/a.png,Yes\n")
    (tmp_path / "gallery.h5").write_bytes(b"")
    module = importlib.import_module(f"tools.{tool}")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == module_name else real_find_spec(name, *a))

    def no_work(*args, **kwargs):
        raise AssertionError(f"{tool} started working without {module_name}")

    for name in ("embedder_from_args", "load_pairs", "list_images", "identity_folders"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, no_work)
    if hasattr(module, "gallery"):
        monkeypatch.setattr(module.gallery, "known_files", no_work)
    if hasattr(module, "galleries"):
        monkeypatch.setattr(module.galleries, "read", no_work)
    with pytest.raises(SystemExit) as stopped:
        module.main(argv(tmp_path))
    package = {"sklearn": "scikit-learn"}.get(module_name, module_name)
    assert str(stopped.value) == (f"error: tools.{tool} needs {package} (the tools' extra): "
                                  "pip install -e '.[tools]' (make install-dev installs it too)")


def test_readme_says_how_to_install_the_tools_extra():
    tools_section = (ROOT / "README.md").read_text().split("## Tools", 1)[1].split("\n## ", 1)[0]
    assert "pip install -e '.[tools]'" in tools_section and "h5py" in tools_section


def run_tool(*argv: str, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_calibrate_similarity_has_usage_and_one_line_errors(tmp_path):
    helped = run_tool("tools.calibrate_similarity", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: python -m tools.calibrate_similarity")
    assert "c0" in helped.stdout and "c1" in helped.stdout  # the docstring is the epilog, as for the other tools
    failed = run_tool("tools.calibrate_similarity", "--shared", str(tmp_path))
    assert failed.returncode == 1
    assert failed.stderr.strip() == (f"error: {tmp_path}/datasets/deepface is not a folder; "
                                     "--shared names the folder holding datasets/")
    assert "## calibrate_similarity" in (ROOT / "docs" / "tools.md").read_text()


def test_calibrate_similarity_shows_progress(tmp_path, monkeypatch):
    import numpy as np

    from tools import calibrate_similarity

    shown = []
    monkeypatch.setattr(calibrate_similarity, "progress", lambda items, desc: shown.append(desc) or items)
    (tmp_path / "a.png").write_bytes(image_bytes("PNG", 16, 16))

    class Faces:
        whole_face = staticmethod(lambda image: image)

        class calculator:  # noqa: N801 - stands in for the plugin object
            embed = staticmethod(lambda faces: np.ones((len(faces), 4), np.float32))

    vectors = calibrate_similarity.DlibFaces.embed_paths(Faces(), [tmp_path / "a.png"] * 2, True)
    assert shown == ["embed"] and len(vectors) == 1


SCRIPT = ROOT / "tools" / "test_memory_constraints.sh"


def test_memory_constraints_reports_a_missing_file_as_missing(tmp_path):
    done = subprocess.run([str(SCRIPT), "nothere.jpg"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MEM_LIMITS": "4G"})
    assert done.returncode == 2 and done.stderr.strip() == "error: no such file: nothere.jpg"


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is not installed")
def test_memory_constraints_resolves_paths_from_the_callers_folder(tmp_path):
    (tmp_path / "photo.png").write_bytes(image_bytes("PNG", 64, 64))
    done = subprocess.run([str(SCRIPT), "photo.png"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MEM_LIMITS": "4G", "EXTRA_PLUGINS": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK   4G {tmp_path / 'photo.png'}" in done.stdout


@pytest.mark.integration
def test_scan_says_where_its_pictures_went(tmp_path):
    (tmp_path / "photo.png").write_bytes(image_bytes("PNG", 64, 64))
    done = run_tool("tools.scan", str(tmp_path / "photo.png"), "--out", str(tmp_path / "drawn"),
                    env={"EXTRA_PLUGINS": "", "FACECORE_NO_PROGRESS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"1 drawn picture(s) in {tmp_path / 'drawn'}" in done.stderr
    assert (tmp_path / "drawn" / "photo.scan.jpg").exists()
