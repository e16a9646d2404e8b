"""The tools' optional packages (the ``tools`` extra), checked when a tool starts, before any work.

Why: ``make run`` and ``pip install -r requirements.txt`` install the service only; a tool that found
h5py missing after embedding every image lost the whole run.
"""
from __future__ import annotations

import importlib.util

#: module -> the pip name of the package that provides it
TOOLS_EXTRA = {"h5py": "h5py", "sklearn": "scikit-learn", "matplotlib": "matplotlib"}
INSTALL = "pip install -e '.[tools]' (make install-dev installs it too)"


def require(tool: str, *modules: str) -> None:
    """Stop ``tool`` with one line naming what to install when any of ``modules`` is missing."""
    missing = [TOOLS_EXTRA.get(module, module) for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise SystemExit(f"error: {tool} needs {', '.join(missing)} (the tools' extra): {INSTALL}")
