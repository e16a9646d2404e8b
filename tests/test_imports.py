"""Every module of the project imports cleanly on its own, with warnings as errors (a deprecation in an
import path would otherwise surface only when that path runs)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("facecore", "plugins", "srcext", "tools")  # facecore is src/, by the name it is installed under


def all_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_with_warnings_as_errors():
    modules = all_modules()
    assert len(modules) > 100
    script = ("import importlib, sys\n"
              "for name in sys.argv[1:]:\n"
              "    try:\n"
              "        importlib.import_module(name)\n"
              "    except BaseException as error:\n"
              "        print(f'{name}: {type(error).__name__}: {error}')\n")
    done = subprocess.run([sys.executable, "-W", "error", "-c", script, *modules], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr[-2000:]
