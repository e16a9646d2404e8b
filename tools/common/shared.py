"""Where the shared models and datasets live: ``../shared`` beside the checkout, or ``FACECORE_SHARED``.

The one definition for tools, benchmarks and tests. The folder exists on developers' machines and in CI,
not in a user's clone: callers say so when a path under it is missing.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def shared_root() -> Path:
    """``FACECORE_SHARED`` when set, else ``../shared`` beside the project root."""
    return Path(os.environ.get("FACECORE_SHARED", PROJECT_ROOT.parent / "shared"))
