"""docs/writing-plugins.md shows the example package's files whole; this keeps the page and the tested code one."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"
BLOCK = re.compile(r"<!-- example: (?P<path>\S+) -->\n```\w*\n(?P<text>.*?)```", re.S)


def shown_files() -> dict[str, str]:
    return {m["path"]: m["text"] for m in BLOCK.finditer((ROOT / "docs" / "writing-plugins.md").read_text())}


def test_every_file_of_the_example_package_is_shown():
    files = {p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and "build" not in p.parts
             and ".egg-info" not in str(p)}
    assert set(shown_files()) == files


def test_each_shown_file_is_the_tested_one_to_the_letter():
    for path, text in shown_files().items():
        assert text == (EXAMPLE / path).read_text(), f"docs/writing-plugins.md shows an old {path}"


def test_the_example_imports_only_the_public_surface():
    for path in EXAMPLE.rglob("*.py"):
        imports = re.findall(r"^(?:from|import) (\S+)", path.read_text(), re.M)
        assert all(not name.startswith("src") for name in imports), path
