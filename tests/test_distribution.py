"""What the installed distribution claims: the core is the package ``facecore`` (built from ``src/``), and no
top-level package named ``src`` ships for outside code to depend on."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked_copy(destination: Path) -> Path:
    """The tracked files only (links kept as links), so a stale ``build/`` of the checkout cannot leak in."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell tracked files from build leftovers")
    for name in filter(None, listed.stdout.split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    return destination


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    source = tracked_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("face_core-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.integration
def test_wheel_ships_the_core_as_facecore_and_no_src_package(wheel_names: set[str]) -> None:
    top_level = {name.split("/", 1)[0] for name in wheel_names if "/" in name and ".dist-info" not in name}
    assert "src" not in top_level
    assert {"facecore", "plugins", "srcext", "tools", "training"} <= top_level
    assert {"facecore/__init__.py", "facecore/app.py", "facecore/web/endpoints.py"} <= wheel_names
    sources = {path.relative_to(ROOT / "src").as_posix() for path in (ROOT / "src").rglob("*.py")}
    assert {name.removeprefix("facecore/") for name in wheel_names if name.startswith("facecore/")} >= sources


def test_the_core_cannot_be_imported_twice_under_the_folder_name() -> None:
    done = subprocess.run([sys.executable, "-c", "import src"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "import the core as 'facecore'" in done.stderr
